/**
 * Latency learning (COORDINATION contract 7): per queue pair and per operation
 * class — the primitive op plus its size (RSA modulus bits, EC curve) — an
 * exponentially weighted moving average of completion latency (doorbell to
 * harvest), of its absolute deviation, and of the cost of one job in flight
 * (latency ÷ (jobs ahead of it on the queue pair + 1)). The job queue judges stalls
 * from them by progress (`stallLimit`, job-queue.ts's sweep): a queue pair that has
 * completed nothing for a multiple of its oldest job's latency plus the cost of all
 * the device holds, or whose oldest job was overtaken and stays out a multiple of its
 * latency, has stopped. An age limit (the oldest job against a multiple of the
 * latency) is not used for that: a latency learned at low load says nothing about a
 * job sent behind hundreds of others. `limit` (that age limit) remains as the wake-up
 * time of the queue's timer.
 *
 * Cost: one small-integer class key per completion (no string, no allocation
 * once the class is known) and a Map lookup.
 */

import { PRIMITIVE_OPS, type PrimitiveOp, type PrimitiveRequest } from '../driver/primitives.js';
import type { ServiceModel } from './service-time.js';

/** Weight of a new sample. 1/8: about the last dozen completions of the class count. */
export const EWMA_WEIGHT = 1 / 8;
/** Samples of a class before its learned limit may go down to the floor. */
export const WARM_SAMPLES = 8;
/** Until then the limit is at least this many floors (1 s with the default 250 ms floor). */
export const COLD_FLOOR_FACTOR = 4;

const OPS: readonly PrimitiveOp[] = PRIMITIVE_OPS;
const OP_INDEX = new Map<PrimitiveOp, number>(OPS.map((op, i) => [op, i]));
const CURVE_SIZE: Readonly<Record<string, number>> = {
  'P-256': 256,
  'P-384': 384,
  'P-521': 521,
  Ed25519: 255,
  X25519: 255,
};

/** The size part of a request's class: RSA modulus bits, or the curve's size; 0 if none. */
function sizeOf(request: PrimitiveRequest): number {
  switch (request.op) {
    case 'rsa-public':
    case 'rsa-private':
    case 'rsa-sign':
    case 'rsa-verify':
    case 'rsa-encrypt':
    case 'rsa-decrypt':
      return request.key.bits;
    case 'ec-mul':
      return CURVE_SIZE[request.curve] ?? 0;
    case 'keygen':
      return request.spec.kind === 'rsa' ? request.spec.bits : (CURVE_SIZE[request.spec.curve] ?? 0);
    default:
      return CURVE_SIZE[request.key.curve] ?? 0;
  }
}

/** A number naming the operation class of a request: op and size. */
export function operationClass(request: PrimitiveRequest): number {
  return (OP_INDEX.get(request.op) ?? 15) * 65_536 + sizeOf(request);
}

/** A readable name for a class key, e.g. `rsa-private/2048`. */
export function className(key: number): string {
  const op = OPS[Math.floor(key / 65_536)] ?? '?';
  const size = key % 65_536;
  return size === 0 ? op : `${op}/${size}`;
}

/** The learned latency of one operation class. */
export interface ClassLatency {
  /** EWMA of the latency, in ms. */
  mean: number;
  /** EWMA of |sample − mean|, in ms. */
  deviation: number;
  /**
   * EWMA of latency ÷ (jobs ahead on the queue pair at dispatch + 1), in ms: what one job
   * in flight stands for in time (a device's time per job at its depth, or more when it
   * is underfed). Stall detection multiplies it by the jobs in flight.
   */
  cost: number;
  /** Samples seen. */
  samples: number;
}

/**
 * The latencies one queue pair (or, as the parent of its queue pairs, one device) has
 * shown, per operation class.
 */
export class LatencyModel {
  readonly #classes = new Map<number, ClassLatency>();
  /** Across classes: what the queue pair takes in general, for a class not seen yet. */
  readonly overall: ClassLatency = { mean: 0, deviation: 0, cost: 0, samples: 0 };
  /** The device's model: every sample goes there too, and it answers for a class this queue pair has not seen. */
  readonly parent: LatencyModel | undefined;

  /** The device's service-time model (scheduler, issue 14): fed with each sample and what was predicted ahead of it. */
  readonly service: ServiceModel | undefined;

  constructor(parent?: LatencyModel, service?: ServiceModel) {
    this.parent = parent;
    this.service = service;
  }

  /**
   * Record one completion of `request` that took `ms` from doorbell to harvest; `aheadJobs`:
   * the jobs in flight on its device when the scheduler dispatched it (JobRecord).
   */
  observe(request: PrimitiveRequest, ms: number, aheadJobs = 0, queued = 0): void {
    this.observeClass(operationClass(request), ms, aheadJobs, queued);
  }

