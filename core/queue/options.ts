/**
 * The job queue's options, as `openAccelerator` takes them, and their defaults.
 */

import type { Device, Witness } from '../driver/device.js';
import { type SelfTestOptions, type SelfTestReport, selfTestDevice } from '../selftest/device-self-test.js';

/**
 * Runs the known-answer self-test on a device the queue is bringing back into service;
 * resolves to its report (a report that did not pass keeps the device out).
 *
 * @category Queue and stats
 */
export type SelfTestRunner = (device: Device, options: SelfTestOptions) => Promise<SelfTestReport>;

import type { IntegrityOptions } from '../integrity/options.js';

/**
 * What `submit` does when the backlog already holds `maxBacklog` jobs: `wait` in
 * order, or `reject` with QueueFullError.
 *
 * @category Queue and stats
 */
export type BacklogFullPolicy = 'wait' | 'reject';

/**
 * The job queue's options (`openAccelerator({ queue })`): backlog bound, deadlines
 * and retries, stall detection, fault accounting and recovery, interrupt/poll
 * switching, stats sampling, and the integrity gate. Every member is optional;
 * out-of-range values throw a RangeError naming the option.
 *
 * @example
 * ```ts
 * const accel = await openAccelerator({
 *   queue: { maxBacklog: 4096, onBacklogFull: 'reject', timeoutMs: 5_000, retries: 1 },
 * });
 * ```
 *
 * @category Queue and stats
 */
export interface QueueOptions {
  /**
   * The most jobs waiting for a device (not yet in flight). Default 65,536.
   * Jobs beyond it are counted as `waiting` in the stats (policy `wait`) or refused.
   */
  readonly maxBacklog?: number;
  /**
   * `wait` (default): the job waits in order behind the backlog until it fits; its
   * deadline and signal still apply. `reject`: `submit` rejects at once with QueueFullError.
   */
  readonly onBacklogFull?: BacklogFullPolicy;
  /** Default deadline of a job, from submission to result, in ms; 0 = none. Default 30,000. */
  readonly timeoutMs?: number;
  /** How many times a job is re-run after a device failed it (device error, removal, stall). Default 2. */
  readonly retries?: number;
  /**
   * Explicit stall limit: a queue pair with jobs in flight and no completion for this
   * long is abandoned (reset) and its jobs retried elsewhere. Default: none, stalls are
   * judged from the learned latency (`stallFactor`, `stallFloorMs`, `stallCeilingMs`).
   */
  readonly stallTimeoutMs?: number;
  /**
   * A queue pair with jobs out is stalled when it has completed nothing for this many times
   * the latency its oldest job's operation class has shown (EWMA, core/queue/latency.ts),
   * plus the learned cost of every job the device holds; or when its oldest job was
   * overtaken by later ones and is still out this many times that latency after. Default 4.
   */
  readonly stallFactor?: number;
  /** The learned stall limit is never below this, in ms. Default 250. */
  readonly stallFloorMs?: number;
  /**
   * The learned stall limit is never above this, in ms (also the limit before any latency
   * has been seen). Default min(5,000, timeoutMs / 4), 5,000 when timeoutMs is 0.
   */
  readonly stallCeilingMs?: number;
  /**
   * Faults (integrity failures, device errors, nonsense or duplicate completions, stalls)
   * within `faultWindowMs` that take a device out of service for recovery. Default 3.
   */
  readonly faultThreshold?: number;
  /** The window in which faults are counted, in ms. Default 60,000. */
  readonly faultWindowMs?: number;
  /**
   * Recovery attempts (reset, then the known-answer self-test) before a device that
   * left service stays out for good. Default 6.
   */
  readonly recoveryAttempts?: number;
  /** Wait before the second recovery attempt, doubled before each later one, in ms. Default 250. */
  readonly recoveryBackoffMs?: number;
  /** The longest wait between recovery attempts, in ms. Default 30,000. */
  readonly recoveryBackoffMaxMs?: number;
  /** How long one self-test may take before it counts as failed, in ms. Default 10,000. */
  readonly selfTestTimeoutMs?: number;
  /**
   * The self-test a device must pass to return to service. Default: core/selftest's
   * `selfTestDevice` (the shipped known-answer vectors its capabilities cover).
   */
  readonly selfTest?: SelfTestRunner;
  /** A harvest that finds at least this many completions switches the queue pair to busy polling. Default 4. */
  readonly pollThreshold?: number;
  /** Polls in a row finding fewer than `pollThreshold` after which a queue pair goes back to its interrupt. Default 32. */
  readonly pollSpinLimit?: number;
  /**
   * Interrupt moderation (core/queue/lane.ts): while a card, not the host, is the bound, a queue
   * pair that can moderate (`QueuePair.moderate`) is waited on with a coalesced interrupt instead
   * of busy polling — unless the event loop's utilization while moderated is above this (the host
   * is nearly the bound: back to polling for a while). 0 turns moderation off; 1 keeps it whatever
   * the host's load. Default 0.9 (at 300k ops/s, 3 µs of main thread per call).
   */
  readonly moderationMaxUtilization?: number;
  /** Interval of `stats$` samples, in ms. Default 1,000. */
  readonly statsIntervalMs?: number;
  /** How the integrity gate checks device results (core/integrity/options.ts). Default: its defaults. */
  readonly integrity?: IntegrityOptions;
}

