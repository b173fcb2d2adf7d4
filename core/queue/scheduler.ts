/**
 * Choosing a queue pair for a job: scheduling by expected completion time (issue 14).
 *
 * The policy. For each device in service whose capabilities cover the job (any of its
 * alternatives, for runFirst) — full or not — estimate when a new job of the job's
 * operation class c (op + key size / curve, latency.ts) would finish there, and place
 * the job where that is soonest:
 *
 *   ECT = max(floor_c, jobs ahead × meanCost + cost_c)
 *         + cost_c × KEY_LOAD_COST   when the device has key slots and does not hold the job's
 *                                    private key (a public-key job loads none)
 *
 * - jobs ahead: the device's jobs in flight (this tick's batch included; DeviceEntry.held,
 *   counted as `laneForNext` looks at its lanes) plus the jobs of this pass over the
 *   backlog that chose to wait for it.
 * - floor_c: the unloaded latency of the class there, transfer included (doorbell, DMA or
 *   register writes, interrupt, harvest); cost_c: device time per job at saturation
 *   (1 / throughput); meanCost: the same over whatever mix the device runs; jitter_c: how
 *   far the latency of a job that found a free engine strays from the floor (the unloaded
 *   estimate's uncertainty). All are learned
 *   from completions (service-time.ts: Little's law per job, so latency that is only
 *   queueing is not taken for slowness, and a device given fewer jobs than it has engines
 *   is not judged slow for it).
 * - Before the first completion of a class on a device, the driver's estimate
 *   (`Device.serviceEstimate`: a declared rate, engine count, datasheet figures) stands in;
 *   a device with neither is assumed as good as the best capable device that has figures
 *   (so it gets work and learns). When no capable device has any (a cold start without
 *   estimates), the static order decides: not a fallback, higher priority, key affinity,
 *   least loaded.
 * - A free engine first: when the lowest ECT is on a device that would queue the job (its
 *   engines, floor ÷ cost, all busy) and a device with a free engine has an ECT within ROOM
 *   of it, the job goes to the free engine. A job behind others finishes after all of them:
 *   its latency's spread grows with the queue, which the mean (jobs × cost) does not show.
 *   At saturation no device has a free engine and this changes nothing.
 * - The device with the lowest ECT gets the job now if it has room. If it is full, the job
 *   waits in the backlog for it (`reason` 'wait') and counts ahead of it for the rest of the
 *   pass (`beginPass`), so that later jobs spill to the next device exactly when waiting
 *   would finish later than running there. At saturation every device is kept full and
 *   each completes work in proportion to its throughput; at low load a job goes where it
 *   finishes first (the lowest floor).
 * - Priority and key-slot affinity are no longer absolute orders: a key-slot miss costs a
 *   key load (above), and ECTs within TIE of each other, or closer than their jitters
 *   summed (a difference the estimates' uncertainty cannot tell: on a loaded host a card
 *   whose hiccups had inflated its jitter, counted into its ECT as a tail, was passed over
 *   until the other card ran at 98% of its capacity), are decided by the static order
 *   (not the device that last failed the job, not a fallback; then, when both would have a
 *   free engine for it, the one with fewer of its engines busy — (jobs + 1) × cost ÷ floor
 *   — so that at low load each card runs as it would alone at its share of the load
 *   instead of the preferred one filling to its last engine, where a job arriving as all
 *   are busy queues; then priority, affinity, then a device already taking this tick's
 *   batch — equal cards under load take a tick's jobs in runs rather than one each, fewer
 *   doorbells and interrupts — then load).
 * - Retries: a retry avoids the device that last failed it whatever the ECT.
 * - Exploration probe: an idle capable device that got no job for PROBE_EVERY picks gets
 *   the next one, so figures gone stale (a cold start, a burst) are measured again.
 * - Work-conserving probe: when the best device is full and another capable device is idle
 *   (nothing in flight), the idle one takes the job rather than letting it wait.
 * - The fallback device (driver role 'fallback', the software provider) is a device like the
 *   others with its own measured rate: it gets work when that lowers the completion time.
 *   `fallback` keeps its meaning for failover (it takes the jobs of failed devices) and loses
 *   ties.
 * - Devices out of service (recovery: reset, self-test, backoff, absent) get nothing; one
 *   resetting by itself makes the job wait.
 * Within the device, see DeviceEntry.laneForNext.
 *
 * Cost. A pass over the backlog picks every job in it until one fits (jobs that wait count
 * ahead of their device): at saturation with a deep backlog that was ~50 picks per job
 * completed. Within a pass, the job after one of the same shape (no pin, exclusion or device
 * to avoid; the same alternatives array, or the same op, key object and padding) has the same
 * candidates, figures and key costs; only the device the one before went to has changed — one
 * more job waiting for it, or one more placed on it (its lane and jobs ahead are read again).
 * That one estimate is redone and the same selection run: the placement a full pick would make
 * (test/queue/completion-time: "a backlog waiting"). The shape of a runFirst job is its
 * alternatives' (each one's op, key object and padding, or the probe of one that builds its
 * request), so subtle's calls, each with alternatives of its own, share one.
 * With one device in the queue, a job of the shape the last pick placed on it is not checked
 * against its capabilities again (the one device could do that shape): only the device's state
 * and lane are read, as the full pick reads them — this was a tenth of the queue's intake per
 * `subtle` call on one card.
 */

