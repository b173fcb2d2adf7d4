/**
 * The one closed-loop load of the repository: `concurrency` callers, each
 * awaiting one call at a time, until a window of `ms` closes, `calls` calls have
 * been made, or the signal aborts. `pkaccel speed` and `stats` (cli/speed/measure.ts) and the benches
 * (bench/lib/measure.ts) differ only in what they do with the timings, so they
 * share this loop. It lives on the shipped side because the CLI ships and
 * bench/ does not (bench may import cli/, not the reverse).
 */

import { performance } from 'node:perf_hooks';

export interface ClosedLoopOptions {
  readonly concurrency: number;
  /** The window, in milliseconds (none: until `calls`). */
  readonly ms?: number;
  /** How many calls to make in all (none: until the window closes). */
  readonly calls?: number;
  /**
   * Time one call in `timeEvery` (a power of two; 1 times every call): at a
   * million calls a second, reading the clock around each would cost more than
   * what is measured.
   */
  readonly timeEvery: number;
  /** A timed call's latency (ms) and when it completed (`performance.now()`). */
  readonly onLatency: (ms: number, completedAt: number) => void;
  /** Runs after every `every`th completed call (a power of two): an allocation sampler, for example. */
  readonly periodic?: { readonly every: number; readonly run: () => void };
  readonly signal?: AbortSignal;
}

/** Times are `performance.now()` readings. */
export interface ClosedLoopRun {
  readonly started: number;
  /** When the window closed (the deadline seen, the last call made, or the abort). */
  readonly stoppedAt: number;
  /** When the last caller returned (calls in flight at the close finish after it). */
  readonly finished: number;
  /** Calls completed before the window closed. */
  readonly inWindow: number;
  /** Calls completed in all. */
  readonly completed: number;
  readonly errors: number;
  /** The first error an operation threw, if one did. */
  readonly firstError?: { readonly error: unknown };
}

export async function closedLoop(
  op: () => Promise<unknown>,
  options: ClosedLoopOptions,
): Promise<ClosedLoopRun> {
  const { concurrency, onLatency, periodic, signal } = options;
  const ms = options.ms ?? Number.POSITIVE_INFINITY;
  const budget = options.calls ?? Number.POSITIVE_INFINITY;
  let issued = 0;
  const timeMask = options.timeEvery - 1;
  const periodicMask = periodic === undefined ? 0 : periodic.every - 1;
  let completed = 0;
  let errors = 0;
  let firstError: { error: unknown } | undefined;
  let stop = false;
  let inWindow = 0;
  let stoppedAt = 0;
  const halt = (): void => {
    if (stop) return;
    stop = true;
    inWindow = completed;
    stoppedAt = performance.now();
  };
  const started = performance.now();
  const deadline = started + ms;
  const timer = Number.isFinite(ms) ? setTimeout(halt, ms) : undefined;
  signal?.addEventListener('abort', halt);
  if (ms <= 0 || budget <= 0 || signal?.aborted === true) halt();
  const caller = async (): Promise<void> => {
    let i = 0;
    while (!stop) {
      if (++issued >= budget) halt(); // the last call: it completes after the close, like any call in flight then
      try {
        if ((i++ & timeMask) === 0) {
          const t0 = performance.now();
          await op();
          const t1 = performance.now();
          completed++;
          onLatency(t1 - t0, t1);
          // A device that completes synchronously never yields to the timer: the clock read here closes the window.
          if (t1 >= deadline) halt();
        } else {
          await op();
          completed++;
        }
      } catch (error) {
        errors++;
        firstError ??= { error };
        return; // a failing operation does not get to spin on its error path
      }
      if (periodic !== undefined && (completed & periodicMask) === 0) periodic.run();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  clearTimeout(timer);
  signal?.removeEventListener('abort', halt);
  return {
    started,
    stoppedAt,
    finished: performance.now(),
    inWindow,
    completed,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
  };
}
