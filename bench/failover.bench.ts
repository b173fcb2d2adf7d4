/**
 * Issue 11: failover time — from a queue pair that hangs to its jobs completing
 * on another device, p50 and max, with the default queue options (learned stall
 * limits: floor 250 ms, ceiling min(5 s, timeoutMs / 4)). Baseline in the same run:
 * the same jobs on the healthy card, and the 30 s deadline that used to be the only
 * way out (`stallTimeoutMs` defaulted to `timeoutMs`).
 *
 * 1. Queue level: a software device behind a switch that makes its queue pairs
 *    swallow jobs (a hung card: submit takes them, nothing ever completes, abandon
 *    returns their tags), a second software device as the fallback. Each trial
 *    warms the card (it learns its latency), hangs it, submits a burst, and times
 *    each job from submission to its result from the fallback. `faultThreshold` is
 *    raised so the card stays in service between trials (this measures the stall
 *    path, not recovery).
 * 2. Simulator: `sim:ring?faults=hang@N` beside `software` through `accel.subtle`
 *    (36 RSA-2048 signatures at once), against the same burst on a healthy `sim:ring`.
 */

import type { PrimitiveRequest, QueuePair } from '../core/driver/index.js';
import { parseDeviceSpec } from '../core/platform/pci.js';
import { JobQueue } from '../core/queue/index.js';
import { softwareDriver } from '../drivers/software/index.js';
import { openAccelerator } from '../index.js';
import { newEcKey } from '../test/support/keys.js';
import { passQueuePair, WrappedDevice } from '../test/support/wrapped-device.js';
import type { Bench, BenchContext, BenchRow } from './lib/types.js';

/** A device whose queue pairs can be made to hang: jobs are taken and never complete. */
class HangSwitch extends WrappedDevice {
  hung = false;

  override get info() {
    return { ...this.inner.info, id: 'hang-switch', priority: this.inner.info.priority + 100 };
  }
  protected override wrapQueuePair(qp: QueuePair): QueuePair {
    const swallowed = new Set<number>();
    return passQueuePair(qp, {
      inFlight: () => qp.inFlight + swallowed.size,
      submit: (jobs) => {
        if (!this.hung) return qp.submit(jobs);
        const room = qp.depth - qp.inFlight - swallowed.size;
        const n = Math.min(room, jobs.length);
        for (let i = 0; i < n; i++) swallowed.add(jobs[i]!.tag);
        return n;
      },
      abandon: async (signal) => {
        const tags = [...swallowed, ...(await qp.abandon(signal))];
        swallowed.clear();
        return tags;
      },
    });
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function queueLevel(ctx: BenchContext): Promise<BenchRow> {
  const card = new HangSwitch(await softwareDriver.open(parseDeviceSpec('software')));
  const fallback = await softwareDriver.open(parseDeviceSpec('software'));
  const q = new JobQueue({ faultThreshold: 1_000_000 });
  q.addDevice(card);
  q.addDevice(fallback, { fallback: true });
  const signer = newEcKey('P-256').material;
  const job = (): PrimitiveRequest => ({ op: 'ecdsa-sign', key: signer, digest: new Uint8Array(32).fill(7) });
  const trials = ctx.quick ? 4 : 12;
  const burst = 16;
  const healthy: number[] = [];
  const failover: number[] = [];
  let resets = 0;
  q.events$.subscribe((e) => {
    if (e.type === 'device-reset') resets++;
  });
  for (let t = 0; t < trials; t++) {
    card.hung = false;
    for (let i = 0; i < 32; i++) {
      const s = performance.now();
      await q.submit(job());
      healthy.push(performance.now() - s);
    }
    card.hung = true;
    await Promise.all(
      Array.from({ length: burst }, async () => {
        const s = performance.now();
        await q.submit(job());
        failover.push(performance.now() - s);
      }),
    );
  }
  await q.close();
  await card.close();
  await fallback.close();
  healthy.sort((a, b) => a - b);
  failover.sort((a, b) => a - b);
  ctx.log(`queue level: ${trials} trials x ${burst} jobs, ${resets} queue-pair resets`);
  return {
    name: 'hung card -> fallback (queue level, ECDSA P-256)',
    jobs: failover.length,
    'failover p50 ms': percentile(failover, 0.5),
    'failover max ms': failover.at(-1)!,
    'healthy p50 ms': percentile(healthy, 0.5),
    'deadline ms (old way out)': q.options.timeoutMs,
    'max ÷ deadline': failover.at(-1)! / q.options.timeoutMs,
  };
}

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};

async function simulated(devices: string[], rounds: number): Promise<{ lat: number[]; errors: number }> {
  const lat: number[] = [];
  let errors = 0;
  for (let r = 0; r < rounds; r++) {
    const accel = await openAccelerator({ devices });
    try {
      const kp = (await accel.subtle.generateKey(RSA, false, ['sign'])) as {
        privateKey: Parameters<typeof accel.subtle.sign>[1];
      };
      await Promise.all(
        Array.from({ length: 36 }, async (_, i) => {
          const s = performance.now();
          try {
            await accel.subtle.sign(RSA, kp.privateKey, new Uint8Array([i]));
            lat.push(performance.now() - s);
          } catch {
            errors++;
          }
        }),
      );
    } finally {
      await accel.close();
    }
  }
  return { lat: lat.sort((a, b) => a - b), errors };
}

async function simulatorLevel(ctx: BenchContext): Promise<BenchRow[]> {
  const rounds = ctx.quick ? 1 : 4;
  const rows: BenchRow[] = [];
  const base = await simulated(['sim:ring', 'software'], rounds);
  for (const fault of ['hang@3', 'drop@3']) {
    const run = await simulated([`sim:ring?faults=${fault}`, 'software'], rounds);
    ctx.log(`sim:ring?faults=${fault}: ${run.lat.length} ok, ${run.errors} errors`);
    rows.push({
      name: `sim:ring?faults=${fault} + software (RSA-2048 sign, 36 at once)`,
      jobs: run.lat.length + run.errors,
      errors: run.errors,
      'p50 ms': percentile(run.lat, 0.5),
      'max ms': run.lat.at(-1) ?? Number.NaN,
      'healthy p50 ms': percentile(base.lat, 0.5),
      'healthy max ms': base.lat.at(-1) ?? Number.NaN,
      'max ÷ 30 s deadline': (run.lat.at(-1) ?? Number.NaN) / 30_000,
    });
  }
  return rows;
}

const bench: Bench = async (ctx) => [await queueLevel(ctx), ...(await simulatorLevel(ctx))];
export default bench;