import type { Alternative } from '../driver/device.js';
import { type PrimitiveRequest, privateKeyOf } from '../driver/primitives.js';
import type { DeviceEntry } from './device-entry.js';
import { type JobRecord, JobState } from './job.js';
import type { Lane } from './lane.js';
import { operationClass } from './latency.js';
import type { ClassService } from './service-time.js';

/** Why `pick` found no lane. */
export type NoLane =
  /** A capable device exists but is full or resetting: keep the job in the backlog. */
  | 'wait'
  /** No device in service (or coming back) can do the job. */
  | 'none';

/** ECTs within this fraction of each other are a tie (decided by the static order). */
export const TIE = 0.05;
/** What a key-slot miss costs, in jobs of the class (the key is loaded before the job runs). */
export const KEY_LOAD_COST = 1;
/** A device whose busy engines with the job, ÷ its engines, is at most this has a free engine (TIE for rounding). */
export const FREE = 1 + TIE;
/** A device with a free engine is preferred to a best that would queue the job if its ECT is within this factor. */
export const ROOM = 1.5;
/** ECTs closer than this many of their jitters (summed) are a tie: a difference the estimates cannot tell. */
export const UNCERTAINTY = 1;
/** An idle device that got no job for this many picks gets the next one (exploration probe). */
export const PROBE_EVERY = 256;

export class Scheduler {
  readonly #devices: readonly DeviceEntry[];
  /** Set when `pick` returns null. */
  reason: NoLane = 'none';
  /** Jobs placed so far (a clock for the exploration probe). */
  #picks = 0;
  /** Jobs that chose to wait for a full device in this pass over the backlog. */
  readonly #reserved = new Map<DeviceEntry, number>();
  // Candidates of one pick (reused arrays).
  readonly #entries: DeviceEntry[] = [];
  readonly #lanes: (Lane<DeviceEntry> | undefined)[] = [];
  readonly #alts: number[] = [];
  readonly #affinity: boolean[] = [];
  readonly #ect: number[] = [];
  readonly #floor: number[] = [];
  readonly #cost: number[] = [];
  readonly #jobs: number[] = [];
  readonly #util: number[] = [];
  readonly #spread: number[] = [];
  /** The candidate arrays #select reads, by name. */
  readonly #scratch = { lanes: this.#lanes, ect: this.#ect, util: this.#util };
  /** Whether this pick's job has a private key (a key-slot miss costs it a key load). */
  #keyed = false;
  /**
   * The candidate the last pick of this pass sent its job to, placed or waiting (-1: none): a
   * job of the same shape next (see #sameShape) sees the same candidates and figures but for
   * that one, so only its estimate is redone.
   */
  #memo = -1;
  /** Whether the job of the last pick was placed on candidate #memo (else it waits for it). */
  #memoPlaced = false;
  #memoN = 0;
  /** The shape of the job of the last pick of this pass. */
  readonly #memoShape = new Shape();
  /** The one device of the queue, while the jobs have the shape of the last one placed on it (else null). */
  #sole: DeviceEntry | null = null;
  #soleAlt = 0;
  readonly #soleShape = new Shape();

  constructor(devices: readonly DeviceEntry[]) {
    this.#devices = devices;
  }

