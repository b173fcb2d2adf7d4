/**
 * Engine modes and the worker-thread card under load: `null` answers at once with
 * a fixed result, `timed` holds each operation for its service time on N
 * engines, and a worker-mode card keeps every result right with all queue pairs
 * busy at once.
 */
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Completion, Job } from '../../../core/driver/index.js';
import { bytesOf, card, ecKey, harvestAll, rsaKey } from './harness.js';

describe('ring card engines', () => {
  it('null engine: the fixed result of the right size, and the operation is counted', async () => {
    const c = await card('mode=inline&depth=8&engine=null');
    const qp = c.device.queuePairs[0]!;
    const key = rsaKey(2048);
    qp.submit([
      { tag: 1, request: { op: 'rsa-private', key, input: bytesOf(5n, 256) } },
      {
        tag: 2,
        request: {
          op: 'ecdsa-verify',
          key: ecKey('P-256').publicKey,
          digest: new Uint8Array(32),
          signature: new Uint8Array(64).fill(1),
        },
      },
    ]);
    const done = new Map((await harvestAll(qp, 2)).map((x) => [x.tag, x]));
    const rsa = done.get(1)!;
    expect(
      rsa.ok &&
        rsa.value instanceof Uint8Array &&
        rsa.value.length === 256 &&
        rsa.value.every((b) => b === 0),
    ).toBe(true);
    expect(done.get(2)).toMatchObject({ ok: true, value: true });
    expect(c.fn.sim.operations).toBe(2);
  });

  it('timed engine, one engine: operations complete one service time apart, in order', async () => {
    const c = await card('mode=inline&depth=8&engine=timed&engines=1&service=40');
    const qp = c.device.queuePairs[0]!;
    const key = rsaKey(2048).publicKey;
    const jobs: Job[] = [1, 2, 3].map((tag) => ({
      tag,
      request: { op: 'rsa-public', key, input: bytesOf(9n, 256) },
    }));
    expect(qp.submit(jobs)).toBe(3);
    const order: number[] = [];
    const signal = AbortSignal.timeout(5000);
    while (order.length < 3) {
      await qp.waitForCompletions(signal);
      const got: Completion[] = [];
      qp.harvest((x) => got.push(x));
      // One engine: never more than one completion per wake-up.
      expect(got.length).toBeLessThanOrEqual(1);
      order.push(...got.map((x) => x.tag));
    }
    expect(order).toEqual([1, 2, 3]);
  });

  it('worker mode: all four queue pairs busy at once, every result right', async () => {
    const c = await card('depth=16');
    const ec = ecKey('P-256');
    const L = 32;
    const b64 = (v: bigint) => Buffer.from(bytesOf(v, L)).toString('base64url');
    const nodeKey = createPrivateKey({
      format: 'jwk',
      key: { kty: 'EC', crv: 'P-256', x: b64(ec.publicKey.x), y: b64(ec.publicKey.y), d: b64(ec.d) },
    });
    const messages = Array.from({ length: 15 }, (_, i) => Buffer.from(`message ${i}`));
    const jobs = messages.map((m, i) => {
      const digest = createHash('sha256').update(m).digest();
      // Odd jobs get a signature of another message: they must come back false.
      const signed = sign('sha256', i % 2 ? messages[(i + 1) % messages.length]! : m, {
        key: nodeKey,
        dsaEncoding: 'ieee-p1363',
      });
      return {
        tag: i,
        request: { op: 'ecdsa-verify' as const, key: ec.publicKey, digest, signature: signed },
      };
    });
    const queues = c.device.queuePairs;
    for (const qp of queues) expect(qp.submit(jobs)).toBe(15);
    const results = await Promise.all(queues.map((qp) => harvestAll(qp, 15, 20_000)));
    for (const list of results) {
      expect(list.length).toBe(15);
      for (const x of list) expect(x).toMatchObject({ ok: true, value: x.tag % 2 === 0 });
    }
    expect(c.fn.sim.operations).toBe(60);
  });
});
