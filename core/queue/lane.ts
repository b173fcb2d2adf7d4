/**
 * One lane per queue pair: the tag table, this tick's batch, and the harvest
 * loop. A lane waits for the queue pair's interrupt while completions are
 * sparse, switches to busy polling (one `setImmediate` per round, so I/O and
 * timers still run) when a harvest finds at least `pollThreshold`, and goes back
 * to the interrupt after `pollSpinLimit` polls in a row that found fewer. With
 * no job in flight it neither waits nor polls, so an idle accelerator costs no CPU.
 *
 * Interrupt moderation (NAPI-style; queue pairs with `moderate`, e.g. the ring card's
 * IRQ_CTRL coalescing). Polling pays while the host is the bound: each round finds what
 * the card finished since the last. When the card is the bound it only keeps the main
 * thread busy — the ring is full, and harvesting sooner cannot make the card faster. A
 * poll round tells the two apart: it starts after the last harvest's completions were
 * delivered and the owner refilled the lane in the same turn. If the lane is full again
 * (`room === 0`: work was waiting for the slots) and that harvest left the card at least
 * half a ring of its own work (so the card was not waiting for the host), the card is the
 * bound (once it is so for 4 rounds in a row): the lane programs the queue pair to interrupt
 * after N completions or T µs after the first, and sleeps on that interrupt (`mode`
 * `moderated`) instead of polling.
 * - N = half the ring at first: the card still holds the other half (depth/2 × its time
 *   per job) while the host wakes, harvests and refills, so it never runs dry. A wake that
 *   finds less than a quarter of the ring left (the host woke late) halves N (at least
 *   MODERATION.minCount), a timely one grows it back by depth/16.
 * - T = the time 1.5 N completions take, at most 0.6 of the full ring's work (time per
 *   job: the lane's learned cost, latency.ts `overall.cost`), within [10 µs, 5 ms]: the
 *   count normally fires first; T bounds the wait when the card slows down or the work
 *   runs out. 5 ms is far below stall detection's floor (250 ms): a moderated lane
 *   completes something every T at the latest.
 * After each moderated wake the lane harvests and lets the owner refill, and the next
 * round looks again: still full, with at least an eighth of the ring left at the wake —
 * wait again; otherwise (the lane is not full: the load dropped; or the card ran nearly
 * dry: the host is the bound) it writes count 1 back (one interrupt per completion) and
 * polls as before. A wake that finds less than an eighth of the ring left (the host woke late:
 * a busy or descheduled main thread) holds moderation off for 20 ms. The host is (nearly) the
 * bound when the event loop's utilization over 100 ms of moderated stretches and the polling
 * between them is above QueueOptions.moderationMaxUtilization (0.9): there is little idle time
 * to win and waking in batches lets rings run low, so it polls, and moderates again only after
 * a hold of 100 ms, doubled each time in a row up to 3.2 s (back to 100 ms after a window
 * within the limit). N carries over from one moderated stretch to the next. A lane whose queue pair has no
 * `moderate` (or with moderationMaxUtilization 0) behaves as without this.
 * Latency at low and half load is unchanged (the lane is never full there); at saturation
 * a completion may wait up to N jobs' time in the CQ, which the ring's depth already bounds.
 *
 * Tags are `generation * size + slot`: a stale or duplicated completion carries
 * an old generation and is dropped instead of settling a newer job.
 */

import type { Completion, QueuePair } from '../driver/device.js';
import { LatencyHistogram } from './histogram.js';
import { type JobRecord, JobState, type SlotHolder } from './job.js';
import { LatencyModel, operationClass } from './latency.js';