  /** A new pass over the backlog starts: forget which jobs waited for which device. */
  beginPass(): void {
    if (this.#reserved.size > 0) this.#reserved.clear();
    this.#memo = -1;
  }

  /** The devices or a device's capabilities changed: rely on no shape remembered. */
  forget(): void {
    this.#memo = -1;
    this.#sole = null;
  }

  /** The lane for the job, with `record.altIndex` set to the alternative it will run; or null and `reason`. */
  pick(record: JobRecord): Lane<DeviceEntry> | null {
    if (this.#memo >= 0) {
      // A pass over a backlog whose jobs wait for a full device re-picked every one of them on
      // each pass (50 picks per job completed at saturation on ring + window + software, the
      // main thread's time per job doubled). The same decision, from the one estimate that moved.
      if (record.state === JobState.backlog && this.#memoShape.matches(record)) return this.#again(record);
      this.#memo = -1;
    }
    const devices = this.#devices;
    const sole = this.#sole;
    if (sole !== null) {
      if (devices.length === 1 && devices[0] === sole && this.#soleShape.matches(record)) {
        // As the full pick below, without the capability checks: the device's state, then its lane.
        if (sole.inService && sole.device.state === 'ready') {
          const lane = sole.laneForNext();
          if (lane === undefined) {
            this.reason = 'wait';
            return null;
          }
          record.aheadJobs = sole.held;
          record.altIndex = this.#soleAlt;
          return lane;
        }
      } else this.#sole = null;
    }
    const entries = this.#entries;
    const lanes = this.#lanes;
    const alts = this.#alts;
    const affinities = this.#affinity;
    let n = 0;
    let capable = false;
    let key: ReturnType<typeof privateKeyOf> | null = null;
    for (let i = 0; i < devices.length; i++) {
      const entry = devices[i]!;
      if (record.pinned !== null && entry.id !== record.pinned) continue;
      if (record.excluded?.includes(entry.id)) continue;
      // The device's own state is read too: its state event reaches the queue a microtask later.
      const state = entry.device.state;
      if (!entry.inService || state !== 'ready') {
        // A device resetting by itself comes back soon: wait for it. One the queue is recovering
        // (reset, self-test, backoff) may stay out long: the job fails with DeviceGoneError instead.
        if (
          !entry.removed &&
          state === 'resetting' &&
          entry.recovery === 'none' &&
          entry.firstCovered(record) >= 0
        )
          capable = true;
        continue;
      }
      const alt = entry.firstCovered(record);
      if (alt < 0) continue;
      capable = true;
      const lane = entry.laneForNext();
      let affinity = false;
      if (entry.device.keySlots !== undefined) {
        if (key === null) key = privateKeyOf(record.probeOf(alt));
        affinity = key !== undefined && entry.holds(key);
      }
      entries[n] = entry;
      lanes[n] = lane;
      alts[n] = alt;
      affinities[n] = affinity;
      n++;
    }
    // A key load is a cost only for a job with a private key (a public-key job loads none).
    this.#keyed = key !== null && key !== undefined;
    const chosen = n === 0 ? -1 : n === 1 ? this.#single(record) : this.#choose(record, n);
    if (n === 1 && devices.length === 1 && this.#soleShape.remember(record)) {
      this.#sole = entries[0]!;
      this.#soleAlt = alts[0]!;
    }
    // The candidate arrays are not cleared: they hold the queue's own long-lived device entries
    // and lanes (two Array.fill calls per job were a tenth of the pick's time).
    if (chosen >= 0) {
      const lane = lanes[chosen];
      if (lane !== undefined) {
        record.altIndex = alts[chosen]!;
        return lane;
      }
    }
    this.reason = capable ? 'wait' : 'none';
    return null;
  }

  /** One candidate: it runs the job if it has room; record what was ahead for learning. */
  #single(record: JobRecord): number {
    if (this.#lanes[0] === undefined) return -1;
    record.aheadJobs = this.#entries[0]!.held;
    return 0;
  }

  /** The figures of class `cls` on `entry`: learned, else the driver's estimate (asked once per class). */
  #figures(entry: DeviceEntry, cls: number, request: PrimitiveRequest): ClassService | undefined {
    const service = entry.service;
    const figures = service.of(cls);
    if (figures !== undefined || !service.ask(cls)) return figures;
    const estimate = entry.device.serviceEstimate?.(request);
    if (estimate !== undefined) service.hint(cls, estimate.opsPerSecond, estimate.latencyMs);
    return service.of(cls);
  }

  #choose(record: JobRecord, n: number): number {
    const known = this.#evaluate(record, n);
    if (known) {
      const chosen = this.#select(record, n);
      // Only backlog jobs (picked in a pass, with beginPass before) may reuse this.
      if (record.state === JobState.backlog) this.#remember(record, chosen, n);
      return chosen;
    }
    // A cold start (no figures, no estimates anywhere): the static order decides.
    const lanes = this.#lanes;
    let best = -1;
    for (let i = 0; i < n; i++)
      if (lanes[i] !== undefined && (best < 0 || better(this, i, best, record.avoid, false))) best = i;
    return best < 0 ? -1 : this.#place(record, best);
  }

