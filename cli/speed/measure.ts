/**
 * Timing one prepared operation: `concurrency` loops, each awaiting one
 * operation at a time, for a fixed wall-clock window. Ops/s counts operations
 * that completed inside the window; latencies are per operation, exact (sorted
 * samples, not buckets).
 *
 * The one measuring loop of the repository: `pkaccel speed` and `stats` use
 * `measure`, the benchmarks (bench/) use `opsPerSecond`.
 */

import { performance } from 'node:perf_hooks';

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
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + options.seconds * 1000;
  let end = start;
  const loop = async () => {
    while (performance.now() < deadline && options.signal?.aborted !== true) {
      const t0 = performance.now();
      try {
        await operation();
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        return; // a failing provider does not get to spin on its error path
      }
      const t1 = performance.now();
      latencies.push(t1 - t0);
      end = Math.max(end, t1);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  // The window ends when the last operation completed (in-flight ones finish after the deadline).
  const seconds = Math.max(end - start, 1e-6) / 1000;
  return {
    ops: latencies.length,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
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
