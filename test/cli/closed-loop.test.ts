/**
 * The shared closed loop (cli/speed/closed-loop.ts) under `pkaccel speed` and the
 * benches: how many calls it keeps in flight, what it counts inside and after the
 * window, which calls it times, and how it stops on an error or an abort.
 */

import { describe, expect, it } from 'vitest';
import { closedLoop } from '../../cli/speed/closed-loop.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('closedLoop', () => {
  it('keeps `concurrency` calls in flight, one per caller, and counts every completion', async () => {
    let inFlight = 0;
    let most = 0;
    const run = await closedLoop(
      async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await tick();
        inFlight--;
      },
      { concurrency: 3, ms: 50, timeEvery: 1, onLatency: () => {} },
    );
    expect(most).toBe(3);
    expect(run.errors).toBe(0);
    expect(run.firstError).toBeUndefined();
    expect(run.completed).toBeGreaterThan(0);
    expect(run.inWindow).toBeLessThanOrEqual(run.completed);
    // At most one call per caller was still in flight when the window closed.
    expect(run.completed - run.inWindow).toBeLessThanOrEqual(3);
    // (A timer may fire a fraction of a millisecond before performance.now() says it is due.)
    expect(run.stoppedAt).toBeGreaterThanOrEqual(run.started + 45);
    expect(run.finished).toBeGreaterThanOrEqual(run.stoppedAt);
  });

  it('times one call in `timeEvery` and runs the periodic hook every `every` completions', async () => {
    let timed = 0;
    let periodic = 0;
    const run = await closedLoop(tick, {
      concurrency: 1,
      ms: 30,
      timeEvery: 8,
      onLatency: (ms, completedAt) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(completedAt).toBeGreaterThan(0);
        timed++;
      },
      periodic: { every: 4, run: () => periodic++ },
    });
    // One caller: calls 0, 8, 16, … are timed.
    expect(timed).toBe(Math.ceil(run.completed / 8));
    expect(periodic).toBe(Math.floor(run.completed / 4));
  });

  it('closes the window on a clock read when the operation never yields to the timer', async () => {
    const run = await closedLoop(() => Promise.resolve(), {
      concurrency: 1,
      ms: 20,
      timeEvery: 8,
      onLatency: () => {},
    });
    expect(run.completed).toBeGreaterThan(0);
    expect(run.stoppedAt).toBeGreaterThanOrEqual(run.started + 20);
  });

  it('makes exactly `calls` calls when given a budget and no window', async () => {
    let calls = 0;
    let most = 0;
    let inFlight = 0;
    const run = await closedLoop(
      async () => {
        calls++;
        most = Math.max(most, ++inFlight);
        await tick();
        inFlight--;
      },
      { concurrency: 4, calls: 103, timeEvery: 1024, onLatency: () => {} },
    );
    expect(calls).toBe(103);
    expect(run.completed).toBe(103);
    expect(most).toBe(4);
    expect(run.finished).toBeGreaterThanOrEqual(run.stoppedAt);
  });

  it('stops a caller at its first error and keeps the first error thrown', async () => {
    let calls = 0;
    const run = await closedLoop(
      async () => {
        const n = ++calls;
        await tick();
        throw new Error(`call ${n}`);
      },
      { concurrency: 2, ms: 1_000, timeEvery: 1, onLatency: () => {} },
    );
    expect(calls).toBe(2);
    expect(run.errors).toBe(2);
    expect(run.completed).toBe(0);
    expect(run.firstError).toEqual({ error: new Error('call 1') });
    // Both callers gave up long before the window would have closed.
    expect(run.finished - run.started).toBeLessThan(1_000);
  });

  it('stops when the signal aborts, and runs nothing for an already-aborted one', async () => {
    const ac = new AbortController();
    let calls = 0;
    const run = await closedLoop(
      async () => {
        if (++calls === 5) ac.abort();
        await tick();
      },
      { concurrency: 1, ms: 60_000, timeEvery: 1, onLatency: () => {}, signal: ac.signal },
    );
    expect(calls).toBe(5);
    expect(run.inWindow).toBe(4);
    expect(run.completed).toBe(5);
    const none = await closedLoop(tick, {
      concurrency: 4,
      ms: 60_000,
      timeEvery: 1,
      onLatency: () => {},
      signal: ac.signal,
    });
    expect(none.completed).toBe(0);
  });
});
