/**
 * The offload job queue: the PrimitiveExecutor every `accel.subtle` call and
 * every `accel.queue.submit` goes through.
 *
 * Flow of one job: `submit` takes a pooled record and a promise and appends the
 * record to the backlog; the first submission of a tick schedules one flush (a
 * microtask), which assigns backlog jobs to queue pairs (Scheduler) and rings
 * each queue pair's doorbell once for everything it got this tick. Each lane
 * harvests its completions (interrupt, or busy polling under load) and the
 * queue settles the job, retries it elsewhere, or fails it.
 *
 * Guarantees: every accepted job settles exactly once (a record is settled only
 * from the state that owns it, and a late, stale or duplicated completion finds
 * its tag freed or its record discarded); no job settles after `close()`
 * resolves; no timer, immediate or interrupt wait remains while idle or after
 * close.
 *
 * Recovery (like a kernel driver's error handler): a device leaves service when
 * it fails or goes gone, when one of its queue pairs throws, or when faults
 * reported against it (DeviceEntry.reportFault: integrity-gate failures, device
 * errors, nonsense or duplicate completions, stalls) reach `faultThreshold`
 * within `faultWindowMs`. Its jobs are re-run elsewhere. The queue then resets
 * it and runs the known-answer self-test (core/selftest) on it, and returns it to
 * service only if that passes; otherwise it retries after an exponential backoff
 * (`recoveryBackoffMs`, doubling, at most `recoveryBackoffMaxMs`), up to
 * `recoveryAttempts` times, after which the device stays out. A device that went
 * gone (surprise removal) is tried again when it reports `ready` (present again).
 * While every device that could run a job is out of service, the job fails with
 * DeviceGoneError naming those devices and why.
 *
 * Stalls: each queue pair learns, per operation class, its completion latency and
 * the cost of one job in flight (latency ÷ jobs ahead of it + 1; latency.ts). Stalls
 * are judged by progress, not by age (a job's latency legitimately grows with the work
 * queued ahead of it). A queue pair with jobs out is stalled when (1) nothing has
 * completed on it for `stallFactor` × the latency of its oldest job's class plus the
 * learned cost of every job the device holds, counted from the later of that job's
 * doorbell and the last completion; or (2) its oldest job was overtaken (jobs sent after
 * it came back) and is still out `stallFactor` × its class's latency after that was
 * seen (a lost completion). Both within [`stallFloorMs`, `stallCeilingMs`] (the floor 4×
 * while the class has fewer than 8 samples; the ceiling for a class never seen), and
 * only when a harvest then finds nothing waiting, and again after the event loop has
 * polled its I/O once more (a loop blocked by the application would otherwise judge a
 * link to another process silent with its answers unread). A stalled
 * queue pair is abandoned (reset through `QueuePair.abandon`, which reclaims its
 * descriptors) and its live jobs retried elsewhere first. `stallTimeoutMs`, when
 * given, replaces the learned limit with a fixed one.
 *
 * close(): stops intake at once (new submissions reject with DeviceGoneError);
 * by default drains, that is waits until every accepted job has settled (each
 * is still bounded by its deadline and by stall detection); with
 * `{ drain: false }`, or when the close signal aborts, rejects what is left
 * with DeviceGoneError. It does not close the devices: whoever opened them
 * (the accelerator) closes them afterwards.
 */

import { Observable, Subject, type Subscriber } from 'rxjs';
import type {
  Alternative,
  AlternativeResult,
  Completion,
  Device,
  DeviceEvent,
  DeviceInfo,
  DeviceState,
  Finish,
  PrimitiveExecutor,
  Witness,
} from '../driver/device.js';
import {
  AbortedError,
  DeviceError,
  DeviceGoneError,
  InvalidInputError,
  PkaccelError,
  QueueFullError,
  TimeoutError,
  UnsupportedError,
} from '../driver/errors.js';
import type { PrimitiveRequest, PrimitiveValue, ResultOf } from '../driver/primitives.js';
import { type IntegrityFailure, IntegrityGate } from '../integrity/gate.js';
import { AbortWatch } from './abort-watch.js';
import { Backlog } from './backlog.js';
import { DeadlineTimer } from './deadline-timer.js';
import { DeviceEntry, type DeviceFaultKind, type FaultSink, type RecoveryState } from './device-entry.js';
import type { QueueEvent } from './events.js';
import { JobPool, type JobRecord, JobState, promiseFor } from './job.js';
import type { Lane, LaneOwner } from './lane.js';
import { operationClass, stallLimit } from './latency.js';
import {
  type QueueOptions,
  type ResolvedQueueOptions,
  resolveQueueOptions,
  type SubmitOptions,
} from './options.js';
import { type ProcessOptions, processRequests } from './process.js';
import { Scheduler } from './scheduler.js';
import { type QueueStats, type QueueTotals, snapshotStats } from './stats.js';

/**
 * How `accel.close(options)` ends the work already accepted: by default it waits
 * for every accepted job to settle (each bounded by its deadline and by stall
 * detection); `drain: false` or an aborted `signal` rejects what is left with
 * DeviceGoneError at once. Either way each device's close is bounded (about 2 s).
 *
 * @category Queue and stats
 */
export interface CloseOptions {
  /** Wait for accepted jobs to settle (default true); false rejects them at once. */
  readonly drain?: boolean;
  /** Aborting stops the drain: what is left is rejected. */
  readonly signal?: AbortSignal;
}

export interface AddDeviceOptions {
  /** A fallback device takes over the jobs of failed devices; it is scheduled by its measured rate like any device, and loses ties (see Scheduler). */
  readonly fallback?: boolean;
  /**
   * The device computes with the host's own library (the node:crypto provider): the
   * integrity gate does not redo its signatures and verdicts (core/integrity/gate.ts).
   */
  readonly reference?: boolean;
}

/** A device as the queue sees it. */
export interface QueueDevice {
  readonly info: DeviceInfo;
  readonly state: DeviceState;
  readonly inService: boolean;
  readonly fallback: boolean;
  /** Where it is in recovery ('none' while in service). */
  readonly recovery: RecoveryState;
  /** Why it is out of service ('' while in service). */
  readonly outReason: string;
  /** Faults reported against it over its life, by kind. */
  readonly faults: Readonly<Record<DeviceFaultKind, number>>;
}