  /** The job of this pick went to candidate `chosen` (placed, or waiting): remember its shape for the next pick. */
  #remember(record: JobRecord, chosen: number, n: number): void {
    if (!this.#memoShape.remember(record)) return;
    this.#memoN = n;
    this.#memo = chosen;
    this.#memoPlaced = this.#lanes[chosen] !== undefined;
  }

  /** The remembered candidates, with the one the last job went to brought up to date. */
  #again(record: JobRecord): Lane<DeviceEntry> | null {
    const moved = this.#memo;
    if (this.#memoPlaced) {
      // The last job was placed there: its lane and jobs ahead as they are now.
      const entry = this.#entries[moved]!;
      this.#lanes[moved] = entry.laneForNext();
      this.#jobs[moved] = entry.held + (this.#reserved.size === 0 ? 0 : (this.#reserved.get(entry) ?? 0));
    } else this.#jobs[moved]!++; // the last job waits for it
    this.#estimate(moved);
    const chosen = this.#select(record, this.#memoN);
    this.#memo = chosen;
    const lane = this.#lanes[chosen];
    this.#memoPlaced = lane !== undefined;
    if (lane === undefined) {
      this.reason = 'wait';
      return null;
    }
    record.altIndex = this.#alts[chosen]!;
    return lane;
  }

  /**
   * Each candidate's figures, jobs ahead, engines busy with the job (`util`) and ECT; false when
   * no candidate has figures (a cold start).
   */
  #evaluate(record: JobRecord, n: number): boolean {
    const entries = this.#entries;
    const alts = this.#alts;
    const floors = this.#floor;
    const costs = this.#cost;
    const spread = this.#spread;
    // Known figures: the best floor and cost among devices that have one (for those without).
    let bestFloor = Number.POSITIVE_INFINITY;
    let bestCost = Number.POSITIVE_INFINITY;
    let lastAlt = -1;
    let cls = 0;
    for (let i = 0; i < n; i++) {
      const alt = alts[i]!;
      if (alt !== lastAlt) {
        cls = operationClass(record.probeOf(alt));
        lastAlt = alt;
      }
      const figures = this.#figures(entries[i]!, cls, record.probeOf(alt));
      if (figures === undefined) {
        costs[i] = -1;
        continue;
      }
      costs[i] = figures.cost;
      floors[i] = figures.floor;
      spread[i] = figures.jitter;
      if (figures.floor < bestFloor) bestFloor = figures.floor;
      if (figures.cost < bestCost) bestCost = figures.cost;
    }
    if (bestCost === Number.POSITIVE_INFINITY) return false;
    const reserved = this.#reserved;
    for (let i = 0; i < n; i++) {
      if (costs[i]! < 0) {
        costs[i] = bestCost;
        floors[i] = bestFloor;
        spread[i] = 0;
      }
      const entry = entries[i]!;
      this.#jobs[i] = entry.held + (reserved.size === 0 ? 0 : (reserved.get(entry) ?? 0));
      this.#estimate(i);
    }
    return true;
  }

  /** Candidate i's util and ECT from its jobs ahead and figures. */
  #estimate(i: number): void {
    const cost = this.#cost[i]!;
    const floor = this.#floor[i]!;
    const jobs = this.#jobs[i]!;
    const entry = this.#entries[i]!;
    // The share of its engines the device would have busy with this job (above 1: it queues).
    this.#util[i] = ((jobs + 1) * cost) / floor;
    let t = Math.max(floor, jobs * (entry.service.meanCost || cost) + cost);
    if (this.#keyed && entry.device.keySlots !== undefined && !this.#affinity[i]) t += KEY_LOAD_COST * cost;
    this.#ect[i] = t;
  }

  /** With every candidate estimated: the lowest ECT, then the free-engine rule and the probes. */
  #select(record: JobRecord, n: number): number {
    const { lanes, ect, util } = this.#scratch;
    let best = -1;
    for (let i = 0; i < n; i++) if (best < 0 || better(this, i, best, record.avoid, true)) best = i;
    if (util[best]! > FREE) {
      // The best would queue the job (or make it wait for a full device): a device where it
      // finds a free engine goes first if its ECT is within ROOM of the best. A job behind
      // others finishes only after all of them, so its latency's spread grows with the queue,
      // and the estimate (jobs × cost) is a mean that says nothing of it: a steady card filled
      // to its last engine at half of the pair's capacity made the jobs wait there for
      // ~300 ms at p99 while the other card, a little less steady, stood almost idle.
      let free = -1;
      for (let i = 0; i < n; i++)
        if (
          lanes[i] !== undefined &&
          util[i]! <= FREE &&
          ect[i]! <= ROOM * ect[best]! &&
          this.#entries[i]!.id !== record.avoid &&
          (free < 0 || ect[i]! < ect[free]!)
        )
          free = i;
      if (free >= 0) best = free;
    }
    // Exploration probe: an idle device passed over for PROBE_EVERY picks gets this job, so
    // figures that went stale (a cold start, a burst) are measured again.
    const stale = this.#picks - PROBE_EVERY;
    for (let i = 0; i < n; i++)
      if (
        i !== best &&
        lanes[i] !== undefined &&
        this.#jobs[i] === 0 &&
        this.#entries[i]!.service.lastPick < stale &&
        this.#entries[i]!.id !== record.avoid
      ) {
        best = i;
        break;
      }
    if (lanes[best] === undefined) {
      // Work-conserving probe: rather than wait, an idle device takes the job. Its figures may
      // be stale (learned under a cold start or a burst); without a job it never learns better.
      let idle = -1;
      for (let i = 0; i < n; i++)
        if (lanes[i] !== undefined && this.#jobs[i] === 0 && (idle < 0 || ect[i]! < ect[idle]!)) idle = i;
      if (idle >= 0) best = idle;
    }
    return this.#place(record, best);
  }

  /** Candidate `best` takes the job now, or (full) the job waits for it, counted ahead of it. */
  #place(record: JobRecord, best: number): number {
    const entry = this.#entries[best]!;
    if (this.#lanes[best] === undefined) {
      this.#reserved.set(entry, (this.#reserved.get(entry) ?? 0) + 1);
      return best;
    }
    record.aheadJobs = entry.held;
    entry.service.lastPick = ++this.#picks;
    return best;
  }

  /** For the comparisons: candidate i's figures. */
  entryAt(i: number): DeviceEntry {
    return this.#entries[i]!;
  }
  affinityAt(i: number): boolean {
    return this.#affinity[i]!;
  }
  ectAt(i: number): number {
    return this.#ect[i]!;
  }
  /** Candidate i's jitter (the uncertainty of its unloaded estimate), ms. */
  spreadAt(i: number): number {
    return this.#spread[i]!;
  }
  /** Candidate i's engines busy with the job, as a share of its engines (floor ÷ cost); above 1 it queues. */
  utilAt(i: number): number {
    return this.#util[i]!;
  }
  /** Whether candidate i's lane already has jobs for this tick's doorbell. */
  batchingAt(i: number): boolean {
    return (this.#lanes[i]?.pending.length ?? 0) > 0;
  }
}

