/**
 * Service-time learning for the scheduler (issue 14): per device and per operation
 * class (latency.ts's `operationClass`), figures learned from completions.
 *
 * - `floor` (s): how long one job of the class takes when nothing is ahead of it —
 *   engine time plus transfer (doorbell, DMA or register writes, interrupt, harvest).
 *   Learned from jobs dispatched with nothing in flight on the device; any faster
 *   sample pulls it down at once (a cold start — worker spin-up, JIT — makes the first
 *   samples slow). A job that queued says nothing about it.
 * - `cost` (t): device time per job at saturation, i.e. 1 / throughput. NOT the
 *   latency: a card with E engines and n ≥ E jobs in flight finishes a new job after
 *   about (n + 1)·t, with t = s / E. So each completion gives the job's share of its
 *   latency, L / (n + 1), n being the jobs in flight when it was dispatched (Little's
 *   law for one job). When the job visibly queued (jobs ahead, L above QUEUED floors)
 *   the share is the cost; otherwise (fewer jobs than engines: L is the floor) it is
 *   only an upper bound, which may lower the cost but never raise it — so a device
 *   given little work is not judged slow for it (the trap of a rate measured over an
 *   idle card). An upper bound below the cost moves it half way at once: a device
 *   whose cost was learned too high gets only the few jobs that cost allows, and at
 *   1/8 per sample it took seconds to earn its share (a window card at 0.91 of its
 *   share after 1 s of saturation, test/queue/completion-time). The estimate uses
 *   measurements only, never its own prediction: an estimator fed the work it
 *   predicted ahead of each job oscillated on a deep card (its prediction lags a
 *   whole queue's latency behind).
 * - `jitter` (s): how far the latency of a job that found a free engine (fewer jobs
 *   ahead than floor ÷ cost) strays from the floor, EWMA of |L − floor|: the
 *   uncertainty of the unloaded estimate. The scheduler takes ECTs closer than their
 *   jitters for a tie (it does not add the jitter to the ECT: a card whose hiccups had
 *   inflated it was passed over until the other ran at 98% of its capacity).
 * - `meanCost`, per device: the same share over whatever mix of classes it runs, the
 *   work one job in flight stands for in the scheduler's estimate.
 *
 * A driver may give a starting estimate (`hint`: ops/s and unloaded latency, from
 * Device.serviceEstimate) until samples come. Cost: a Map lookup and a few
 * multiplications per completion.
 */

/** Weight of a new sample. */
export const SERVICE_WEIGHT = 1 / 8;
/** Weight of a jitter sample (a spread needs many samples; one outlier must not swing it). */
export const JITTER_WEIGHT = 1 / 32;
/** Weight of an upper bound below the cost (no queueing seen): a cost learned too high comes down fast. */
export const DOWN_WEIGHT = 1 / 2;
/** A latency above this many floors, with jobs ahead, is queueing. */
export const QUEUED = 1.25;

/** What one device has shown for one operation class. */
export interface ClassService {
  /** Unloaded latency, ms. */
  floor: number;
  /** Device time per job at saturation (1 / throughput), ms. */
  cost: number;
  /** EWMA of |latency − floor| of jobs that found a free engine, ms (the floor's uncertainty). */
  jitter: number;
  /** Samples seen. */
  samples: number;
}

export class ServiceModel {
  readonly #classes = new Map<number, ClassService>();
  /**
   * Device time per job at saturation over the jobs it runs, whatever their class, ms (0: no
   * sample yet): what one job in flight on the device stands for.
   */
  meanCost = 0;
  /** The scheduler's pick count when the device last got a job (for its exploration probe). */
  lastPick = 0;

  /** Classes the driver was asked about (Device.serviceEstimate), answer or not. */
  readonly #asked = new Set<number>();

