/**
 * The job queue's options, as `openAccelerator` takes them, and their defaults.
 */

import type { IntegrityOptions } from '../integrity/options.js';

/** What `submit` does when the backlog already holds `maxBacklog` jobs. */
export type BacklogFullPolicy = 'wait' | 'reject';

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
   * A queue pair with jobs in flight and no completion for this long is abandoned
   * (reset) and its jobs retried elsewhere. Default: `timeoutMs`, or 30,000 when that is 0.
   */
  readonly stallTimeoutMs?: number;
  /** A harvest that finds at least this many completions switches the queue pair to busy polling. Default 4. */
  readonly pollThreshold?: number;
  /** Polls in a row finding fewer than `pollThreshold` after which a queue pair goes back to its interrupt. Default 32. */
  readonly pollSpinLimit?: number;
  /** Interval of `stats$` samples, in ms. Default 1,000. */
  readonly statsIntervalMs?: number;
  /** How the integrity gate checks device results (core/integrity/options.ts). Default: its defaults. */
  readonly integrity?: IntegrityOptions;
}

export type ResolvedQueueOptions = Required<QueueOptions>;

export function resolveQueueOptions(options: QueueOptions = {}): ResolvedQueueOptions {
  const timeoutMs = nonNegative(options.timeoutMs, 30_000, 'timeoutMs');
  return {
    maxBacklog: positiveInteger(options.maxBacklog, 65_536, 'maxBacklog'),
    onBacklogFull: options.onBacklogFull ?? 'wait',
    timeoutMs,
    retries: nonNegative(options.retries, 2, 'retries'),
    stallTimeoutMs: positiveNumber(
      options.stallTimeoutMs,
      timeoutMs > 0 ? timeoutMs : 30_000,
      'stallTimeoutMs',
    ),
    pollThreshold: positiveInteger(options.pollThreshold, 4, 'pollThreshold'),
    pollSpinLimit: positiveInteger(options.pollSpinLimit, 32, 'pollSpinLimit'),
    statsIntervalMs: positiveNumber(options.statsIntervalMs, 1_000, 'statsIntervalMs'),
    integrity: options.integrity ?? {},
  };
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value >= 0)) throw new RangeError(`queue option ${name} must be a number >= 0, got ${value}`);
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

/** Per-job options of `queue.submit`. */
export interface SubmitOptions {
  readonly signal?: AbortSignal;
  /** Deadline from now, in ms; 0 = none. Default: the queue's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** Run only on this device (its `DeviceInfo.id`): no failover to another device. */
  readonly device?: string;
}