/** How many backlog jobs one flush may set aside (no capable device has room) before it stops looking. */
const SKIP_LIMIT = 1024;

/** Error codes after which a job is worth running on another device. */
function retryable(error: PkaccelError): boolean {
  return (
    error.code === 'device-error' ||
    error.code === 'device-gone' ||
    error.code === 'timeout' ||
    error.code === 'unsupported'
  );
}

function asPkaccelError(error: unknown, device: string): PkaccelError {
  if (error instanceof PkaccelError) return error;
  return new DeviceError(`device ${device} failed: ${error instanceof Error ? error.message : 'unknown'}`, {
    cause: error,
    device,
  });
}

export class JobQueue implements PrimitiveExecutor, LaneOwner<DeviceEntry>, FaultSink {
  readonly pollThreshold: number;
  readonly pollSpinLimit: number;
  readonly moderationMaxUtilization: number;
  observing = false;

  /** Device added/removed/failed/reset/recovered. Completes on close. */
  readonly events$: Observable<QueueEvent>;
  /** A stats snapshot every `statsIntervalMs` while subscribed; nothing runs while nobody subscribes. */
  readonly stats$: Observable<QueueStats>;

  readonly #options: ResolvedQueueOptions;
  readonly #devices: DeviceEntry[] = [];
  readonly #scheduler: Scheduler;
  readonly #backlog = new Backlog();
  readonly #pool: JobPool;
  readonly #abortWatch: AbortWatch;
  readonly #timer: DeadlineTimer;
  readonly #events = new Subject<QueueEvent>();
  readonly #statsSubscribers = new Set<Subscriber<QueueStats>>();
  #statsInterval: NodeJS.Timeout | undefined = undefined;
  #windowStart = performance.now();
  readonly #totals: QueueTotals = {
    submitted: 0,
    completed: 0,
    failed: 0,
    retried: 0,
    timedOut: 0,
    aborted: 0,
    rejected: 0,
  };
  /** Accepted jobs not yet settled. */
  #live = 0;
  /** Live jobs in the backlog. */
  #backlogCount = 0;
  #flushScheduled = false;
  #tickNow = 0;
  #closing = false;
  #closed = false;
  #closePromise: Promise<void> | undefined;
  readonly #lifetime = new AbortController();
  readonly #touched: Lane<DeviceEntry>[] = [];
  readonly #skipped: JobRecord[] = [];
  readonly #drainWaiters: (() => void)[] = [];
  /** Every ok completion passes it before its job settles (core/integrity). */
  readonly #gate: IntegrityGate;

  constructor(options?: QueueOptions) {
    this.#options = resolveQueueOptions(options);
    this.pollThreshold = this.#options.pollThreshold;
    this.pollSpinLimit = this.#options.pollSpinLimit;
    this.moderationMaxUtilization = this.#options.moderationMaxUtilization;
    this.#scheduler = new Scheduler(this.#devices);
    this.#pool = new JobPool();
    this.#abortWatch = new AbortWatch((record) => this.#onAbort(record));
    this.#timer = new DeadlineTimer(() => this.#sweep());
    this.events$ = this.#events.asObservable();
    this.stats$ = new Observable<QueueStats>((subscriber) => this.#observeStats(subscriber));
    this.#gate = new IntegrityGate(this.#options.integrity, {
      covers: (device, request) =>
        this.#devices.some((e) => e.id === device && e.inService && e.covers(request)),
      runOn: (device, request, deadline, signal) => {
        const left = deadline - performance.now();
        return this.submit(request, {
          device,
          timeoutMs: deadline === Number.POSITIVE_INFINITY ? 0 : Math.max(1, left),
          ...(signal === undefined ? {} : { signal }),
        });
      },
    });
  }

  get options(): ResolvedQueueOptions {
    return this.#options;
  }

  get closed(): boolean {
    return this.#closing;
  }

  /** The devices the queue schedules over. */
  get devices(): readonly QueueDevice[] {
    return this.#devices.map((e) => ({
      info: e.device.info,
      state: e.device.state,
      inService: e.inService,
      fallback: e.fallback,
      recovery: e.recovery,
      outReason: e.outReason,
      faults: { ...e.faultCounts },
    }));
  }

  // ----- devices -------------------------------------------------------------------------------

  /** Schedule over `device` from now on. The queue does not close it. */
  addDevice(device: Device, options: AddDeviceOptions = {}): void {
    if (this.#closing) throw new DeviceGoneError('the job queue is closed');
    const id = device.info.id;
    if (this.#devices.some((e) => e.id === id))
      throw new InvalidInputError(`device ${id} is already in the job queue`);
    const entry = new DeviceEntry(device, options.fallback === true, this);
    entry.unsubscribe = device.subscribe((event) => {
      // Deferred: a driver may emit from inside submit or harvest, while a lane is mid-batch.
      queueMicrotask(() => this.#onDeviceEvent(entry, event));
    });
    this.#devices.push(entry);
    this.#scheduler.forget();
    this.#gate.addDevice(id, options.reference === true);
    this.#emit({ type: 'device-added', device: id, fallback: entry.fallback });
    this.#scheduleFlush();
  }

  /** Stop scheduling over the device; its jobs are re-routed. The queue does not close it. */
  removeDevice(id: string): void {
    const i = this.#devices.findIndex((e) => e.id === id);
    if (i < 0) throw new InvalidInputError(`device ${id} is not in the job queue`);
    const entry = this.#devices[i]!;
    entry.unsubscribe();
    entry.removed = true;
    this.#outOfService(entry, {
      type: 'device-removed',
      device: id,
      reason: 'removed from the job queue',
    });
    for (const lane of entry.lanes) lane.close();
    this.#devices.splice(this.#devices.indexOf(entry), 1);
    this.#scheduler.forget();
    this.#scheduleFlush();
  }

  // ----- PrimitiveExecutor ---------------------------------------------------------------------

  supports(request: PrimitiveRequest): boolean {
    // A device out of service counts: a job for it fails with DeviceGoneError saying why, which
    // tells the caller more than "unsupported" would.
    for (const entry of this.#devices) {
      if (entry.removed) continue;
      if (entry.covers(request)) return true;
    }
    return false;
  }

  run<R extends PrimitiveRequest>(
    request: R,
    options?: { readonly signal?: AbortSignal },
  ): Promise<ResultOf<R>> {
    return this.submit(request, options);
  }

  runFirst(
    alternatives: readonly Alternative[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<AlternativeResult> {
    return this.#runFirst(alternatives, options, null);
  }

  /**
   * runFirst with the caller's last step applied where the job settles (PrimitiveExecutor):
   * the job's own promise is the operation's, with no reaction of the caller's per job.
   */
  runFirstThen<T>(
    alternatives: readonly Alternative[],
    options: { readonly signal?: AbortSignal } | undefined,
    finish: Finish<T>,
  ): Promise<T> {
    return this.#runFirst(alternatives, options, finish as Finish<unknown>);
  }

  #runFirst<T>(
    alternatives: readonly Alternative[],
    options: { readonly signal?: AbortSignal } | undefined,
    finish: Finish<unknown> | null,
  ): Promise<T> {
    const refusal =
      alternatives.length === 0
        ? new UnsupportedError('runFirst was given no alternative')
        : this.#refusal(options);
    if (refusal !== undefined) return Promise.reject(finish === null ? refusal : failure(finish, refusal));
    const record = this.#pool.acquire();
    record.alternatives = alternatives;
    record.request = record.probeOf(0);
    record.finish = finish;
    const promise = promiseFor<T>(record);
    this.#enqueue(record, options);
    return promise;
  }

  /**
   * Run one primitive request. For the algorithm-level operations of `subtle`,
   * core/algorithms calls `runFirst` on this same queue.
   */
  submit<R extends PrimitiveRequest>(request: R, options?: SubmitOptions): Promise<ResultOf<R>> {
    const refusal = this.#refusal(options);
    if (refusal !== undefined) return Promise.reject(refusal);
    const record = this.#pool.acquire();
    record.request = request;
    const promise = promiseFor<ResultOf<R>>(record);
    this.#enqueue(record, options);
    return promise;
  }

  /**
   * Run a stream of requests with at most `concurrency` in flight; results come in
   * input order when `ordered` (the default). See process.ts.
   */
  process<R extends PrimitiveRequest>(
    requests$: Observable<R>,
    options?: ProcessOptions,
  ): Observable<ResultOf<R>> {
    return processRequests(this, requests$, options);
  }

  // ----- stats ---------------------------------------------------------------------------------

  /** Counters now; rates and percentiles since the previous snapshot (which this one closes). */
  snapshot(): QueueStats {
    const now = performance.now();
    let inFlight = 0;
    for (const e of this.#devices) for (const lane of e.lanes) inFlight += lane.occupied;
    const stats = snapshotStats(
      this.#devices,
      this.#totals,
      this.#backlogCount,
      this.#options.maxBacklog,
      inFlight,
      this.#windowStart,
      now,
    );
    this.#windowStart = now;
    return stats;
  }

  #observeStats(subscriber: Subscriber<QueueStats>): () => void {
    if (this.#closed) {
      subscriber.complete();
      return () => {};
    }
    this.#statsSubscribers.add(subscriber);
    if (this.#statsInterval === undefined) {
      this.observing = true;
      this.snapshot();
      this.#statsInterval = setInterval(() => {
        const stats = this.snapshot();
        for (const s of this.#statsSubscribers) s.next(stats);
      }, this.#options.statsIntervalMs);
    }
    return () => {
      this.#statsSubscribers.delete(subscriber);
      if (this.#statsSubscribers.size === 0) this.#stopStats();
    };
  }

  #stopStats(): void {
    if (this.#statsInterval !== undefined) clearInterval(this.#statsInterval);
    this.#statsInterval = undefined;
    this.observing = false;
  }

  // ----- close ---------------------------------------------------------------------------------

  close(options: CloseOptions = {}): Promise<void> {
    this.#closePromise ??= this.#close(options);
    return this.#closePromise;
  }

  async #close(options: CloseOptions): Promise<void> {
    this.#closing = true;
    if (options.drain !== false && this.#live > 0 && options.signal?.aborted !== true) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          options.signal?.removeEventListener('abort', done);
          resolve();
        };
        this.#drainWaiters.push(done);
        options.signal?.addEventListener('abort', done, { once: true });
      });
    }
    this.#closed = true;
    const closedError = (): DeviceGoneError => new DeviceGoneError('the job queue was closed');
    for (let record = this.#backlog.shift(); record !== undefined; record = this.#backlog.shift()) {
      this.#backlogCount--;
      this.#totals.failed++;
      this.#reject(record, closedError());
    }
    for (const entry of this.#devices) {
      for (const lane of entry.lanes) {
        lane.forEachLive((record) => this.#discard(record, lane, closedError()));
        lane.close();
      }
      entry.unsubscribe();
    }
    this.#timer.clear();
    this.#lifetime.abort();
    this.#stopStats();
    for (const s of this.#statsSubscribers) s.complete();
    this.#statsSubscribers.clear();
    this.#events.complete();
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  // ----- intake --------------------------------------------------------------------------------

  #refusal(options: SubmitOptions | undefined): PkaccelError | undefined {
    if (this.#closing) return new DeviceGoneError('the job queue is closed');
    if (this.#backlogCount >= this.#options.maxBacklog && this.#options.onBacklogFull === 'reject') {
      this.#totals.rejected++;
      return new QueueFullError(`the job backlog is full (${this.#options.maxBacklog} jobs waiting)`);
    }
    if (options === undefined) return undefined;
    if (options.signal?.aborted) return new AbortedError(undefined, { cause: options.signal.reason });
    if (options.device !== undefined && !this.#devices.some((e) => e.id === options.device))
      return new InvalidInputError(`no device "${options.device}" in this accelerator`);
    return undefined;
  }

  #enqueue(record: JobRecord, options: SubmitOptions | undefined): void {
    // One clock read per tick: scheduling the tick's flush reads the clock, and the
    // other submissions before that flush runs reuse the reading.
    this.#scheduleFlush();
    const now = this.#tickNow;
    record.submittedAt = now;
    const timeoutMs = options?.timeoutMs ?? this.#options.timeoutMs;
    if (timeoutMs > 0) {
      record.deadline = now + timeoutMs;
      this.#timer.ensure(record.deadline);
    } else {
      record.deadline = Number.POSITIVE_INFINITY;
    }
    if (options !== undefined) {
      const signal = options.signal;
      if (signal !== undefined) {
        this.#abortWatch.watch(record, signal);
      }
      if (options.device !== undefined) record.pinned = options.device;
      if (options.witness !== undefined) record.onWitness = options.witness;
    }
    this.#live++;
    this.#totals.submitted++;
    if (this.#backlogCount === 0) {
      // Nothing waits ahead of it: give it a tag now; the doorbell still rings once, at the end of the tick.
      const lane = this.#scheduler.pick(record);
      if (lane !== null) {
        if (this.#prepare(record, lane.device)) this.#assign(record, lane, now);
        return;
      }
    }
    record.state = JobState.backlog;
    this.#backlog.push(record);
    this.#backlogCount++;
  }

  #assign(record: JobRecord, lane: Lane<DeviceEntry>, now: number): void {
    if (lane.pending.length === 0) this.#touched.push(lane);
    lane.assign(record, now);
    // The sweep works out each queue pair's exact stall time; here only "no later than the floor"
    // (or the fixed limit), so the hot path computes no operation class.
    const fixed = this.#options.stallTimeoutMs;
    this.#timer.ensure(fixed > 0 ? lane.lastProgress + fixed : now + this.#options.stallFloorMs);
  }

  /** How long `record` may wait on `lane` before the lane counts as stalled. */
  #stallLimit(lane: Lane<DeviceEntry>, record: JobRecord): number {
    const o = this.#options;
    if (o.stallTimeoutMs > 0) return o.stallTimeoutMs;
    return lane.latency.limit(record.request, o.stallFactor, o.stallFloorMs, o.stallCeilingMs);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#closed) return;
    this.#flushScheduled = true;
    this.#tickNow = performance.now();
    queueMicrotask(this.#flush);
  }

  /** Assign backlog jobs to lanes, then one doorbell per lane that got any. */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const now = performance.now();
    const scheduler = this.#scheduler;
    const touched = this.#touched;
    const skipped = this.#skipped;
    scheduler.beginPass();
    while (this.#backlogCount > skipped.length) {
      const record = this.#backlog.shift();
      if (record === undefined) break;
      const lane = scheduler.pick(record);
      if (lane !== null) {
        this.#backlogCount--;
        if (this.#prepare(record, lane.device)) this.#assign(record, lane, now);
      } else if (scheduler.reason === 'wait') {
        skipped.push(record);
        if (skipped.length >= SKIP_LIMIT || !this.#anyRoom()) break;
      } else {
        this.#backlogCount--;
        this.#totals.failed++;
        this.#reject(record, this.#noDeviceError(record));
      }
    }
    for (let i = skipped.length - 1; i >= 0; i--) this.#backlog.pushFront(skipped[i]!);
    skipped.length = 0;
    for (let i = 0; i < touched.length; i++) touched[i]!.submitPending(now);
    touched.length = 0;
  };

  /** Choose the request a runFirst job runs on this device; false if building it failed (job settled). */
  #prepare(record: JobRecord, entry: DeviceEntry): boolean {
    record.device = entry.id;
    const alternatives = record.alternatives;
    if (alternatives === null) return true;
    const i = record.altIndex;
    const alt = alternatives[i]!;
    // A plain request is its own: only what a builder made is kept (a retry reuses it, so a
    // nonce or salt is made once per job), and a job that never builds allocates no list.
    if (!('probe' in alt)) {
      record.request = alt;
      return true;
    }
    // The first built is kept in the record itself (no list per job); a list only for more.
    let request = record.builtIndex === i ? record.builtFirst! : record.built?.[i];
    if (request === undefined) {
      try {
        request = alt.build();
      } catch (error) {
        this.#totals.failed++;
        this.#reject(record, error);
        return false;
      }
      if (record.builtIndex < 0) {
        record.builtIndex = i;
        record.builtFirst = request;
      } else {
        record.built ??= [];
        record.built[i] = request;
      }
    }
    record.request = request;
    return true;
  }

  /**
   * Why no device can take the job: DeviceGoneError naming the capable devices out of
   * service and why, else the last device error, else UnsupportedError.
   */
  #noDeviceError(record: JobRecord): PkaccelError {
    const out: string[] = [];
    let first = '';
    for (const entry of this.#devices) {
      if (entry.removed || entry.inService) continue;
      if (record.pinned !== null && entry.id !== record.pinned) continue;
      if (record.excluded?.includes(entry.id)) continue;
      if (entry.firstCovered(record) < 0) continue;
      if (first === '') first = entry.id;
      out.push(`${entry.id} (${describeOut(entry)})`);
    }
    if (out.length > 0)
      return new DeviceGoneError(
        `no device in service can do ${describe(record)}: ${out.length === 1 ? 'the capable device is' : 'every capable device is'} out of service: ${out.join('; ')}`,
        { device: first, ...(record.lastError === null ? {} : { cause: record.lastError }) },
      );
    return (
      record.lastError ??
      new UnsupportedError(`no device in service can do ${describe(record)}`, {
        ...(record.pinned === null ? {} : { device: record.pinned }),
      })
    );
  }

  #anyRoom(): boolean {
    for (const entry of this.#devices) if (entry.inService && entry.hasRoom()) return true;
    return false;
  }

  // ----- LaneOwner -----------------------------------------------------------------------------

  complete(lane: Lane<DeviceEntry>, record: JobRecord, completion: Completion): void {
    if (completion.ok) {
      // The integrity gate: no value is released before it passes (core/integrity).
      const outcome = this.#gate.check(
        lane.device.id,
        record,
        record.request,
        completion.value,
        completion.witness,
        completion.reference,
      );
      if (outcome !== undefined) {
        this.#gated(lane, record, completion.value, completion.witness, outcome);
        return;
      }
      this.#deliver(lane, record, completion.value, completion.witness);
      return;
    }
    const error = asPkaccelError(completion.error, lane.device.id);
    if (error.code === 'device-error') {
      lane.device.reportFault('device-error', error.message);
      this.#gate.noteFault(lane.device.id);
    }
    this.#retryOrFail(record, error, lane);
  }

  /** Settle a job with a value that passed the gate (a runFirst job learns which alternative ran). */
  #deliver(
    lane: Lane<DeviceEntry>,
    record: JobRecord,
    value: PrimitiveValue,
    witness: Witness | undefined,
  ): void {
    lane.completed++;
    this.#totals.completed++;
    const resolve = record.resolve;
    const finish = record.finish;
    const index = record.altIndex;
    const device = record.device;
    // Only the broker asks (SubmitOptions.witness): whether a reference device settled it, for its clients' gates.
    if (record.onWitness !== null) record.onWitness(witness, this.#gate.isReference(lane.device.id));
    if (finish === null) {
      const result = record.alternatives === null ? value : { index, value, device };
      this.#finish(record);
      resolve(result);
      return;
    }
    // runFirstThen: the caller's last step, after the record went back to the pool.
    const reject = record.reject;
    this.#finish(record);
    let out: unknown;
    try {
      out = finish.value(index, value, device);
    } catch (error) {
      reject(failure(finish, error));
      return;
    }
    resolve(out);
  }

  recycle(record: JobRecord): void {
    this.#pool.release(record);
  }

  requeueFront(record: JobRecord): void {
    record.state = JobState.backlog;
    this.#backlog.pushFront(record);
    this.#backlogCount++;
    this.#scheduleFlush();
  }

  roomFreed(): void {
    if (this.#backlogCount > 0) this.#scheduleFlush();
  }

  laneError(lane: Lane<DeviceEntry>, error: unknown): void {
    if (this.#closed) return;
    const entry = lane.device;
    const err = asPkaccelError(error, entry.id);
    if (err.code === 'aborted') return;
    const gone = err.code === 'device-gone' || entry.device.state === 'gone';
    this.#outOfService(
      entry,
      gone
        ? { type: 'device-removed', device: entry.id, reason: err.message }
        : { type: 'device-failed', device: entry.id, reason: err.message },
    );
    this.#startRecovery(entry);
  }

  spuriousCompletion(lane: Lane<DeviceEntry>, tag: number): void {
    lane.device.reportFault(
      'bad-completion',
      `queue pair ${lane.qp.index} returned tag ${tag}, which is not in flight`,
    );
  }

  // ----- faults and recovery -------------------------------------------------------------------

  /** FaultSink: count the fault; at the threshold, take the device out of service for recovery. */
  deviceFault(entry: DeviceEntry, kind: DeviceFaultKind, reason: string): void {
    if (this.#closed || entry.removed) return;
    const count = entry.countFault(kind, performance.now(), this.#options.faultWindowMs);
    if (count < this.#options.faultThreshold || !entry.inService) return;
    const why = `${count} faults within ${this.#options.faultWindowMs} ms, the last ${kind}: ${reason}`;
    // Deferred: the report may come from inside a harvest of one of the device's queue pairs.
    queueMicrotask(() => {
      if (this.#closed || entry.removed || !entry.inService) return;
      this.#outOfService(entry, { type: 'device-failed', device: entry.id, reason: why });
      this.#startRecovery(entry);
    });
  }

  /** Begin (or resume, for a device present again) the reset → self-test → return cycle. */
  #startRecovery(entry: DeviceEntry): void {
    if (this.#closed || entry.removed || entry.inService) return;
    const running = this.#recovering.get(entry);
    if (running !== undefined) {
      // A loop is running; if it waits for a gone device to be present again, look now
      // (a backoff after a failed attempt is kept).
      if (entry.recovery === 'absent') running();
      return;
    }
    if (entry.device.state === 'closed') {
      entry.recovery = 'given-up';
      return;
    }
    if (entry.recovery === 'given-up') entry.recoveryAttempts = 0;
    void this.#recover(entry);
  }

  /** Devices with a recovery loop running, and how to cut its current wait short. */
  readonly #recovering = new Map<DeviceEntry, () => void>();

  async #recover(entry: DeviceEntry): Promise<void> {
    const o = this.#options;
    const signal = this.#lifetime.signal;
    const stillOurs = (): boolean => !this.#closed && !entry.removed && !entry.inService;
    const wake = { now: (): void => {} };
    this.#recovering.set(entry, () => wake.now());
    let absentPolls = 0;
    try {
      while (stillOurs()) {
        if (entry.device.state === 'closed') break;
        const gone = entry.device.state === 'gone';
        let failure: string;
        try {
          // On a gone device, reset is how the driver finds out whether it is present again
          // (it throws DeviceGoneError while the card is away).
          entry.recovery = gone ? 'absent' : 'resetting';
          await entry.device.reset(signal);
          if (!stillOurs()) return;
          absentPolls = 0;
          entry.recoveryAttempts++;
          entry.recovery = 'self-test';
          const report = await o.selfTest(entry.device, { signal, timeoutMs: o.selfTestTimeoutMs });
          if (!stillOurs()) return;
          if (report.passed && entry.device.state === 'ready') {
            this.#backInService(entry, report.ran);
            return;
          }
          failure =
            report.failures.length > 0
              ? `self-test failed (${report.failures.length} of ${report.ran}): ${report.failures[0]!.id}: ${report.failures[0]!.detail}`
              : `the device is ${entry.device.state} after its self-test`;
        } catch (error) {
          if (!stillOurs()) return;
          if (entry.device.state === 'gone') {
            // Still away: look again later. Not a failed attempt; the process is not kept alive for it.
            entry.recovery = 'absent';
            this.#scheduleFlush();
            const wait = Math.min(
              o.recoveryBackoffMaxMs,
              ABSENT_POLL_MAX_MS,
              o.recoveryBackoffMs * 2 ** absentPolls,
            );
            absentPolls++;
            if (!(await sleep(wait, signal, wake))) return;
            continue;
          }
          entry.recoveryAttempts++;
          failure = `reset failed: ${error instanceof Error ? error.message : String(error)}`;
        }
        entry.outReason = `recovery attempt ${entry.recoveryAttempts} failed: ${failure}`;
        this.#emit({ type: 'device-failed', device: entry.id, reason: entry.outReason });
        if (entry.recoveryAttempts >= o.recoveryAttempts) break;
        entry.recovery = 'backoff';
        const wait = Math.min(
          o.recoveryBackoffMaxMs,
          o.recoveryBackoffMs * 2 ** (entry.recoveryAttempts - 1),
        );
        if (!(await sleep(wait, signal, wake))) return;
      }
      if (!stillOurs()) return;
      entry.recovery = 'given-up';
      entry.outReason = `out of service for good after ${entry.recoveryAttempts} recovery attempt(s); ${entry.outReason}`;
      this.#emit({ type: 'device-failed', device: entry.id, reason: entry.outReason });
      this.#scheduleFlush();
    } finally {
      this.#recovering.delete(entry);
    }
  }

  /** The device passed its self-test: take jobs again. */
  #backInService(entry: DeviceEntry, checked: number): void {
    entry.inService = true;
    entry.recovery = 'none';
    entry.outReason = '';
    entry.recoveryAttempts = 0;
    entry.recentFaults.length = 0;
    entry.refreshCapabilities();
    for (const lane of entry.lanes) lane.reopen();
    this.#emit({ type: 'device-recovered', device: entry.id, selfTest: checked });
    this.#scheduleFlush();
  }

  // ----- integrity -----------------------------------------------------------------------------

  /** A completion the gate did not pass at once: a failed check, or one still running (ECDSA re-verify). */
  #gated(
    lane: Lane<DeviceEntry>,
    record: JobRecord,
    value: PrimitiveValue,
    witness: Witness | undefined,
    outcome: IntegrityFailure | Promise<IntegrityFailure | undefined>,
  ): void {
    if (!(outcome instanceof Promise)) {
      this.#integrityFault(lane, record, outcome);
      return;
    }
    // The record stays live (holding no tag) until the check settles; the check's own job
    // carries the record's deadline and signal, so it cannot outlive them.
    outcome.then(
      (failure) => {
        if (failure !== undefined) {
          this.#integrityFault(lane, record, failure);
          return;
        }
        this.#deliver(lane, record, value, witness);
      },
      (error: unknown) => {
        const err = asPkaccelError(error, lane.device.id);
        if (err.code === 'aborted') {
          // The caller's signal (the check's job carries it): #onAbort has counted it.
          this.#reject(record, err);
        } else if (this.#closed) {
          this.#totals.failed++;
          this.#reject(record, err);
        } else {
          this.#retryOrFail(record, err, lane);
        }
      },
    );
  }

  /** A result failed its check: withhold it, count the fault, report it, and retry the job. */
  #integrityFault(lane: Lane<DeviceEntry>, record: JobRecord, failure: IntegrityFailure): void {
    const entry = lane.device;
    const operation = record.request.op;
    this.#emit({ type: 'integrity-fault', device: entry.id, operation, reason: failure.reason });
    const error = new DeviceError(
      `${operation} result from device ${entry.id} failed the integrity check (${failure.reason}); the result was withheld`,
      { device: entry.id },
    );
    if (failure.outOfService && entry.inService && !this.#closed) {
      this.#outOfService(entry, { type: 'device-failed', device: entry.id, reason: failure.reason });
      this.#startRecovery(entry);
    } else {
      entry.reportFault('integrity', failure.reason);
    }
    if (this.#closed) {
      this.#totals.failed++;
      this.#reject(record, error);
      return;
    }
    this.#retryOrFail(record, error, lane);
  }

  // ----- settling ------------------------------------------------------------------------------

  /** A device failed the job: run it elsewhere if worth it and allowed, else reject. */
  #retryOrFail(record: JobRecord, error: PkaccelError, lane: Lane<DeviceEntry>): void {
    record.lastError = error;
    const device = lane.device.id;
    if (!retryable(error) || record.pinned !== null) {
      lane.failed++;
      this.#totals.failed++;
      this.#reject(record, error);
      return;
    }
    if (error.code === 'unsupported') {
      // The device refused these parameters: never send this job there again.
      if (record.excluded === null) record.excluded = [device];
      else record.excluded.push(device);
    } else {
      if (record.attempts >= this.#options.retries) {
        lane.failed++;
        this.#totals.failed++;
        this.#reject(record, error);
        return;
      }
      record.attempts++;
      record.avoid = device;
    }
    lane.retried++;
    this.#totals.retried++;
    this.requeueFront(record);
  }

  /** Settle with an error and release the record (it holds no tag). */
  #reject(record: JobRecord, error: unknown): void {
    const reject = record.reject;
    const finish = record.finish;
    this.#finish(record);
    reject(finish === null ? error : failure(finish, error));
  }

  /** Bookkeeping of a settled job whose record holds no tag: release it to the pool. */
  #finish(record: JobRecord): void {
    this.#unlisten(record);
    this.#pool.release(record);
    this.#settled();
  }

  #unlisten(record: JobRecord): void {
    if (record.signal !== undefined) this.#abortWatch.unwatch(record);
  }

  #settled(): void {
    if (--this.#live === 0) {
      this.#timer.idle();
      if (this.#drainWaiters.length > 0) for (const w of this.#drainWaiters.splice(0)) w();
    }
  }

  /** Settle an in-flight job early; its tag stays out until the device returns it. */
  #discard(record: JobRecord, lane: Lane<DeviceEntry>, error: PkaccelError): void {
    const reject = record.reject;
    const finish = record.finish;
    // The device still holds the slot: the sweep reclaims it if the device never returns it.
    if (!this.#closed) this.#timer.ensure(record.dispatchedAt + this.#stallLimit(lane, record));
    lane.discard(record.slot);
    this.#unlisten(record);
    record.resolve = noop;
    record.reject = noop;
    record.finish = null;
    if (error.code === 'aborted') lane.aborted++;
    else if (error.code === 'timeout') lane.timedOut++;
    else this.#totals.failed++;
    this.#settled();
    reject(finish === null ? error : failure(finish, error));
  }

  #onAbort(record: JobRecord): void {
    const signal = record.signal;
    if (signal === undefined) return;
    const error = new AbortedError(undefined, { cause: signal.reason });
    this.#totals.aborted++;
    this.#settleEarly(record, error);
  }

  /** Settle a job before its device answers: out of the backlog, or discarded in flight (its tag stays out). */
  #settleEarly(record: JobRecord, error: PkaccelError): void {
    if (record.state === JobState.backlog) {
      this.#backlogCount--;
      this.#reject(record, error);
    } else if (record.state === JobState.inFlight && record.holder !== null) {
      this.#discard(record, record.holder as Lane<DeviceEntry>, error);
    }
  }

  // ----- deadlines and stalls ------------------------------------------------------------------

  readonly #expired: JobRecord[] = [];

  #sweep(): void {
    if (this.#closed) return;
    const now = performance.now();
    const expired = this.#expired;
    let next = Number.POSITIVE_INFINITY;
    const visit = (record: JobRecord): void => {
      if (record.deadline <= now) expired.push(record);
      else if (record.deadline < next) next = record.deadline;
    };
    this.#backlog.forEachLive(visit);
    const stalled = new Set<Lane<DeviceEntry>>();
    const fixed = this.#options.stallTimeoutMs;
    for (const entry of this.#devices) {
      let busy = false;
      // A link to another process's queue that is still answering is slow, not stalled (Device.lastHeard).
      const heard = entry.device.lastHeard ?? 0;
      let progress = heard;
      for (const lane of entry.lanes) {
        lane.forEachLive(visit);
        if (lane.lastProgress > progress) progress = lane.lastProgress;
        if (lane.occupied > 0 && lane.open) busy = true;
      }
      if (!busy) continue;
      if (fixed > 0) {
        // Explicit stallTimeoutMs: a device with jobs out and no completion on any queue pair (nor a
        // queue pair newly busy) for that long: every busy queue pair of it is abandoned.
        const stallAt = progress + fixed;
        if (stallAt <= now) {
          for (const lane of entry.lanes) if (lane.occupied > 0 && lane.open) stalled.add(lane);
        } else if (stallAt < next) {
          next = stallAt;
        }
        continue;
      }
      // Learned limits, judged by progress rather than by age (an age limit learned at low load
      // fires when hundreds of jobs arrive at once: a job's latency grows with the work queued
      // ahead of it). For each busy queue pair, its oldest job J (live or aborted: the device
      // still holds its slot), F = J's class figure (latency.ts; this queue pair's, else the
      // device's) and W = the learned cost of every job the device holds (its work in flight):
      // - no progress: nothing completed on the queue pair for stallFactor × F's latency + W
      //   since the later of J's doorbell and its last completion — the device is given the
      //   time to work through all it holds (a batch answered at once, a pool shared by queue
      //   pairs) before its silence counts;
      // - dropped: J was overtaken (jobs sent after it came back) and is still out
      //   stallFactor × F's latency after the sweep first saw that — the job at the head of a
      //   working device is being served and finishes within about its latency.
      // Each kept within [stallFloorMs, stallCeilingMs] (the floor 4× while F rests on fewer
      // than 8 samples); stallCeilingMs when J's class or a held job's class was never seen.
      const o = this.#options;
      let work = 0;
      for (const lane of entry.lanes) work += lane.work();
      for (const lane of entry.lanes) {
        if (lane.occupied === 0 || !lane.open) continue;
        const oldest = lane.oldest();
        if (oldest === undefined) continue;
        const figure = lane.latency.known(operationClass(oldest.request));
        const silent = Math.max(oldest.dispatchedAt, lane.lastCompletion, heard);
        let due = silent + stallLimit(figure, work, o.stallFactor, o.stallFloorMs, o.stallCeilingMs);
        if (lane.headTag !== oldest.tag) {
          lane.headTag = oldest.tag;
          lane.overtakenAt = 0;
        }
        if (lane.overtakenAt === 0 && lane.overtaken(oldest)) lane.overtakenAt = now;
        if (lane.overtakenAt > 0) {
          const dropDue =
            lane.overtakenAt + stallLimit(figure, 0, o.stallFactor, o.stallFloorMs, o.stallCeilingMs);
          if (dropDue < due) due = dropDue;
        }
        if (due <= now) stalled.add(lane);
        else {
          // Look again within the floor while it is busy, to see an overtaken job in time.
          const look = Math.min(due, now + o.stallFloorMs);
          if (look < next) next = look;
        }
      }
    }
    for (const record of expired) {
      // Stall rule 2: a job past its deadline on a queue pair that has completed nothing since
      // the job went in: that queue pair has stopped, whatever the device's others do.
      const lane = record.state === JobState.inFlight ? (record.holder as Lane<DeviceEntry> | null) : null;
      if (lane?.open && lane.lastCompletion < record.dispatchedAt) stalled.add(lane);
      const error = new TimeoutError(
        `${describe(record)} did not complete within its deadline (${Math.round(now - record.submittedAt)} ms)`,
        record.device === '' ? undefined : { device: record.device },
      );
      this.#totals.timedOut++;
      this.#settleEarly(record, error);
    }
    expired.length = 0;
    for (const lane of stalled) {
      // Results waiting unharvested (the event loop was busy, an interrupt was late) are not a stall.
      if (lane.harvestNow() > 0) {
        const retry = performance.now() + this.#options.stallFloorMs;
        if (retry < next) next = retry;
        continue;
      }
      this.#suspect(lane, now);
    }
    if (next < Number.POSITIVE_INFINITY && (this.#live > 0 || this.#anyOccupied())) {
      this.#timer.ensure(next);
      // Slots held only by aborted jobs are reclaimed on time, but keep no process alive.
      if (this.#live === 0) this.#timer.idle();
    }
  }

  /** Queue pairs found stalled by a sweep, each with the sweep's time, until the loop's I/O has run. */
  readonly #suspects = new Map<Lane<DeviceEntry>, number>();

  /**
   * Abandon `lane` only after the event loop has polled its I/O once more. A sweep runs in
   * the timers phase, and after the loop was blocked (a long synchronous call in the
   * application) it runs before the poll phase reads what arrived meanwhile — a link to
   * another process (the broker's socket) would be judged silent with its answers unread.
   * setImmediate runs after that poll: a real stall costs one loop turn more.
   */
  #suspect(lane: Lane<DeviceEntry>, since: number): void {
    if (this.#suspects.size === 0) setImmediate(() => this.#confirmStalls());
    if (!this.#suspects.has(lane)) this.#suspects.set(lane, since);
  }

  #confirmStalls(): void {
    const suspects = [...this.#suspects];
    this.#suspects.clear();
    if (this.#closed) return;
    let retry = false;
    for (const [lane, since] of suspects) {
      if (!lane.open || lane.occupied === 0) continue;
      const heard = lane.device.device.lastHeard ?? 0;
      if (lane.harvestNow() > 0 || lane.lastProgress > since || heard > since) {
        retry = true;
        continue;
      }
      this.#abandon(lane);
    }
    if (retry) this.#timer.ensure(performance.now() + this.#options.stallFloorMs);
  }

  #anyOccupied(): boolean {
    for (const entry of this.#devices) for (const lane of entry.lanes) if (lane.occupied > 0) return true;
    return false;
  }

  /** A queue pair stopped completing: reset it, re-run its jobs (elsewhere first), reopen it. */
  #abandon(lane: Lane<DeviceEntry>): void {
    const entry = lane.device;
    lane.stop();
    entry.reportFault('stall', `queue pair ${lane.qp.index} stopped completing`);
    this.#emit({
      type: 'device-reset',
      device: entry.id,
      queuePair: lane.qp.index,
      reason: `queue pair ${lane.qp.index} stopped completing`,
    });
    let abandoning: Promise<readonly number[]>;
    try {
      abandoning = lane.qp.abandon(this.#lifetime.signal);
    } catch (error) {
      abandoning = Promise.reject(error);
    }
    abandoning.then(
      (tags) => {
        if (this.#closed) return;
        const error = new TimeoutError(`queue pair ${lane.qp.index} of ${entry.id} stopped completing`, {
          device: entry.id,
        });
        for (const record of lane.releaseTags(tags)) this.#retryOrFail(record, error, lane);
        if (entry.inService && !entry.removed) {
          lane.reopen();
          this.#emit({ type: 'device-recovered', device: entry.id, queuePair: lane.qp.index });
        }
        this.#scheduleFlush();
      },
      (error: unknown) => {
        if (this.#closed) return;
        this.laneError(lane, error);
      },
    );
  }

  // ----- device state --------------------------------------------------------------------------

  #onDeviceEvent(entry: DeviceEntry, event: DeviceEvent): void {
    if (this.#closed || entry.removed) return;
    if (event.type === 'capabilities') {
      entry.refreshCapabilities();
      this.#scheduler.forget();
      this.#scheduleFlush();
      return;
    }
    const reason = event.reason ?? event.state;
    switch (event.state) {
      case 'ready':
        // Present again after a removal (or back after we gave up): reset and self-test first.
        if (entry.recovery === 'absent' || entry.recovery === 'given-up') {
          this.#startRecovery(entry);
          return;
        }
        // Our own reset finished: the self-test decides.
        if (entry.recovery !== 'none') return;
        if (!entry.inService) {
          entry.inService = true;
          for (const lane of entry.lanes) lane.reopen();
          this.#emit({ type: 'device-recovered', device: entry.id });
          this.#scheduleFlush();
        }
        return;
      case 'resetting':
        // The queue's own reset during recovery: nothing to do.
        if (entry.recovery !== 'none') return;
        this.#outOfService(entry, { type: 'device-reset', device: entry.id, reason });
        return;
      case 'failed':
        this.#outOfService(entry, { type: 'device-failed', device: entry.id, reason });
        this.#startRecovery(entry);
        return;
      case 'gone':
      case 'closed':
        this.#outOfService(entry, { type: 'device-removed', device: entry.id, reason });
        this.#startRecovery(entry);
        return;
    }
  }

  /** Stop using the device and re-route its jobs (per the Device contract it abandons them). */
  #outOfService(entry: DeviceEntry, event: QueueEvent): void {
    if (!entry.inService) return;
    entry.inService = false;
    entry.outReason = describeEvent(event);
    const error = new DeviceGoneError(`device ${entry.id} went out of service: ${describeEvent(event)}`, {
      device: entry.id,
    });
    for (const lane of entry.lanes) {
      lane.stop();
      for (const record of lane.evacuate()) {
        // Re-routed, not failed by this device's answer: it does not use up one of the job's retries.
        record.lastError = error;
        if (record.pinned !== null) {
          lane.failed++;
          this.#totals.failed++;
          this.#reject(record, error);
          continue;
        }
        record.avoid = entry.id;
        lane.retried++;
        this.#totals.retried++;
        this.requeueFront(record);
      }
    }
    this.#emit(event);
    this.#scheduleFlush();
  }

  #emit(event: QueueEvent): void {
    if (!this.#closed) this.#events.next(event);
  }
}

const noop = (): void => {};

/** What a runFirstThen job rejects with: its caller's mapping of `error` (or what the mapping threw). */
function failure(finish: Finish<unknown>, error: unknown): unknown {
  try {
    return finish.error(error);
  } catch (thrown) {
    return thrown;
  }
}

function describe(record: JobRecord): string {
  return record.alternatives === null
    ? `${record.request.op}`
    : `${record.alternatives.length} alternative(s) (${record.probeOf(0).op}, ...)`;
}

function describeEvent(event: QueueEvent): string {
  return 'reason' in event ? event.reason : event.type;
}

/** Why a device is out of service, for an error message. */
function describeOut(entry: DeviceEntry): string {
  const why = entry.outReason || `it is ${entry.device.state}`;
  switch (entry.recovery) {
    case 'resetting':
    case 'self-test':
    case 'backoff':
      return `${why}; recovering, attempt ${entry.recoveryAttempts}`;
    case 'absent':
      return `${why}; waiting for it to be present again`;
    default:
      return why;
  }
}

/** The longest wait between two looks at a gone device (is it present again?), in ms. */
const ABSENT_POLL_MAX_MS = 5_000;

/**
 * Resolve true after `ms` or when `wake.now()` is called (an unref'd timer: a device's
 * recovery keeps no process alive), false on abort.
 */
function sleep(ms: number, signal: AbortSignal, wake: { now: () => void }): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (value: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
      wake.now = () => {};
      resolve(value);
    };
    const aborted = (): void => finish(false);
    const timer = setTimeout(() => finish(true), ms);
    timer.unref();
    signal.addEventListener('abort', aborted, { once: true });
    wake.now = () => finish(true);
  });
}
