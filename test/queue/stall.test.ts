/**
 * Stall detection faster than deadlines (issue 11 §3): a queue pair whose oldest
 * job has waited a multiple of its learned latency is abandoned and its jobs run
 * elsewhere, long before `timeoutMs`; slots held by aborted jobs on a stalled card
 * are reclaimed the same way, and new work goes to queue pairs with room.
 *
 * Time bounds here are loose on purpose (a loaded CI machine): they separate
 * "found by stall detection" (well under a second to a few seconds) from "found by
 * the 30 s deadline".
 */

import { describe, expect, it } from 'vitest';
import { JobQueue } from '../../core/queue/index.js';
import { LatencyModel, operationClass } from '../../core/queue/latency.js';
import { type CryptoKeyPair, openAccelerator } from '../../index.js';
import { expectedValue, FakeDevice, request, rsaKey } from '../support/fake-device.js';
import { queueOver } from '../support/fake-queue.js';

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};

/** 36 RSA-2048 signatures at once on `devices` with default queue options; every one must verify. */
async function signMany(devices: string[]): Promise<{ ms: number; errors: string[] }> {
  const accel = await openAccelerator({ devices });
  try {
    const kp = (await accel.subtle.generateKey(RSA, false, ['sign', 'verify'])) as CryptoKeyPair;
    const started = performance.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 36 }, async (_, i) => {
        const data = new Uint8Array([i, 1, 2]);
        const sig = await accel.subtle.sign(RSA, kp.privateKey, data);
        if (!(await accel.subtle.verify(RSA, kp.publicKey, sig, data))) throw new Error('does not verify');
      }),
    );
    const ms = performance.now() - started;
    const errors = outcomes
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => `${(o.reason as Error).name}: ${(o.reason as Error).message}`);
    return { ms, errors };
  } finally {
    await accel.close();
  }
}

describe('learned latency (core/queue/latency.ts)', () => {
  it('keeps an EWMA per operation class and bounds the stall limit by floor and ceiling', () => {
    const device = new LatencyModel();
    const lane = new LatencyModel(device);
    const r2048 = request(0, rsaKey(2048));
    const r4096 = request(0, rsaKey(4096));
    expect(operationClass(r2048)).not.toBe(operationClass(r4096));
    expect(lane.limit(r2048, 4, 250, 5_000)).toBe(5_000); // nothing seen: the ceiling
    for (let i = 0; i < 50; i++) lane.observe(r2048, 10);
    expect(lane.of(r2048)!.mean).toBeCloseTo(10, 5);
    expect(lane.limit(r2048, 4, 250, 5_000)).toBe(250); // 4 x 10 ms is under the floor
    const few = new LatencyModel();
    for (let i = 0; i < 3; i++) few.observe(r2048, 10);
    expect(few.limit(r2048, 4, 250, 5_000)).toBe(1_000); // fewer than 8 samples: 4 floors
    for (let i = 0; i < 50; i++) lane.observe(r4096, 400);
    expect(lane.limit(r4096, 4, 250, 5_000)).toBeCloseTo(1_600, 0);
    expect(lane.limit(r4096, 40, 250, 5_000)).toBe(5_000);
    // Another queue pair of the same device that has not seen a class uses the device's figure.
    const other = new LatencyModel(device);
    expect(other.limit(r4096, 4, 250, 5_000)).toBeCloseTo(1_600, 0);
  });
});

describe('stalls on a simulated card with software beside it, default options', () => {
  for (const fault of ['hang@3', 'drop@3']) {
    it(`sim:ring?faults=${fault}: every signature succeeds, none waits for the 30 s deadline`, async () => {
      const { ms, errors } = await signMany([`sim:ring?faults=${fault}`, 'software']);
      expect(errors).toEqual([]);
      // Stall limit: floor 250 ms .. ceiling 5 s; the deadline is 30 s.
      expect(ms).toBeLessThan(15_000);
    });
  }
});

