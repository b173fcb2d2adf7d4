/**
 * Timing one prepared operation: `concurrency` loops, each awaiting one
 * operation at a time, for a fixed wall-clock window. Ops/s counts operations
 * that completed inside the window; latencies are per operation, exact (sorted
 * samples, not buckets).
 *
 * `pkaccel speed` and `stats` use `measure`, several benchmarks (bench/) use
 * `opsPerSecond`; the loop itself is cli/speed/closed-loop.ts, shared with
 * bench/lib/measure.ts.
 */

import { closedLoop } from './closed-loop.js';

export interface LatencySummary {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface Measurement {
  readonly ops: number;
  readonly errors: number;
  /** The first error's message, if any operation failed. */
  readonly firstError?: string;
  readonly seconds: number;
  readonly opsPerSecond: number;
  /** Milliseconds per operation. */
  readonly latencyMs: LatencySummary;
  /** Every latency sample (ms), when `keepSamples` was set (to merge rounds). */
  readonly samples?: readonly number[];
}

export interface MeasureOptions {
  readonly seconds: number;
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  /** Return the latency samples too. */
  readonly keepSamples?: boolean;
}

/** The nearest-rank percentile of sorted samples (0 when there are none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? 0 : sorted.reduce((s, x) => s + x, 0) / sorted.length;
  return {
    mean,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
  };
}

/** Run `operation` for `seconds` with `concurrency` loops; stops early (and reports) on abort. */
export async function measure(
  operation: () => Promise<unknown>,
  options: MeasureOptions,
): Promise<Measurement> {
  const latencies: number[] = [];
  let end = 0;
  const run = await closedLoop(operation, {
    concurrency: options.concurrency,
    ms: options.seconds * 1000,
    timeEvery: 1,
    onLatency: (ms, completedAt) => {
      latencies.push(ms);
      end = completedAt;
    },
    signal: options.signal,
  });
  // The window ends when the last operation completed (in-flight ones finish after the deadline).
  const seconds = Math.max(latencies.length === 0 ? 0 : end - run.started, 1e-6) / 1000;
  const thrown = run.firstError?.error;
  return {
    ops: latencies.length,
    errors: run.errors,
    ...(run.firstError === undefined
      ? {}
      : { firstError: thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown) }),
    seconds,
    opsPerSecond: latencies.length / seconds,
    latencyMs: summarize(latencies),
    ...(options.keepSamples === true ? { samples: latencies } : {}),
  };
}

/**
 * Operations per second of `op` with `concurrency` calls in flight for `ms`
 * milliseconds, after a warm-up of `warmupMs` (for benches). Throws the first
 * error an operation threw.
 */
export async function opsPerSecond(
  op: () => Promise<unknown>,
  concurrency: number,
  ms: number,
  warmupMs = Math.min(200, ms / 4),
): Promise<number> {
  const run = async (windowMs: number): Promise<number> => {
    let thrown: { error: unknown } | undefined;
    const checked = async () => {
      try {
        return await op();
      } catch (error) {
        thrown ??= { error };
        throw error;
      }
    };
    const m = await measure(checked, { seconds: windowMs / 1000, concurrency });
    if (thrown !== undefined) throw thrown.error;
    return m.opsPerSecond;
  };
  if (warmupMs > 0) await run(warmupMs);
  return run(ms);
}
