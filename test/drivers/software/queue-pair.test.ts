/** The QueuePair contract on the software device: batching, depth, abandon, reset, close, exit. */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  type Completion,
  DeviceGoneError,
  type Job,
  type PrimitiveRequest,
  UnsupportedError,
} from '../../../core/driver/index.js';
import type { SoftwareDevice } from '../../../drivers/software/index.js';
import { ecKey, okpKey, resultOf, runAll, softwareDevicePerTest } from './helpers.js';

const open = softwareDevicePerTest();

const ed = okpKey('Ed25519');
const sign = (i: number): PrimitiveRequest => ({
  op: 'eddsa-sign',
  key: ed.material,
  message: Uint8Array.of(i),
});
const jobs = (n: number, from = 0): Job[] =>
  Array.from({ length: n }, (_, i) => ({ tag: from + i, request: sign(i) }));

/** Wait until the pool has answered everything it was sent (abandoned jobs included). */
async function settle(device: SoftwareDevice, expected: number): Promise<void> {
  while (device.poolJobsPerWorker.reduce((a, b) => a + b, 0) < expected) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('software queue pair', () => {
  it('spreads one batch across the workers and completes every job exactly once', async () => {
    const device = await open('software?workers=2&inline=off&pool=workers');
    const results = await runAll(
      device.queuePairs[0]!,
      Array.from({ length: 64 }, (_, i) => sign(i)),
    );
    expect(results).toHaveLength(64);
    expect(results.every((c) => c.ok)).toBe(true);
    const perWorker = device.poolJobsPerWorker;
    expect(perWorker).toHaveLength(2);
    expect(perWorker.every((n) => n > 0)).toBe(true);
    expect(perWorker[0]! + perWorker[1]!).toBe(64);
  });

  it('keeps the calling thread’s share of a batch (at most 1/(workers+1)) and sends the rest to the pool', async () => {
    const device = await open('software?workers=1&pool=workers');
    const qp = device.queuePairs[0]!;
    expect(qp.submit(jobs(64))).toBe(64);
    // The calling thread's share completed before submit returned; the pool has not answered yet.
    const here: Completion[] = [];
    qp.harvest((c) => here.push(c));
    expect(here.length).toBeGreaterThanOrEqual(1);
    expect(here.length).toBeLessThanOrEqual(32);
    expect(here.every((c) => c.ok)).toBe(true);
    await settle(device, 64 - here.length);
    const pooled: Completion[] = [];
    while (here.length + pooled.length < 64) {
      await qp.waitForCompletions();
      qp.harvest((c) => pooled.push(c));
    }
    expect(device.poolJobsPerWorker).toEqual([64 - here.length]);
    const tags = [...here, ...pooled].map((c) => c.tag).sort((a, b) => a - b);
    expect(tags).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(pooled.every((c) => c.ok)).toBe(true);
  });

  it('takes only a prefix when the batch exceeds depth - inFlight', async () => {
    const device = await open('software?depth=4&inline=off');
    const qp = device.queuePairs[0]!;
    expect(qp.depth).toBe(4);
    expect(qp.submit(jobs(10))).toBe(4);
    expect(qp.inFlight).toBe(4);
    expect(qp.submit(jobs(3, 10))).toBe(0);
    const seen: Completion[] = [];
    while (seen.length < 4) {
      await qp.waitForCompletions();
      qp.harvest((c) => seen.push(c));
    }
    expect(seen.map((c) => c.tag).sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect(qp.inFlight).toBe(0);
    expect(qp.submit(jobs(3, 10))).toBe(3);
  });

  it('harvest honours max and never calls the sink after returning', async () => {
    const device = await open('software?inline=off&pool=workers');
    const qp = device.queuePairs[0]!;
    qp.submit(jobs(5));
    await settle(device, 5);
    const first: number[] = [];
    expect(qp.harvest((c) => first.push(c.tag), 2)).toBe(2);
    expect(first).toHaveLength(2);
    expect(qp.inFlight).toBe(3);
    expect(qp.harvest(() => {})).toBe(3);
    expect(qp.harvest(() => {})).toBe(0);
  });

  it('runs a lone job on the calling thread when the pool is idle, and none when inline=off', async () => {
    const here = await open('software');
    const qp = here.queuePairs[0]!;
    expect(qp.submit(jobs(1))).toBe(1);
    expect(qp.harvest(() => {})).toBe(1); // completed before submit returned
    expect(here.poolJobsPerWorker.every((n) => n === 0)).toBe(true);
    const pooled = await open('software?inline=off&pool=workers');
    const [c] = await runAll(pooled.queuePairs[0]!, [sign(1)]);
    expect(c!.ok).toBe(true);
    expect(pooled.poolJobsPerWorker.reduce((a, b) => a + b)).toBe(1);
  });

  it('abandon drops every job in flight: their tags come back and they never complete', async () => {
    const device = await open('software?inline=off&pool=workers');
    const qp = device.queuePairs[0]!;
    expect(qp.submit(jobs(8))).toBe(8);
    const abandoned = await qp.abandon();
    expect([...abandoned].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(qp.inFlight).toBe(0);
    await settle(device, 8);
    expect(qp.harvest(() => {})).toBe(0);
    // The tags are free again and the queue pair still works.
    const again = await runAll(qp, [sign(0), sign(1)]);
    expect(again.every((c) => c.ok)).toBe(true);
  });

  it('reset abandons in-flight work and reports resetting → ready', async () => {
    const device = await open('software?inline=off&pool=workers');
    const states: string[] = [];
    device.subscribe((e) => e.type === 'state' && states.push(e.state));
    const qp = device.queuePairs[0]!;
    qp.submit(jobs(4));
    await device.reset();
    expect(states).toEqual(['resetting', 'ready']);
    expect(qp.inFlight).toBe(0);
    await settle(device, 4);
    expect(qp.harvest(() => {})).toBe(0);
  });

  it('close rejects pending and later waits with DeviceGoneError and refuses submits', async () => {
    const device = await open('software?inline=off');
    const qp = device.queuePairs[0]!;
    qp.submit(jobs(2));
    qp.harvest(() => {});
    const pending = qp.waitForCompletions();
    const waitAfterHarvest = expect(pending).rejects.toBeInstanceOf(DeviceGoneError);
    await device.close();
    await waitAfterHarvest;
    expect(device.state).toBe('closed');
    await expect(qp.waitForCompletions()).rejects.toBeInstanceOf(DeviceGoneError);
    expect(() => qp.submit(jobs(1))).toThrow(DeviceGoneError);
    await device.close(); // idempotent
  });

  it('waitForCompletions rejects with AbortedError on abort', async () => {
    const device = await open('software?inline=off');
    const qp = device.queuePairs[0]!;
    const controller = new AbortController();
    const waiting = qp.waitForCompletions(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await expect(qp.waitForCompletions(AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
  });

  it('accepts requests it cannot do and completes them with UnsupportedError', async () => {
    const device = await open('software');
    const x = okpKey('X25519');
    const [c] = await runAll(device.queuePairs[0]!, [
      { op: 'eddsa-sign', key: x.material, message: randomBytes(4) },
    ]);
    expect(c!.ok).toBe(false);
    expect(!c!.ok && c!.error).toBeInstanceOf(UnsupportedError);
  });

  it('mixes key kinds in one batch, each worker receiving each key once', async () => {
    const device = await open('software?workers=2&inline=off&pool=workers');
    const keys = [ecKey('P-256'), ecKey('P-384')];
    const requests: PrimitiveRequest[] = [];
    for (let i = 0; i < 20; i++) {
      const k = keys[i % 2]!;
      requests.push({ op: 'ec-mul', curve: k.material.curve, scalar: k.material });
    }
    const results = await runAll(device.queuePairs[0]!, requests);
    results.forEach((c, i) => {
      const pub = keys[i % 2]!.material.publicKey;
      expect(resultOf(c)).toEqual({ x: pub.x, y: pub.y });
    });
  });
});

describe('process exit', () => {
  const script = fileURLToPath(new URL('./exit-script.ts', import.meta.url));
  const runScript = (mode: string, pool: string) =>
    new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, mode, pool], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the process did not exit on its own (${mode}): ${out}`));
      }, 30_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });

  it.each([
    ['close', 'workers'],
    ['leave-open', 'workers'],
    ['close', 'uv'],
    ['leave-open', 'uv'],
  ])('exits on its own after work on the pool (%s, pool=%s)', async (mode, pool) => {
    const { code, out } = await runScript(mode, pool);
    expect(out).toContain('done 16');
    expect(code).toBe(0);
  });
});