describe('slots held by aborted jobs', () => {
  it('the next job does not wait for a slot an aborted job holds on a stalled card', async () => {
    let hang = false;
    const card = new FakeDevice({
      id: 'card',
      qp: { depth: 1, latencyMs: 1, behave: () => (hang ? 'hang' : 'ok') },
    });
    const q = new JobQueue({ timeoutMs: 30_000 });
    q.addDevice(card);
    // Learn the card's latency (a few ms).
    for (let i = 0; i < 8; i++) await q.submit(request(i));
    hang = true;
    const ac = new AbortController();
    const stuck = q.submit(request(100), { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await expect(stuck).rejects.toMatchObject({ code: 'aborted' });
    hang = false;
    const started = performance.now();
    await expect(q.submit(request(101))).resolves.toEqual(expectedValue(request(101)));
    const waited = performance.now() - started;
    // The aborted job's slot was reclaimed by stall detection (a queue pair reset), not by a deadline.
    expect(card.queuePairs[0]!.abandonCalls).toBeGreaterThanOrEqual(1);
    expect(waited).toBeLessThan(7_500); // timeoutMs / 4 at most; the floor is 250 ms
    await q.close();
  });

  it('new work goes to a queue pair with room while another is held by an aborted job', async () => {
    let n = 0;
    const card = new FakeDevice({
      id: 'card',
      queuePairs: 2,
      qp: { depth: 1, behave: () => (n++ === 0 ? 'hang' : 'ok') },
    });
    const q = new JobQueue();
    q.addDevice(card);
    const ac = new AbortController();
    const stuck = q.submit(request(0), { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await expect(stuck).rejects.toMatchObject({ code: 'aborted' });
    const started = performance.now();
    await expect(q.submit(request(1))).resolves.toEqual(expectedValue(request(1)));
    expect(performance.now() - started).toBeLessThan(200);
    const held = card.queuePairs.find((qp) => qp.inFlight === 1);
    expect(held).toBeDefined();
    expect(card.queuePairs.reduce((sum, qp) => sum + qp.submitted, 0)).toBe(2);
    await q.close();
  });
});

describe('a stall judged after the event loop was blocked', () => {
  /** Busy-waits `ms` on this thread, as an application's long synchronous call would. */
  function block(ms: number): void {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // the event loop is blocked
    }
  }

  /** A queue over a device whose completions the test releases, and the resets it reports. */
  function heldBack() {
    const device = new FakeDevice({ qp: { manual: true } });
    const queue = queueOver(device, { stallTimeoutMs: 50 });
    const resets: string[] = [];
    queue.events$.subscribe((e) => {
      if (e.type === 'device-reset') resets.push(e.reason);
    });
    return { device, queue, resets };
  }

  it('waits for the loop to poll its I/O once before abandoning a queue pair', async () => {
    // The completion arrives while the loop is blocked and becomes visible only in the loop turn
    // after the stall timer's (as a broker's answer waits in its socket until the poll phase).
    const { device, queue, resets } = heldBack();
    try {
      const job = queue.submit(request(1));
      await new Promise((r) => setImmediate(r));
      expect(device.queuePairs[0]!.inFlight).toBe(1);
      block(200);
      setImmediate(() => device.queuePairs[0]!.release());
      expect(await job).toEqual(expectedValue(request(1)));
      expect(resets).toEqual([]);
    } finally {
      await queue.close({ drain: false });
    }
  });

  it('still abandons a queue pair that stays silent after that loop turn', async () => {
    const { device, queue, resets } = heldBack();
    try {
      const job = queue.submit(request(2));
      await new Promise((r) => setImmediate(r));
      block(200);
      // Nothing arrives: the stall stands; the queue pair is reset and the job runs again.
      await new Promise((r) => setTimeout(r, 100));
      expect(resets.length).toBeGreaterThan(0);
      device.queuePairs[0]!.release();
      await job.catch(() => undefined);
    } finally {
      await queue.close({ drain: false });
    }
  });
});
