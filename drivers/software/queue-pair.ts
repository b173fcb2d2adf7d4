/**
 * The software device's queue pair: the same contract hardware offers. `submit`
 * takes what fits in `depth - inFlight`; each job runs on the calling thread
 * (a lone cheap job on an idle pool, or the calling thread's share of a batch),
 * on libuv's thread pool (keygen, and with `pool=uv` every job node:crypto has
 * a callback form for) or in the worker pool; its completion waits in a list
 * until `harvest` hands it out.
 */

import { performance } from 'node:perf_hooks';
import { Wakeup } from '../../core/driver/completion-wait.js';
import {
  type Capability,
  type Completion,
  DeviceGoneError,
  type Job,
  type PkaccelError,
  type PrimitiveRequest,
  type PrimitiveValue,
  type QueuePair,
  supports,
  UnsupportedError,
} from '../../core/driver/index.js';
import { softwareError } from './errors.js';
import type { InlinePolicy } from './inline-policy.js';
import { generateKeyMaterial } from './keygen.js';
import type { PoolClient, WorkerPool } from './pool.js';
import { execute } from './requests.js';
import { hasUvForm, type UvPool } from './uv-pool.js';

export class SoftwareQueuePair implements QueuePair, PoolClient {
  readonly index: number;
  readonly depth: number;
  readonly #device: string;
  readonly #capabilities: readonly Capability[];
  readonly #pool: WorkerPool;
  readonly #inline: InlinePolicy;
  /** libuv's pool for jobs with a node:crypto callback form; undefined with `pool=workers`. */
  readonly #uv: UvPool | undefined;
  #inFlight = 0;
  #completions: Completion[] = [];
  /** Pool sequence number → tag. */
  readonly #poolJobs = new Map<number, number>();
  /** Keygen and libuv-pool token → tag. */
  readonly #asyncJobs = new Map<number, number>();
  #nextToken = 0;
  /** Wakes waitForCompletions at each completion; fails it at close. */
  readonly #wakeup = new Wakeup();
  /** Lone jobs for the calling thread, waiting for the next turn of the event loop (budget spent). */
  #deferred: Job[] = [];
  #deferredScheduled = false;
  #closed = false;