/**
 * Whether candidate a goes before b. The retry rule comes first; then, when figures are
 * known (`byEct`), the lower expected completion time, ECTs within TIE or their jitters being a tie; then the
 * static order. In a tie decided with figures known, a device that already has jobs for this
 * tick's doorbell goes before one without, so that equal devices under load take a tick's
 * jobs in runs (one doorbell and one interrupt's worth of completions per run, instead of
 * alternating job by job); without figures (a cold start) the least loaded goes first.
 */
function better(s: Scheduler, a: number, b: number, avoid: string | null, byEct: boolean): boolean {
  const ea = s.entryAt(a);
  const eb = s.entryAt(b);
  if (avoid !== null) {
    const aAvoided = ea.id === avoid;
    if (aAvoided !== (eb.id === avoid)) return !aAvoided;
  }
  if (byEct) {
    const ta = s.ectAt(a);
    const tb = s.ectAt(b);
    const margin = TIE * Math.min(ta, tb) + UNCERTAINTY * (s.spreadAt(a) + s.spreadAt(b));
    if (Math.abs(ta - tb) > margin) return ta < tb;
  }
  if (ea.fallback !== eb.fallback) return !ea.fallback;
  if (byEct) {
    // Both have a free engine for it: the one less busy, so that at low load each device runs
    // as it would alone at its share of the load (no queueing near a full one's engines).
    const ua = s.utilAt(a);
    const ub = s.utilAt(b);
    if (ua !== ub && ua <= 1 && ub <= 1) return ua < ub;
  }
  if (ea.priority !== eb.priority) return ea.priority > eb.priority;
  const affinity = s.affinityAt(a);
  if (affinity !== s.affinityAt(b)) return affinity;
  if (byEct) {
    const batching = s.batchingAt(a);
    if (batching !== s.batchingAt(b)) return batching;
  }
  return ea.load < eb.load;
}

