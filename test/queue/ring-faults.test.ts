/**
 * Property: on simulated ring cards with random fault schedules (every fault type
 * of the simulator: error status, dropped, duplicated, delayed completion,
 * corrupted result, hang, surprise removal, garbage completion), jobs run through
 * core/algorithms (which checks every RSA private result) over the job queue each
 * settle exactly once, with the right result or a typed error, and nothing is
 * left behind after close.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rsaRawPrivate } from '../../core/algorithms/index.js';
import { bigintToBytes, bytesToBigint, PkaccelError } from '../../core/driver/index.js';
import { modPow } from '../../core/math/modular.js';
import { JobQueue } from '../../core/queue/index.js';
import { cachedRsaKey } from '../support/keys.js';
import { openRingDevice } from '../support/sim.js';

const key = cachedRsaKey(2048).material;

const faultNames = ['error', 'drop', 'duplicate', 'delay', 'corrupt', 'garbage'] as const;

const scenarioArb = fc.record({
  faults: fc.subarray([...faultNames], { minLength: 1 }),
  probability: fc.constantFrom(0.05, 0.15, 0.3),
  /** A hang or a surprise removal at the n-th operation, or neither. */
  fatal: fc.option(
    fc.record({ kind: fc.constantFrom('hang', 'remove'), at: fc.integer({ min: 1, max: 12 }) }),
  ),
  cleanFallback: fc.boolean(),
  jobs: fc.integer({ min: 1, max: 14 }),
  retries: fc.integer({ min: 0, max: 3 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

const timers = (): number =>
  process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;

describe('exactly-once settlement on sim:ring faults', () => {
  it('holds for every fault type of the simulator', async () => {
    const baseline = timers();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (sc) => {
          const rules = sc.faults.map((f) => `${f}:${sc.probability}`);
          if (sc.fatal) rules.unshift(`${sc.fatal.kind}@${sc.fatal.at}`);
          const faulty = await openRingDevice(`depth=4&faults=${rules.join(',')}&seed=${sc.seed}&delayms=5`);
          const devices = [faulty];
          if (sc.cleanFallback) devices.push(await openRingDevice('depth=4'));
          const q = new JobQueue({ retries: sc.retries, stallTimeoutMs: 250, timeoutMs: 5_000 });
          devices.forEach((d, i) => {
            q.addDevice(d, { fallback: i === 1 });
          });
          const counts = new Array<number>(sc.jobs).fill(0);
          try {
            const runs = Array.from({ length: sc.jobs }, (_, i) => {
              const x = BigInt(i + 2) ** 40n;
              const input = bigintToBytes(x, 256);
              return rsaRawPrivate(q, key, input)
                .then(
                  (out) => {
                    expect(bytesToBigint(out)).toBe(modPow(x, key.d, key.n));
                  },
                  (error: unknown) => {
                    expect(error).toBeInstanceOf(PkaccelError);
                    expect(['device-error', 'timeout', 'device-gone', 'unsupported']).toContain(
                      (error as PkaccelError).code,
                    );
                  },
                )
                .finally(() => {
                  counts[i]!++;
                });
            });
            await Promise.all(runs);
            expect(counts.every((n) => n === 1)).toBe(true);
            const s = q.snapshot();
            expect(s.completed + s.failed + s.timedOut + s.aborted).toBe(s.submitted);
            if (sc.cleanFallback && sc.retries >= 1) {
              // With a clean card to fail over to, only a result the queue could not judge (corrupted,
              // caught by the algorithms layer) may fail.
              expect(s.failed + s.timedOut).toBe(0);
            }
          } finally {
            await q.close({ drain: false });
            for (const d of devices) await d.close();
          }
          await new Promise((r) => setImmediate(r));
          expect(timers()).toBeLessThanOrEqual(baseline);
        }),
        { numRuns: Number(process.env.PKACCEL_FC_RUNS ?? 25) },
      );
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