export type ResolvedQueueOptions = Required<Omit<QueueOptions, 'stallTimeoutMs'>> & {
  /** The explicit stall limit, or 0: judged from learned latency. */
  readonly stallTimeoutMs: number;
};

export function resolveQueueOptions(options: QueueOptions = {}): ResolvedQueueOptions {
  const timeoutMs = nonNegative(options.timeoutMs, 30_000, 'timeoutMs');
  return {
    maxBacklog: positiveInteger(options.maxBacklog, 65_536, 'maxBacklog'),
    onBacklogFull: options.onBacklogFull ?? 'wait',
    timeoutMs,
    retries: nonNegative(options.retries, 2, 'retries'),
    stallTimeoutMs:
      options.stallTimeoutMs === undefined ? 0 : positiveNumber(options.stallTimeoutMs, 0, 'stallTimeoutMs'),
    stallFactor: positiveNumber(options.stallFactor, 4, 'stallFactor'),
    stallFloorMs: positiveNumber(options.stallFloorMs, 250, 'stallFloorMs'),
    stallCeilingMs: positiveNumber(
      options.stallCeilingMs,
      timeoutMs > 0 ? Math.min(5_000, timeoutMs / 4) : 5_000,
      'stallCeilingMs',
    ),
    faultThreshold: positiveInteger(options.faultThreshold, 3, 'faultThreshold'),
    faultWindowMs: positiveNumber(options.faultWindowMs, 60_000, 'faultWindowMs'),
    recoveryAttempts: nonNegative(options.recoveryAttempts, 6, 'recoveryAttempts'),
    recoveryBackoffMs: positiveNumber(options.recoveryBackoffMs, 250, 'recoveryBackoffMs'),
    recoveryBackoffMaxMs: positiveNumber(options.recoveryBackoffMaxMs, 30_000, 'recoveryBackoffMaxMs'),
    selfTestTimeoutMs: positiveNumber(options.selfTestTimeoutMs, 10_000, 'selfTestTimeoutMs'),
    selfTest: options.selfTest ?? selfTestDevice,
    pollThreshold: positiveInteger(options.pollThreshold, 4, 'pollThreshold'),
    pollSpinLimit: positiveInteger(options.pollSpinLimit, 32, 'pollSpinLimit'),
    moderationMaxUtilization: fraction(options.moderationMaxUtilization, 0.9, 'moderationMaxUtilization'),
    statsIntervalMs: positiveNumber(options.statsIntervalMs, 1_000, 'statsIntervalMs'),
    integrity: options.integrity ?? {},
  };
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value >= 0)) throw new RangeError(`queue option ${name} must be a number >= 0, got ${value}`);
  return value;
}

function fraction(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value >= 0 && value <= 1))
    throw new RangeError(`queue option ${name} must be a number from 0 to 1, got ${value}`);
  return value;
}

function positiveNumber(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) throw new RangeError(`queue option ${name} must be a number > 0, got ${value}`);
  return value;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0)
    throw new RangeError(`queue option ${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Per-job options of `queue.submit`.
 *
 * @category Queue and stats
 */
export interface SubmitOptions {
  /**
   * Aborting it rejects the job with an AbortedError: withdrawn if still in the
   * backlog, abandoned (its result discarded) if on a device.
   */
  readonly signal?: AbortSignal;
  /** Deadline from now, in ms; 0 = none. Default: the queue's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** Run only on this device (its `DeviceInfo.id`): no failover to another device. */
  readonly device?: string;
  /**
   * Called once, just before the job resolves, with the witness the device returned
   * beside the released value (undefined when it gave none), and whether the device
   * that computed it is a reference device (AddDeviceOptions.reference). The broker
   * forwards both so its clients' integrity gates can check the verdicts and points
   * they receive, and apply to each the checks its computing device would get.
   */
  readonly witness?: (witness: Witness | undefined, reference: boolean) => void;
}