/** A request's fields the shape reads. */
type Shaped = { readonly op: string; readonly key?: unknown; readonly padding?: unknown };
/** Marks an alternative that builds its request: its probe stands for it (in `ops`). */
const BUILDS = Symbol('builds');

/**
 * What decides which devices cover a job, its operation class and its key-slot cost: no pin,
 * exclusion or device to avoid, and per alternative (the plain request is one) the op, key object
 * and padding — or the probe object of one that builds its request. A job whose alternatives are
 * the same array as the remembered one's has its shape whatever they hold; otherwise a request
 * with no key (ec-mul, keygen) has none: a plain one, or one among alternatives of another array.
 */
class Shape {
  #n = -1;
  /** The remembered job's alternatives (null: a plain request), and whether only that array matches. */
  #alternatives: readonly Alternative[] | null = null;
  #sameArrayOnly = false;
  readonly #ops: unknown[] = [];
  readonly #keys: unknown[] = [];
  readonly #paddings: unknown[] = [];

  /** Remember the job's shape; false (and none remembered) if it has none. */
  remember(record: JobRecord): boolean {
    this.#n = -1;
    if (record.pinned !== null || record.excluded !== null || record.avoid !== null) return false;
    const alternatives = record.alternatives;
    const n = alternatives === null ? 1 : alternatives.length;
    this.#sameArrayOnly = false;
    for (let i = 0; i < n; i++) {
      const alt: Alternative = alternatives === null ? record.request : alternatives[i]!;
      if ('probe' in alt) {
        this.#ops[i] = alt.probe;
        this.#keys[i] = BUILDS;
        this.#paddings[i] = undefined;
        continue;
      }
      const request = alt as Shaped;
      if (request.key === undefined) {
        if (alternatives === null) return false;
        this.#sameArrayOnly = true;
      }
      this.#ops[i] = request.op;
      this.#keys[i] = request.key;
      this.#paddings[i] = request.padding;
    }
    this.#alternatives = alternatives;
    this.#n = n;
    return true;
  }

  /** Whether the job is of the remembered shape. */
  matches(record: JobRecord): boolean {
    if (record.pinned !== null || record.excluded !== null || record.avoid !== null) return false;
    const alternatives = record.alternatives;
    const n = alternatives === null ? 1 : alternatives.length;
    if (n !== this.#n) return false;
    if (alternatives !== null && alternatives === this.#alternatives) return true;
    if (this.#sameArrayOnly) return false;
    for (let i = 0; i < n; i++) {
      const alt: Alternative = alternatives === null ? record.request : alternatives[i]!;
      if ('probe' in alt) {
        if (this.#keys[i] !== BUILDS || this.#ops[i] !== alt.probe) return false;
        continue;
      }
      const request = alt as Shaped;
      if (
        request.key !== this.#keys[i] ||
        request.op !== this.#ops[i] ||
        request.padding !== this.#paddings[i]
      )
        return false;
    }
    return true;
  }
}
