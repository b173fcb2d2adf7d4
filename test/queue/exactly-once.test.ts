/**
 * Property: over random mixes of devices, per-job faults, device state changes,
 * aborts, deadlines and close modes, every accepted job settles exactly once,
 * with the right value or a typed error; nothing settles after close() resolves;
 * no unhandled rejection; no timer or immediate left behind.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeviceState, PkaccelError } from '../../core/driver/index.js';
import { JobQueue } from '../../core/queue/index.js';
import { type Behaviour, expectedValue, FakeDevice, request } from '../support/fake-device.js';

const behaviours: Behaviour[] = [
  'ok',
  'error',
  'unsupported',
  'drop',
  'duplicate',
  'hang',
  'garbage-tag',
  'late-duplicate',
];

const deviceArb = fc.record({
  depth: fc.integer({ min: 1, max: 8 }),
  queuePairs: fc.integer({ min: 1, max: 2 }),
  latencyMs: fc.constantFrom(0, 0, 1, 3),
  priority: fc.integer({ min: 0, max: 3 }),
  /** Fault probability per job, in percent. */
  faultRate: fc.integer({ min: 0, max: 40 }),
  faults: fc.subarray(behaviours.slice(1), { minLength: 1 }),
});

const eventArb = fc.record({
  atMs: fc.integer({ min: 0, max: 30 }),
  device: fc.nat(),
  state: fc.constantFrom<DeviceState>('resetting', 'ready', 'failed', 'gone'),
});

const jobArb = fc.record({
  delayMs: fc.constantFrom(0, 0, 0, 1, 5),
  abortAfterMs: fc.option(fc.integer({ min: 0, max: 20 }), { freq: 4 }),
  timeoutMs: fc.option(fc.integer({ min: 5, max: 80 }), { freq: 3 }),
});

const scenarioArb = fc.record({
  devices: fc.array(deviceArb, { minLength: 1, maxLength: 3 }),
  reliableFallback: fc.boolean(),
  events: fc.array(eventArb, { maxLength: 4 }),
  jobs: fc.array(jobArb, { minLength: 1, maxLength: 60 }),
  retries: fc.integer({ min: 0, max: 3 }),
  drain: fc.boolean(),
  closeAfterMs: fc.integer({ min: 0, max: 40 }),
  seed: fc.integer(),
});

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const timersNow = (): number =>
  process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;

describe('exactly-once settlement', () => {
  it('holds over random devices, faults, state changes, aborts, deadlines and close', async () => {
    const baseline = timersNow();
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        let rng = sc.seed >>> 0 || 1;
        const random = (): number => {
          rng ^= rng << 13;
          rng ^= rng >>> 17;
          rng ^= rng << 5;
          return (rng >>> 0) / 2 ** 32;
        };
        const devices = sc.devices.map(
          (d, i) =>
            new FakeDevice({
              id: `card${i}`,
              priority: d.priority,
              queuePairs: d.queuePairs,
              qp: {
                depth: d.depth,
                latencyMs: d.latencyMs,
                behave: () =>
                  random() * 100 < d.faultRate ? d.faults[Math.floor(random() * d.faults.length)]! : 'ok',
              },
            }),
        );
        if (sc.reliableFallback)
          devices.push(new FakeDevice({ id: 'software', priority: 0, qp: { depth: 4 } }));
        const q = new JobQueue({ retries: sc.retries, stallTimeoutMs: 10, timeoutMs: 150 });
        devices.forEach((d, i) => {
          q.addDevice(d, { fallback: sc.reliableFallback && i === devices.length - 1 });
        });

        const timers: NodeJS.Timeout[] = [];
        try {
          for (const ev of sc.events) {
            const dev = devices[ev.device % sc.devices.length]!;
            timers.push(
              setTimeout(() => {
                if (dev.state === 'gone' || dev.state === 'closed') return;
                dev.setState(ev.state);
              }, ev.atMs),
            );
          }

          let closeResolved = false;
          let settledAfterClose = 0;
          const settleCounts = new Array<number>(sc.jobs.length).fill(0);
          const outcomes: Promise<void>[] = [];
          const closeAt = sleep(sc.closeAfterMs).then(() => q.close({ drain: sc.drain }));
          closeAt.then(() => {
            closeResolved = true;
          });

          let accepted = 0;
          for (let i = 0; i < sc.jobs.length; i++) {
            const job = sc.jobs[i]!;
            if (job.delayMs > 0) await sleep(job.delayMs);
            const ac = new AbortController();
            if (job.abortAfterMs !== null) timers.push(setTimeout(() => ac.abort(), job.abortAfterMs));
            const req = request(i);
            const wasClosed = q.closed;
            if (!wasClosed) accepted++;
            outcomes.push(
              q
                .submit(req, {
                  signal: ac.signal,
                  ...(job.timeoutMs === null ? {} : { timeoutMs: job.timeoutMs }),
                })
                .then(
                  (value) => {
                    expect(value).toEqual(expectedValue(req));
                  },
                  (error: unknown) => {
                    expect(error).toBeInstanceOf(PkaccelError);
                    const code = (error as PkaccelError).code;
                    expect(['device-error', 'unsupported', 'timeout', 'device-gone', 'aborted']).toContain(
                      code,
                    );
                    if (wasClosed) expect(code).toBe('device-gone');
                  },
                )
                .finally(() => {
                  settleCounts[i]!++;
                  if (closeResolved && !wasClosed) settledAfterClose++;
                }),
            );
          }
          await closeAt;
          await Promise.all(outcomes);
          expect(settledAfterClose).toBe(0);
          expect(settleCounts.every((n) => n === 1)).toBe(true);
          const s = q.snapshot();
          expect(s.submitted).toBe(accepted);
          expect(s.completed + s.failed + s.timedOut + s.aborted).toBe(accepted);
          expect(s.backlog).toBe(0);
        } finally {
          for (const t of timers) clearTimeout(t);
          await q.close({ drain: false });
          for (const d of devices) await d.close();
        }
        // Nothing of the queue's may stay behind (the fake's own late-delivery timers were cleared).
        await new Promise((r) => setImmediate(r));
        expect(timersNow()).toBeLessThanOrEqual(baseline);
        expect(unhandled).toEqual([]);
      }),
      { numRuns: Number(process.env.PKACCEL_FC_RUNS ?? 60) },
    );
  });
});