/** What a lane reports to the queue that owns it. */
export interface LaneOwner<D> {
  readonly pollThreshold: number;
  readonly pollSpinLimit: number;
  /** Moderation's limit on the event loop's utilization (QueueOptions.moderationMaxUtilization); absent: 0.9. */
  readonly moderationMaxUtilization?: number;
  /** Whether latencies are being recorded (someone observes stats). */
  readonly observing: boolean;
  /** A live job completed (its tag is free again). */
  complete(lane: Lane<D>, record: JobRecord, completion: Completion): void;
  /** A discarded job's tag came back: the record may be reused. */
  recycle(record: JobRecord): void;
  /** A job that was given a tag but not taken by the queue pair goes back to the front of the backlog. */
  requeueFront(record: JobRecord): void;
  /** A harvest freed room. */
  roomFreed(lane: Lane<D>): void;
  /** submit, harvest or the interrupt wait threw: the queue pair (or its device) is broken. */
  laneError(lane: Lane<D>, error: unknown): void;
  /** A completion carried a tag that is not in flight (duplicate, stale or garbage). */
  spuriousCompletion(lane: Lane<D>, tag: number): void;
}

/**
 * How a queue pair's completions are collected: `interrupt` waits for the completion
 * interrupt (sparse completions, no CPU while waiting); `poll` busy-polls once per
 * event-loop turn, entered when a harvest finds at least `pollThreshold` completions
 * and left after `pollSpinLimit` polls in a row that found fewer; `moderated` waits for a
 * coalesced interrupt (after many completions) while the card, not the host, is the bound
 * (the lane full after each refill; see core/queue/lane.ts).
 *
 * @category Queue and stats
 */
export type LaneMode = 'interrupt' | 'poll' | 'moderated';

/** The figures of interrupt moderation (see the header). */
const MODERATION = {
  /** The least completion count a moderated interrupt waits for (fewer: polling is as cheap). */
  minCount: 8,
  /** Bounds of the moderated interrupt's time limit T, µs. */
  minUs: 10,
  maxUs: 5000,
  /** Learned samples before the lane trusts its time per job for T. */
  samples: 8,
  /** Poll rounds in a row that find the card the bound before the lane moderates. */
  rounds: 4,
  /**
   * Event-loop utilization above which moderation is given up for polling (the default of
   * QueueOptions.moderationMaxUtilization): the host, not the card, is (nearly) the bound, so
   * there is little idle time to win, and waking in batches lets rings run low. Judged over
   * `judgeMs` of moderated time; then no moderation for `holdMs`, doubled each time it is given
   * up in a row (up to `maxHoldMs`).
   */
  hostBusy: 0.9,
  judgeMs: 100,
  holdMs: 100,
  maxHoldMs: 3200,
  /** After a wake that found the ring nearly dry (< 1/8 left): polling for this long (ms). */
  dryHoldMs: 20,
} as const;

type Utilization = ReturnType<typeof performance.eventLoopUtilization>;

export class Lane<D> implements SlotHolder {
  readonly qp: QueuePair;
  readonly device: D;
  readonly depth: number;
  readonly #owner: LaneOwner<D>;
  /** Slot count rounded up to a power of two; tags are `generation * size + slot`. */
  readonly #size: number;
  readonly #generations: number;
  readonly #slotTag: Uint32Array;
  readonly #slotGen: Uint32Array;
  readonly #slotRecord: (JobRecord | null)[];
  readonly #busy: Uint8Array;
  readonly #free: Int32Array;
  #freeTop: number;
  /** Per slot: assignment order, tags occupied ahead of it and `returned` when it was assigned. */
  readonly #slotSeq: Float64Array;
  readonly #slotAhead: Uint32Array;
  readonly #slotReturned: Float64Array;
  #seq = 0;