  /** True the first time only: whether to ask the driver for its estimate of class `key`. */
  ask(key: number): boolean {
    if (this.#asked.has(key)) return false;
    this.#asked.add(key);
    return true;
  }

  /** The learned figures of a class, if any sample (or hint) was seen. */
  of(key: number): ClassService | undefined {
    return this.#classes.get(key);
  }

  /** A starting estimate: `opsPerSecond` for the class, unloaded latency `floorMs`. */
  hint(key: number, opsPerSecond: number, floorMs: number): void {
    if (this.#classes.has(key) || !(opsPerSecond > 0)) return;
    const cost = 1000 / opsPerSecond;
    this.#classes.set(key, { floor: Math.max(cost, floorMs), cost, jitter: 0, samples: 0 });
  }

  /**
   * A job of class `key` completed after `ms` (doorbell to harvest); `aheadJobs` jobs were in
   * flight on the device when it was dispatched.
   */
  observe(key: number, ms: number, aheadJobs: number): void {
    if (!(ms >= 0)) return;
    const jobs = Math.max(0, aheadJobs);
    // Little's law for one job: with n jobs ahead on a busy device, it completes after about
    // (n + 1) × cost. With fewer jobs than engines it completes after its unloaded latency
    // instead, and ms / (n + 1) only bounds the cost from above.
    const share = ms / (jobs + 1);
    let c = this.#classes.get(key);
    if (c === undefined) {
      // The first sample: an upper bound of the unloaded latency, and the job's share of it.
      c = { floor: ms, cost: share, jitter: 0, samples: 1 };
      this.#classes.set(key, c);
      this.#learnMean(share, true);
      return;
    }
    c.samples++;
    // A free engine was expected (fewer jobs ahead than the engines floor ÷ cost): the latency
    // should have been the floor; how far it strayed is the floor's uncertainty.
    // Slowly, and each sample counted at most one floor: on a loaded host a single hiccup (a model
    // thread descheduled for 300 ms) moved a 1/8 average from 1 to 86 ms and sent the next jobs
    // all to the other card, past its engines, where they queued.
    const free = (jobs + 1) * c.cost <= c.floor;
    if (free) c.jitter += JITTER_WEIGHT * (Math.min(Math.abs(ms - c.floor), c.floor) - c.jitter);
    // The floor is the latency with nothing ahead: down fast (a cold start — worker spin-up,
    // JIT — makes the first samples far too slow), up only from a job that had nothing ahead of
    // it. A job behind others says nothing about the floor, down or up: after 3 s of saturation
    // a timed ring card of 80 ms per job had its floor pulled to 49.5 ms by such samples, took its
    // 80 ms latency at low load for queueing, and its cost rose to 3× the truth.
    if (ms < c.floor) {
      if (free) c.floor += 0.5 * (ms - c.floor);
    } else if (jobs === 0) c.floor += SERVICE_WEIGHT * (ms - c.floor);
    // Queueing seen (jobs ahead and a latency well above the floor): the share is the cost.
    // Otherwise it is an upper bound: it may lower the cost, never raise it (an underfed
    // device is not judged slow for being underfed).
    const queued = jobs > 0 && ms > QUEUED * c.floor;
    if (queued) c.cost += SERVICE_WEIGHT * (share - c.cost);
    else if (share < c.cost) c.cost += DOWN_WEIGHT * (share - c.cost);
    if (c.cost > c.floor) c.cost = c.floor; // one job never costs more than its latency
    this.#learnMean(share, queued);
  }

  #learnMean(share: number, queued: boolean): void {
    if (this.meanCost === 0) this.meanCost = share;
    else if (queued) this.meanCost += SERVICE_WEIGHT * (share - this.meanCost);
    else if (share < this.meanCost) this.meanCost += DOWN_WEIGHT * (share - this.meanCost);
  }

  /** Every class with its figures, for stats and benches. */
  entries(): {
    readonly key: number;
    readonly floorMs: number;
    readonly costMs: number;
    readonly jitterMs: number;
    readonly samples: number;
  }[] {
    return [...this.#classes].map(([key, c]) => ({
      key,
      floorMs: c.floor,
      costMs: c.cost,
      jitterMs: c.jitter,
      samples: c.samples,
    }));
  }
}