  /**
   * Record one completion of class `key` (operationClass) that took `ms`; `queued`: the jobs
   * ahead of it on its queue pair when it was given its tag (for `cost`).
   */
  observeClass(key: number, ms: number, aheadJobs = 0, queued = 0): void {
    let c = this.#classes.get(key);
    if (c === undefined) {
      c = { mean: 0, deviation: 0, cost: 0, samples: 0 };
      this.#classes.set(key, c);
    }
    update(c, ms, queued);
    update(this.overall, ms, queued);
    this.service?.observe(key, ms, aheadJobs);
    this.parent?.observeClass(key, ms, aheadJobs, queued);
  }

  /** The learned latency of a class key (operationClass), if any sample was seen. */
  ofClass(key: number): ClassLatency | undefined {
    return this.#classes.get(key);
  }

  /** The learned latency of the request's class, if any sample was seen. */
  of(request: PrimitiveRequest): ClassLatency | undefined {
    return this.#classes.get(operationClass(request));
  }

  /**
   * How long a job of this class may wait before its queue pair counts as stalled:
   * `factor` × (mean + deviation) of its class on this queue pair; for a class it has not
   * seen, of that class on the device (the parent), else of anything on the queue pair, else
   * on the device; `ceiling` when nothing was seen. Kept within [floor, ceiling], the floor
   * raised to COLD_FLOOR_FACTOR × floor while that figure rests on fewer than WARM_SAMPLES.
   */
  limit(request: PrimitiveRequest, factor: number, floor: number, ceiling: number): number {
    const key = operationClass(request);
    const parent = this.parent;
    const basis =
      this.#classes.get(key) ??
      parent?.ofClass(key) ??
      (this.overall.samples > 0 ? this.overall : undefined) ??
      (parent !== undefined && parent.overall.samples > 0 ? parent.overall : undefined);
    if (basis === undefined) return ceiling;
    const limit = factor * (basis.mean + basis.deviation);
    // Few samples say little (a cold start — a worker pool spinning up, a key loaded into a
    // slot — makes the second job slower than the first): a higher floor until WARM_SAMPLES.
    const low = basis.samples < WARM_SAMPLES ? Math.min(ceiling, COLD_FLOOR_FACTOR * floor) : floor;
    return Math.max(low, Math.min(limit, ceiling));
  }

  /** A class's figure on this queue pair, else on the device (the parent); undefined if neither saw it. */
  known(key: number): ClassLatency | undefined {
    return this.#classes.get(key) ?? this.parent?.ofClass(key);
  }

  /** Every class with its learned latency, for stats. */
  entries(): {
    readonly operation: string;
    readonly meanMs: number;
    readonly deviationMs: number;
    readonly samples: number;
  }[] {
    return [...this.#classes].map(([key, c]) => ({
      operation: className(key),
      meanMs: c.mean,
      deviationMs: c.deviation,
      samples: c.samples,
    }));
  }
}

/**
 * A progress-based stall limit (job-queue.ts's sweep): `factor` × the latency of `figure`
 * (the oldest job's class: mean + deviation) plus `work` ms (the learned cost of the jobs
 * the device holds, already an upper estimate: a cost learned while the device was
 * underfed is its whole latency), kept within [floor, ceiling], the floor raised to
 * COLD_FLOOR_FACTOR × floor while the figure rests on fewer than WARM_SAMPLES; the
 * ceiling when that class was never seen or `work` is unknown (a held job of a class
 * nobody has measured).
 */
export function stallLimit(
  figure: ClassLatency | undefined,
  work: number,
  factor: number,
  floor: number,
  ceiling: number,
): number {
  if (figure === undefined || !Number.isFinite(work)) return ceiling;
  const low = figure.samples < WARM_SAMPLES ? Math.min(ceiling, COLD_FLOOR_FACTOR * floor) : floor;
  return Math.max(low, Math.min(factor * (figure.mean + figure.deviation) + work, ceiling));
}

function update(c: ClassLatency, ms: number, queued: number): void {
  const cost = ms / (Math.max(0, queued) + 1);
  if (c.samples === 0) {
    c.mean = ms;
    c.deviation = 0;
    c.cost = cost;
  } else {
    const error = ms - c.mean;
    c.mean += EWMA_WEIGHT * error;
    c.deviation += EWMA_WEIGHT * (Math.abs(error) - c.deviation);
    c.cost += EWMA_WEIGHT * (cost - c.cost);
  }
  c.samples++;
}
