/**
 * What the benches read off a closed-loop load (the loop is cli/speed/closed-loop.ts,
 * shared with `pkaccel speed`): rate and latency percentiles, and what the run cost the
 * process: CPU (all threads), the main thread's event-loop busy time, and the
 * bytes the JavaScript heap allocated (bench/queue.bench.ts, bench/hostpath.bench.ts).
 */

import { getHeapStatistics } from 'node:v8';
import { closedLoop } from '../../cli/speed/closed-loop.js';
import { LatencyHistogram } from '../../core/queue/histogram.js';

export interface Measured {
  readonly opsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** Completed inside the window, and the window in seconds. */
  readonly ops: number;
  readonly seconds: number;
  /** Completed in all, and seconds until the last call in flight returned (for CPU accounting). */
  readonly completed: number;
  readonly elapsed: number;
}

/**
 * `concurrency` loops each awaiting `op` one at a time until `ms` have passed
 * (cli/speed/closed-loop.ts); every 8th call is timed for the latency
 * percentiles (timing every call would cost more than the queue itself at a
 * million a second). `everyCall`, when given, runs after every 64th call (the
 * allocation sampler). Throws the first error a call threw.
 */
export async function measure(
  op: () => Promise<unknown>,
  concurrency: number,
  ms: number,
  everyCall?: () => void,
): Promise<Measured> {
  const hist = new LatencyHistogram();
  const run = await closedLoop(op, {
    concurrency,
    ms,
    timeEvery: 8,
    onLatency: (latency) => hist.record(latency),
    periodic: everyCall === undefined ? undefined : { every: 64, run: everyCall },
  });
  if (run.firstError !== undefined) throw run.firstError.error;
  // The rate counts what completed inside the window: draining the calls still in flight
  // afterwards (thousands of them, on a slow device) is not part of it.
  const seconds = (run.stoppedAt - run.started) / 1000;
  const p = hist.percentiles();
  return {
    opsPerSecond: run.inWindow / seconds,
    p50: p.p50 * 1000,
    p99: p.p99 * 1000,
    ops: run.inWindow,
    seconds,
    completed: run.completed,
    elapsed: (run.finished - run.started) / 1000,
  };
}

/** A measurement with what it cost: µs of CPU per call (all threads; the main thread busy) and heap bytes per call. */
export interface Costed extends Measured {
  readonly cpuPerCall: number;
  readonly mainPerCall: number;
  readonly bytesPerCall: number;
}

/**
 * `measure`, with its cost. Heap bytes allocated are the sum of the rises of V8's used heap
 * between samples taken every 64 calls: a sample interval with a collection in it counts only
 * what was allocated after the collection, so the figure is a slight underestimate (by at most
 * one interval per collection, a few hundred calls in many thousands).
 */
export async function measureCost(
  op: () => Promise<unknown>,
  concurrency: number,
  ms: number,
): Promise<Costed> {
  let allocated = 0;
  let last = getHeapStatistics().used_heap_size;
  const sample = (): void => {
    const used = getHeapStatistics().used_heap_size;
    if (used > last) allocated += used - last;
    last = used;
  };
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const m = await measure(op, concurrency, ms, sample);
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  sample();
  return {
    ...m,
    cpuPerCall: (cpu.user + cpu.system) / m.completed,
    mainPerCall: (elu.active * 1000) / m.completed,
    bytesPerCall: allocated / m.completed,
  };
}

/** What `rssGrowth` saw: the rate of the run and how much the process's RSS grew over it. */
export interface RssGrowth {
  readonly opsPerSecond: number;
  readonly growthMb: number;
  /** Whether collections ran before both samples (`node --expose-gc`): without, growth is noisier. */
  readonly collected: boolean;
}

/**
 * RSS growth over `jobs` calls of `call`, `inFlight` at a time, after a warm-up of
 * 200,000 (pools, JIT), with a full collection before each sample when one can be asked for.
 */
export async function rssGrowth(
  call: () => Promise<unknown>,
  jobs: number,
  inFlight: number,
): Promise<RssGrowth> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const run = async (count: number): Promise<number> => {
    // No window and no latencies: the clock is read only on the rare timed call.
    const loop = await closedLoop(call, {
      concurrency: inFlight,
      calls: count,
      timeEvery: 1024,
      onLatency: () => {},
    });
    if (loop.firstError !== undefined) throw loop.firstError.error;
    return (loop.finished - loop.started) / 1000;
  };
  await run(200_000);
  gc?.();
  const rss0 = process.memoryUsage().rss;
  const seconds = await run(jobs);
  gc?.();
  return {
    opsPerSecond: jobs / seconds,
    growthMb: (process.memoryUsage().rss - rss0) / 2 ** 20,
    collected: gc !== undefined,
  };
}
