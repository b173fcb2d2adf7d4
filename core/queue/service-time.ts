/**
 * Service-time learning for the scheduler (issue 14): per device and per
 * operation class (latency.ts's `operationClass`), two figures learned from
 * completions.
 *
 * - `floor` (s): how long one job of the class takes when nothing queues ahead of
 *   it — engine time plus transfer (doorbell, DMA or register writes, interrupt,
 *   harvest). Learned from jobs dispatched when the work predicted ahead of them
 *   was below half the floor.
 * - `cost` (t): device time per job at saturation, i.e. 1 / throughput. This is
 *   NOT the latency: a card with E engines and n ≥ E jobs in flight finishes a
 *   new job after about n·t, and t = s / E. Latency alone cannot give t (E is
 *   unknown and latency includes queueing), so t is learned by Little's law per
 *   job: at dispatch the scheduler records the work predicted ahead of the job
 *   (W = jobs ahead × the device's mean cost); when the prediction says the job
 *   queues (W + t > s), the measured latency L over W + t says how far off the
 *   cost is and t moves by 1/8 of that ratio (clamped to ½…2 per sample). When
 *   the device is underfed (W + t ≤ s, fewer jobs than engines) a sample says
 *   nothing about t and leaves it alone — so a device given little work is not
 *   judged slow for it (the trap of a rate measured over an idle card).
 *   The first sample of a class sets t = L / (jobs ahead + 1), s = L.
 *
 * A driver may give a starting estimate (`hint`, ops/s): t = 1/hint until
 * samples come. Cost: one Map lookup and a few multiplications per completion.
 */

/** Weight of a new sample. */
export const SERVICE_WEIGHT = 1 / 8;

/** What one device has shown for one operation class. */
export interface ClassService {
  /** Unloaded latency, ms. */
  floor: number;
  /** Device time per job at saturation (1 / throughput), ms. */
  cost: number;
  /** Samples seen. */
  samples: number;
}

export class ServiceModel {
  readonly #classes = new Map<number, ClassService>();
  /** EWMA of the cost of the jobs dispatched to the device, ms: the work one job in flight stands for. */
  meanCost = 0;
  /** The scheduler's pick count when the device last got a job (for its exploration probe). */
  lastPick = 0;

  /** The learned figures of a class, if any sample (or hint) was seen. */
  of(key: number): ClassService | undefined {
    return this.#classes.get(key);
  }

  /** A starting estimate: `opsPerSecond` for the class, unloaded latency `floorMs`. */
  hint(key: number, opsPerSecond: number, floorMs: number): void {
    if (this.#classes.has(key) || !(opsPerSecond > 0)) return;
    this.#classes.set(key, { floor: Math.max(0, floorMs), cost: 1000 / opsPerSecond, samples: 0 });
  }

  /** A job of class `key` was given to the device; its predicted cost feeds `meanCost`. */
  dispatched(cost: number): void {
    this.meanCost = this.meanCost === 0 ? cost : this.meanCost + SERVICE_WEIGHT * (cost - this.meanCost);
  }

  /**
   * A job of class `key` completed after `ms` (doorbell to harvest); at dispatch
   * `aheadJobs` jobs were in flight on the device and `aheadMs` of work was predicted
   * ahead of it (−1: no prediction).
   */
  observe(key: number, ms: number, aheadJobs: number, aheadMs: number): void {
    if (!(ms >= 0)) return;
    let c = this.#classes.get(key);
    if (c === undefined || c.samples === 0) {
      const first = c === undefined;
      c ??= { floor: ms, cost: ms / (Math.max(0, aheadJobs) + 1), samples: 0 };
      if (!first) {
        // A hint: keep its cost, learn the floor.
        c.floor = ms;
      }
      c.samples = 1;
      this.#classes.set(key, c);
      return;
    }
    c.samples++;
    const ahead = aheadMs < 0 ? aheadJobs * c.cost : aheadMs;
    const predicted = ahead + c.cost;
    if (predicted > c.floor) {
      // Queueing predicted: the latency measures the work ahead plus this job.
      const ratio = Math.min(2, Math.max(0.5, ms / predicted));
      c.cost *= 1 + SERVICE_WEIGHT * (ratio - 1);
    } else if (ms <= 2 * c.floor || ahead === 0) {
      // Underfed: the latency is the unloaded latency. Down fast (a floor learned during a
      // cold start — worker spin-up, JIT — is far too high), up slowly.
      c.floor += (ms < c.floor ? 0.5 : SERVICE_WEIGHT) * (ms - c.floor);
    } else {
      // Predicted no queueing but the job queued: the cost is higher than thought.
      const ratio = Math.min(2, ms / (2 * c.floor));
      c.cost *= 1 + SERVICE_WEIGHT * (ratio - 1);
    }
    if (c.cost > c.floor && c.floor > 0) c.cost = c.floor; // one job never costs more than its latency
  }

  /** Every class with its figures, for stats and benches. */
  entries(): {
    readonly key: number;
    readonly floorMs: number;
    readonly costMs: number;
    readonly samples: number;
  }[] {
    return [...this.#classes].map(([key, c]) => ({
      key,
      floorMs: c.floor,
      costMs: c.cost,
      samples: c.samples,
    }));
  }
}