  /** Tags in use: this tick's batch, jobs in flight, and discarded jobs the device still has. */
  occupied = 0;
  /** Jobs given a tag this tick, submitted with one doorbell at the end of the tick. */
  readonly pending: JobRecord[] = [];
  /** Whether the lane takes new jobs (false while abandoned/resetting, out of service, closed). */
  open = true;
  mode: LaneMode = 'interrupt';
  /** performance.now() of the last completion, or of going busy from idle. */
  lastProgress = 0;
  /** performance.now() of the last harvest that found a completion. */
  lastCompletion = 0;
  /** Tags the device gave back (live or discarded jobs): with the per-slot counts, tells an overtaken job. */
  returned = 0;
  /** Stall detection's note (job-queue.ts #sweep): the tag of the oldest job it last saw here … */
  headTag = -1;
  /** … and when it first saw that job overtaken (0: not yet). */
  overtakenAt = 0;

  // Counters, read by the stats snapshot.
  submitted = 0;
  completed = 0;
  failed = 0;
  retried = 0;
  timedOut = 0;
  aborted = 0;
  spurious = 0;
  doorbells = 0;
  waits = 0;
  polls = 0;
  windowCompleted = 0;
  readonly queueWait = new LatencyHistogram();
  readonly service = new LatencyHistogram();
  readonly endToEnd = new LatencyHistogram();
  /** Completion latency per operation class (doorbell to harvest), always learned: stall detection reads it. */
  readonly latency: LatencyModel;

  #closed = false;
  #waiting = false;
  #waitAbort = new AbortController();
  #epoch = 0;
  #pollHandle: NodeJS.Immediate | undefined = undefined;
  #quietPolls = 0;
  #harvestTime = 0;
  /** Jobs still held right after the last harvest (the card's own work then). */
  #left = 0;
  /** Poll rounds in a row that found the card the bound. */
  #boundRounds = 0;
  /** The completion count the next moderated interrupt waits for. */
  #moderatedCount = 0;
  /** What was last programmed with `qp.moderate` (count 1: not moderated). */
  #programmedCount = 1;
  #programmedUs = 0;
  /** The host-busy judgement (MODERATION.hostBusy): the mark it is measured from, when, and the hold after a verdict of busy. */
  #utilization: Utilization | undefined = undefined;
  #judgeAt = 0;
  #holdUntil = 0;
  #holdMs: number = MODERATION.holdMs;

  constructor(qp: QueuePair, device: D, owner: LaneOwner<D>, deviceLatency?: LatencyModel) {
    this.latency = new LatencyModel(deviceLatency);
    this.qp = qp;
    this.device = device;
    this.#owner = owner;
    this.depth = Math.max(0, Math.floor(qp.depth));
    this.#size = 2 ** Math.ceil(Math.log2(Math.max(1, this.depth)));
    this.#generations = 2 ** 32 / this.#size;
    this.#slotTag = new Uint32Array(this.#size);
    this.#slotGen = new Uint32Array(this.#size);
    this.#slotRecord = new Array(this.#size).fill(null);
    this.#busy = new Uint8Array(this.#size);
    this.#slotSeq = new Float64Array(this.#size);
    this.#slotAhead = new Uint32Array(this.#size);
    this.#slotReturned = new Float64Array(this.#size);
    this.#free = new Int32Array(this.depth);
    for (let i = 0; i < this.depth; i++) this.#free[i] = this.depth - 1 - i;
    this.#freeTop = this.depth;
  }

  /**
   * The queue pair took fewer jobs than it had room for by our count: offer it nothing
   * more until a harvest frees something (else the refused jobs would be offered again
   * and again within the same tick).
   */
  refusing = false;

  /** How many more jobs fit now. */
  get room(): number {
    return this.open && !this.refusing ? this.depth - this.occupied : 0;
  }