  constructor(options: {
    index: number;
    depth: number;
    device: string;
    capabilities: readonly Capability[];
    pool: WorkerPool;
    inline: InlinePolicy;
    uv: UvPool | undefined;
  }) {
    this.index = options.index;
    this.depth = options.depth;
    this.#device = options.device;
    this.#capabilities = options.capabilities;
    this.#pool = options.pool;
    this.#inline = options.inline;
    this.#uv = options.uv;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  submit(jobs: readonly Job[]): number {
    if (this.#closed) throw new DeviceGoneError(`device ${this.#device} is closed`, { device: this.#device });
    const count = Math.min(jobs.length, this.depth - this.#inFlight);
    if (count <= 0) return 0;
    const wasIdle = this.#inFlight === 0;
    this.#inFlight += count;
    const only = jobs[0]!;
    if (count === 1 && wasIdle && this.#poolsIdle && this.#inline.suits(only.request)) {
      if (this.#inline.hasBudget) this.#runHere(only);
      else this.#defer(only);
      return 1;
    }
    // The calling thread's share of the batch runs here first; the workers get the rest at the end of this turn
    // (jobs for libuv's pool, with pool=uv, go there: the share is of the worker pool's work).
    const share = this.#inline.shareOf(count, this.#pool.size);
    let first = 0;
    while (first < share && this.#inline.hasBudget && this.#sharesWithWorkers(jobs[first]!.request)) {
      this.#runHere(jobs[first++]!);
    }
    for (let i = first; i < count; i++) this.#start(jobs[i]!);
    return count;
  }

  harvest(sink: (completion: Completion) => void, max = Number.POSITIVE_INFINITY): number {
    const available = this.#completions;
    if (available.length === 0 || max <= 0) return 0;
    let taken: Completion[];
    if (max >= available.length) {
      taken = available;
      this.#completions = [];
    } else {
      taken = available.splice(0, max);
    }
    this.#inFlight -= taken.length;
    for (const completion of taken) sink(completion);
    return taken.length;
  }

  waitForCompletions(signal?: AbortSignal): Promise<void> {
    if (this.#completions.length > 0) return Promise.resolve();
    if (this.#closed) {
      return Promise.reject(
        new DeviceGoneError(`device ${this.#device} is closed`, { device: this.#device }),
      );
    }
    return this.#wakeup.next(signal);
  }

  async abandon(_signal?: AbortSignal): Promise<readonly number[]> {
    // Abandoning is immediate here (nothing to reset on a card), so there is nothing to cancel.
    const tags = [
      ...this.#poolJobs.values(),
      ...this.#asyncJobs.values(),
      ...this.#completions.map((c) => c.tag),
      ...this.#deferred.map((j) => j.tag),
    ];
    this.#deferred = [];
    this.#pool.drop(this.#poolJobs.keys());
    this.#poolJobs.clear();
    this.#asyncJobs.clear();
    this.#completions = [];
    this.#inFlight = 0;
    return tags;
  }

  /** Abandon everything and refuse further work; waiters reject with DeviceGoneError. */
  close(): void {
    if (this.#closed) return;
    void this.abandon();
    this.#closed = true;
    this.#wakeup.fail(new DeviceGoneError(`device ${this.#device} was closed`, { device: this.#device }));
  }

  onPoolResult(seq: number, ok: boolean, outcome: PrimitiveValue | PkaccelError): void {
    const tag = this.#poolJobs.get(seq);
    if (tag === undefined) return;
    this.#poolJobs.delete(seq);
    this.#complete(
      ok
        ? { tag, ok: true, value: outcome as PrimitiveValue }
        : { tag, ok: false, error: outcome as PkaccelError },
    );
  }

  #start(job: Job): void {
    const request = job.request;
    if (!supports(this.#capabilities, request)) {
      const error = new UnsupportedError(
        `the software provider does not do ${request.op} with these parameters`,
        {
          device: this.#device,
        },
      );
      this.#complete({ tag: job.tag, ok: false, error });
      return;
    }
    if (request.op === 'keygen') {
      const token = this.#nextToken++;
      this.#asyncJobs.set(token, job.tag);
      generateKeyMaterial(request.spec).then(
        (value) => this.#completeAsync(token, { tag: job.tag, ok: true, value }),
        (error: unknown) =>
          this.#completeAsync(token, {
            tag: job.tag,
            ok: false,
            error: softwareError(error, 'keygen', this.#device),
          }),
      );
      return;
    }
    if (this.#uv !== undefined && hasUvForm(request)) {
      const token = this.#nextToken++;
      this.#asyncJobs.set(token, job.tag);
      this.#uv.run(request, (outcome) =>
        this.#completeAsync(
          token,
          outcome.ok
            ? { tag: job.tag, ok: true, value: outcome.value }
            : { tag: job.tag, ok: false, error: softwareError(outcome.error, request.op, this.#device) },
        ),
      );
      return;
    }
    this.#poolJobs.set(this.#pool.enqueue(request, this), job.tag);
  }

  /** Whether `request` would go to the worker pool and may run on the calling thread instead. */
  #sharesWithWorkers(request: PrimitiveRequest): boolean {
    return this.#inline.suits(request) && !(this.#uv !== undefined && hasUvForm(request));
  }

  /** No job of this device still running in the workers or on libuv's pool. */
  get #poolsIdle(): boolean {
    return this.#pool.idle && (this.#uv?.idle ?? true);
  }

  #runHere(job: Job): void {
    const request = job.request;
    if (!supports(this.#capabilities, request) || request.op === 'keygen') {
      this.#start(job);
      return;
    }
    const started = performance.now();
    let completion: Completion;
    try {
      completion = { tag: job.tag, ok: true, value: execute(request) };
    } catch (error) {
      completion = { tag: job.tag, ok: false, error: softwareError(error, request.op, this.#device) };
    }
    this.#inline.spent(performance.now() - started);
    this.#complete(completion);
  }

  #defer(job: Job): void {
    this.#deferred.push(job);
    if (this.#deferredScheduled) return;
    this.#deferredScheduled = true;
    setImmediate(() => this.#runDeferred());
  }

  /** The next turn: the budget is fresh (its reset was scheduled first), so the deferred jobs run here. */
  #runDeferred(): void {
    this.#deferredScheduled = false;
    const jobs = this.#deferred;
    this.#deferred = [];
    for (let i = 0; i < jobs.length; i++) {
      if (this.#inline.hasBudget) this.#runHere(jobs[i]!);
      else {
        for (let j = i; j < jobs.length; j++) this.#defer(jobs[j]!);
        return;
      }
    }
  }

  #completeAsync(token: number, completion: Completion): void {
    if (!this.#asyncJobs.delete(token)) return;
    this.#complete(completion);
  }

  #complete(completion: Completion): void {
    this.#completions.push(completion);
    this.#wakeup.wake();
  }
}