  /** Give `record` a tag and put it in this tick's batch. The caller checked `room`. */
  assign(record: JobRecord, now: number): void {
    const slot = this.#free[--this.#freeTop]!;
    const generation = (this.#slotGen[slot]! + 1) % this.#generations;
    this.#slotGen[slot] = generation;
    const tag = generation * this.#size + slot;
    this.#slotTag[slot] = tag;
    this.#busy[slot] = 1;
    this.#slotRecord[slot] = record;
    record.tag = tag;
    record.slot = slot;
    record.holder = this;
    record.state = JobState.inFlight;
    this.#slotSeq[slot] = ++this.#seq;
    this.#slotAhead[slot] = this.occupied;
    this.#slotReturned[slot] = this.returned;
    if (this.occupied === 0) this.lastProgress = now;
    this.occupied++;
    this.pending.push(record);
  }

  /** Ring the doorbell once for this tick's batch; what the queue pair did not take goes back to the backlog. */
  submitPending(now: number): void {
    const pending = this.pending;
    const count = pending.length;
    if (count === 0) return;
    let taken = 0;
    let failure: unknown;
    let threw = false;
    try {
      taken = Math.max(0, Math.min(count, this.qp.submit(pending)));
    } catch (error) {
      threw = true;
      failure = error;
    }
    this.doorbells++;
    this.submitted += taken;
    for (let i = 0; i < taken; i++) pending[i]!.dispatchedAt = now;
    for (let i = count - 1; i >= taken; i--) {
      const record = pending[i]!;
      this.#freeSlot(record.slot);
      record.holder = null;
      record.slot = -1;
      this.#owner.requeueFront(record);
    }
    pending.length = 0;
    if (taken < count) this.refusing = true;
    if (threw) {
      this.#owner.laneError(this, failure);
      return;
    }
    if (taken === 0) return;
    // A device that finishes within the doorbell (a fast card, the null engine) has results
    // already: take them now instead of after an interrupt or a poll round. Reading a
    // completion ring costs little next to a wasted wake-up.
    if (this.mode === 'interrupt' && !this.#waiting) this.#harvestNow();
    this.arm();
  }

  /** The caller gave up on the job in `slot` (abort, timeout): keep the tag until the device returns it. */
  discard(slot: number): void {
    const record = this.#slotRecord[slot];
    if (record) record.state = JobState.discarded;
  }

  /** Call `visit` for every live job with a tag here (batch or in flight). */
  forEachLive(visit: (record: JobRecord) => void): void {
    if (this.occupied === 0) return;
    for (let slot = 0; slot < this.#size; slot++) {
      if (this.#busy[slot] === 0) continue;
      const record = this.#slotRecord[slot]!;
      if (record.state === JobState.inFlight) visit(record);
    }
  }

  /**
   * The job that has waited longest since its doorbell among those the device holds
   * (live or discarded: an aborted job's slot stays taken until the device returns it),
   * not counting this tick's batch; undefined if none.
   */
  oldest(): JobRecord | undefined {
    if (this.occupied === 0) return undefined;
    let oldest: JobRecord | undefined;
    for (let slot = 0; slot < this.#size; slot++) {
      if (this.#busy[slot] === 0) continue;
      const record = this.#slotRecord[slot]!;
      if (record.state !== JobState.inFlight && record.state !== JobState.discarded) continue;
      if (this.pending.length > 0 && this.pending.includes(record)) continue;
      if (
        oldest === undefined ||
        record.dispatchedAt < oldest.dispatchedAt ||
        (record.dispatchedAt === oldest.dispatchedAt && this.#slotSeq[slot]! < this.#slotSeq[oldest.slot]!)
      )
        oldest = record;
    }
    return oldest;
  }

  /**
   * Whether jobs given a tag after `record` (which the device holds) have come back before
   * it: more tags returned since it was assigned than were ahead of it then.
   */
  overtaken(record: JobRecord): boolean {
    const slot = record.slot;
    if (slot < 0 || this.#slotRecord[slot] !== record) return false;
    return this.returned - this.#slotReturned[slot]! > this.#slotAhead[slot]!;
  }

  /**
   * The time the jobs the device holds here stand for: the sum of each one's learned cost
   * (LatencyModel `cost` of its class, on this queue pair or the device); Infinity when a
   * class has not been seen.
   */
  work(): number {
    if (this.occupied === 0) return 0;
    let sum = 0;
    for (let slot = 0; slot < this.#size; slot++) {
      if (this.#busy[slot] === 0) continue;
      const record = this.#slotRecord[slot]!;
      const figure = this.latency.known(operationClass(record.request));
      if (figure === undefined) return Number.POSITIVE_INFINITY;
      sum += figure.cost;
    }
    return sum;
  }

  /** Harvest now, outside the interrupt/poll cycle (before declaring a stall); returns how many were found. */
  harvestNow(): number {
    if (!this.open || this.#closed || this.occupied === 0) return 0;
    return this.#harvestNow();
  }

  /** Start harvesting if jobs are in flight: poll in poll mode, else wait for the interrupt. */
  arm(): void {
    if (!this.open || this.#closed) return;
    if (this.occupied === 0) {
      // Idle: the next job is waited for with one interrupt per completion.
      if (this.mode === 'moderated') this.#unmoderate('interrupt');
      return;
    }
    if (this.#waiting) return;
    if (this.mode !== 'interrupt') {
      // Poll mode, or moderated between a wake's harvest and the round that looks at the refill.
      if (this.#pollHandle === undefined) this.#pollHandle = setImmediate(this.#poll);
      return;
    }
    this.#wait();
  }

  #wait(): void {
    this.#waiting = true;
    this.waits++;
    const epoch = this.#epoch;
    let wait: Promise<void>;
    try {
      wait = this.qp.waitForCompletions(this.#waitAbort.signal);
    } catch (error) {
      this.#waiting = false;
      this.#owner.laneError(this, error);
      return;
    }
    wait.then(
      () => this.#woken(epoch),
      (error: unknown) => this.#waitFailed(epoch, error),
    );
  }

  /** Stop taking jobs and stop harvesting (abandon, out of service). Jobs keep their tags. */
  stop(): void {
    this.open = false;
    this.#epoch++;
    if (this.#waiting) {
      this.#waiting = false;
      this.#waitAbort.abort();
      this.#waitAbort = new AbortController();
    }
    if (this.#pollHandle !== undefined) {
      clearImmediate(this.#pollHandle);
      this.#pollHandle = undefined;
    }
    // Stopping (a reset, out of service): the queue pair's own setting back, errors not reported
    // (the owner is taking the lane down already; a reset re-programs the queue pair anyway).
    if (this.#programmedCount !== 1) this.#program(1, 0, false);
    this.#moderatedCount = 0;
    this.mode = 'interrupt';
    this.#quietPolls = 0;
  }

  /** Take jobs again after `stop`, and harvest what is still in flight. */
  reopen(): void {
    if (this.#closed) return;
    this.open = true;
    this.refusing = false;
    this.arm();
  }

  /** Stop for good: no wait, no poll, no timer remains. */
  close(): void {
    this.stop();
    this.#closed = true;
  }

  /**
   * Free every tag (the device is out of service and, per the Device contract,
   * abandons its jobs) and return the live jobs, this tick's batch included.
   */
  evacuate(): JobRecord[] {
    const live: JobRecord[] = [];
    this.pending.length = 0;
    for (let slot = 0; slot < this.#size; slot++) this.#take(slot, live);
    return live;
  }

  /** Free the tags an `abandon` returned and give back their live jobs. */
  releaseTags(tags: readonly number[]): JobRecord[] {
    const live: JobRecord[] = [];
    for (const tag of tags) {
      const slot = tag & (this.#size - 1);
      if (slot < this.#size && this.#slotTag[slot] === tag) this.#take(slot, live);
    }
    return live;
  }

  #take(slot: number, live: JobRecord[]): void {
    if (this.#busy[slot] === 0) return;
    const record = this.#slotRecord[slot]!;
    this.#freeSlot(slot);
    record.holder = null;
    record.slot = -1;
    if (record.state === JobState.discarded) this.#owner.recycle(record);
    else live.push(record);
  }

  #freeSlot(slot: number): void {
    this.#busy[slot] = 0;
    this.#slotRecord[slot] = null;
    this.#free[this.#freeTop++] = slot;
    this.occupied--;
  }

  readonly #sink = (completion: Completion): void => {
    const tag = completion.tag;
    const slot = tag & (this.#size - 1);
    if (this.#busy[slot] === 0 || this.#slotTag[slot] !== tag) {
      this.spurious++;
      this.#owner.spuriousCompletion(this, tag);
      return;
    }
    const record = this.#slotRecord[slot]!;
    this.#freeSlot(slot);
    this.returned++;
    record.holder = null;
    record.slot = -1;
    if (record.state === JobState.discarded) {
      this.#owner.recycle(record);
      return;
    }
    this.latency.observe(
      record.request,
      this.#harvestTime - record.dispatchedAt,
      record.aheadJobs,
      this.#slotAhead[slot],
    );
    if (this.#owner.observing) {
      const now = this.#harvestTime;
      this.queueWait.record(record.dispatchedAt - record.submittedAt);
      this.service.record(now - record.dispatchedAt);
      this.endToEnd.record(now - record.submittedAt);
    }
    this.#owner.complete(this, record, completion);
  };

  #harvestNow(): number {
    this.#harvestTime = performance.now();
    let found: number;
    try {
      found = this.qp.harvest(this.#sink);
    } catch (error) {
      this.#owner.laneError(this, error);
      return 0;
    }
    if (found > 0) {
      this.refusing = false;
      this.lastProgress = this.#harvestTime;
      this.lastCompletion = this.#harvestTime;
      this.#owner.roomFreed(this);
    }
    return found;
  }

  #woken(epoch: number): void {
    if (epoch !== this.#epoch) return;
    this.#waiting = false;
    if (!this.open) return;
    const found = this.#harvestNow();
    if (this.mode === 'moderated') {
      // NAPI's budget: the wake took what was there; the next round (after the refill) decides.
      this.#left = this.occupied;
      const count = this.#moderatedCount;
      if (this.#left * 4 < this.depth) this.#moderatedCount = Math.max(MODERATION.minCount, count >> 1);
      else this.#moderatedCount = Math.min(this.depth >> 1, count + (this.depth >> 4));
      // Nearly dry: the host is (for now) the bound; poll, and moderate again only after a hold.
      if (this.#left * 8 < this.depth) this.#holdUntil = this.#harvestTime + MODERATION.dryHoldMs;
    } else if (found >= this.#owner.pollThreshold) this.mode = 'poll';
    this.arm();
  }

  /**
   * Whether the card, not the host, is the bound (see the header): the queue pair can moderate,
   * the lane is full after the owner's refill, the last harvest left the card at least half a
   * ring (an eighth to stay moderated), and the lane knows its time per job.
   */
  #cardBound(): boolean {
    if (this.qp.moderate === undefined || this.occupied < this.depth || this.pending.length > 0) return false;
    if ((this.#owner.moderationMaxUtilization ?? MODERATION.hostBusy) <= 0) return false;
    const least = this.mode === 'moderated' ? this.depth >> 3 : this.depth >> 1;
    return (
      this.#left >= least &&
      this.#left >= MODERATION.minCount &&
      this.latency.overall.samples >= MODERATION.samples &&
      this.#harvestTime >= this.#holdUntil
    );
  }

  /**
   * Program the moderated interrupt (N, T: see the header) and wait on it; false if the host
   * turned out to be the bound (MODERATION.hostBusy: back to polling) or the queue pair refused.
   */
  #moderate(): boolean {
    const now = this.#harvestTime;
    if (this.mode !== 'moderated') {
      this.mode = 'moderated';
      this.#quietPolls = 0;
      // The count learned last time (a late wake halved it) stands; half the ring the first time.
      if (this.#moderatedCount === 0) this.#moderatedCount = Math.max(MODERATION.minCount, this.depth >> 1);
      // The utilization is judged over moderated stretches and the polling between them alike
      // (short stretches would never be judged); a window left long ago starts afresh.
      if (this.#utilization === undefined || now >= this.#judgeAt + MODERATION.judgeMs) {
        this.#utilization = eventLoopUtilization();
        this.#judgeAt = now + MODERATION.judgeMs;
      }
    }
    if (now >= this.#judgeAt) {
      const mark = eventLoopUtilization();
      const busy =
        mark !== undefined && this.#utilization !== undefined
          ? performance.eventLoopUtilization(mark, this.#utilization).utilization >
            (this.#owner.moderationMaxUtilization ?? MODERATION.hostBusy)
          : false;
      this.#utilization = mark;
      this.#judgeAt = now + MODERATION.judgeMs;
      if (busy) {
        this.#utilization = undefined; // the next window starts when moderation does
        this.#hold(now);
        this.#unmoderate('poll');
        return false;
      }
      this.#holdMs = MODERATION.holdMs;
    }
    const count = Math.min(this.#moderatedCount, this.depth);
    const perJobUs = this.latency.overall.cost * 1000;
    const us = Math.round(
      Math.min(
        MODERATION.maxUs,
        Math.max(MODERATION.minUs, perJobUs * Math.min(1.5 * count, 0.6 * this.depth)),
      ),
    );
    // Rewrite only on a real change (a register write wakes the card's thread, like a doorbell).
    if (count !== this.#programmedCount || Math.abs(us - this.#programmedUs) * 4 > this.#programmedUs) {
      if (!this.#program(count, us)) return false;
    }
    this.#wait();
    return true;
  }

  /** No moderation until `holdMs` after `now`; the next hold in a row twice as long. */
  #hold(now: number): void {
    this.#holdUntil = now + this.#holdMs;
    this.#holdMs = Math.min(MODERATION.maxHoldMs, this.#holdMs * 2);
  }

  /** Back to one interrupt per completion, in `mode`. */
  #unmoderate(mode: LaneMode): void {
    this.mode = mode;
    if (this.#programmedCount !== 1) this.#program(1, 0);
  }

  /** `qp.moderate(count, us)`; false if it threw (then reported as the lane's error if `report`). */
  #program(count: number, us: number, report = true): boolean {
    this.#programmedCount = count;
    this.#programmedUs = us;
    try {
      this.qp.moderate?.(count, us);
      return true;
    } catch (error) {
      if (report) this.#owner.laneError(this, error);
      return false;
    }
  }

  #waitFailed(epoch: number, error: unknown): void {
    if (epoch !== this.#epoch) return;
    this.#waiting = false;
    this.#owner.laneError(this, error);
  }

  readonly #poll = (): void => {
    this.#pollHandle = undefined;
    if (!this.open) return;
    // The last harvest's completions were delivered and the lane refilled since: is it full again?
    // Entered after a few such rounds in a row (a card that fell behind once is not the bound).
    if (!this.#cardBound()) this.#boundRounds = 0;
    else if ((this.mode === 'moderated' || ++this.#boundRounds >= MODERATION.rounds) && this.#moderate())
      return;
    if (!this.open) return;
    if (this.mode === 'moderated') this.#unmoderate('poll');
    this.polls++;
    const found = this.#harvestNow();
    this.#left = this.occupied;
    if (found < this.#owner.pollThreshold) {
      if (++this.#quietPolls >= this.#owner.pollSpinLimit) {
        this.mode = 'interrupt';
        this.#quietPolls = 0;
      }
    } else {
      this.#quietPolls = 0;
    }
    this.arm();
  };
}

/** The event loop's utilization so far (Node's perf_hooks), or undefined where the runtime has none. */
function eventLoopUtilization(): Utilization | undefined {
  return typeof performance.eventLoopUtilization === 'function'
    ? performance.eventLoopUtilization()
    : undefined;
}
