/**
 * Stall detection under load (issue 11 §3): a healthy device is never declared stalled
 * because load rose suddenly. Each device first learns its latency at low load (jobs
 * one at a time), then gets 1,536 jobs at once (its queue pairs full, the rest in the
 * backlog), with the stall options at their defaults. A stall would show as a
 * 'device-reset' event (a queue pair abandoned), a 'device-failed' event or a
 * DeviceGoneError (after 3 stalls the device leaves service).
 *
 * No wall-clock bound is asserted: on a loaded machine the burst takes longer, and
 * stall detection must still see a device that is working through it. The deadline is
 * raised (timeoutMs 120 s; the stall ceiling stays at its 5 s default) so that a slow
 * machine cannot turn the test into a deadline test.
 */

import { createHash, createPublicKey, generateKeyPairSync, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EcPrivateKeyMaterial, RsaPrivateKeyMaterial } from '../../core/driver/keys.js';
import type { PrimitiveRequest } from '../../core/driver/primitives.js';
import type { QueueEvent } from '../../core/queue/events.js';
import { openAccelerator } from '../../index.js';

type Jwk = Record<string, string>;
const int = (jwk: Jwk, name: string): bigint =>
  BigInt(`0x${Buffer.from(jwk[name]!, 'base64url').toString('hex')}`);

function keys() {
  const ecPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ec = ecPair.privateKey.export({ format: 'jwk' }) as Jwk;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Jwk;
  const ecKey = new EcPrivateKeyMaterial('P-256', int(ec, 'd'), {
    kind: 'ec-public',
    curve: 'P-256',
    x: int(ec, 'x'),
    y: int(ec, 'y'),
  });
  const rsaKey = new RsaPrivateKeyMaterial(
    int(rsa, 'n'),
    int(rsa, 'e'),
    int(rsa, 'd'),
    int(rsa, 'p'),
    int(rsa, 'q'),
    int(rsa, 'dp'),
    int(rsa, 'dq'),
    int(rsa, 'qi'),
  );
  return { ecKey, ecPublic: createPublicKey(ecPair.privateKey), rsaKey, rsaN: int(rsa, 'n') };
}

const K = keys();
const BURST = 1_536;

/** Job i of the load: RSA-2048 private-key operations and ECDSA P-256 signatures, mixed (`rsaEvery`: 1 in n is RSA). */
function job(i: number, rsaEvery: number): PrimitiveRequest {
  if (i % rsaEvery === 0) {
    const input = new Uint8Array(256);
    input[255] = i & 0xff;
    input[254] = (i >> 8) & 0xff;
    input[1] = 1;
    return { op: 'rsa-private', key: K.rsaKey, input };
  }
  return { op: 'ecdsa-sign', key: K.ecKey, digest: createHash('sha256').update(message(i)).digest() };
}

const message = (i: number) => `message ${i}`;

function check(i: number, request: PrimitiveRequest, value: unknown): boolean {
  if (request.op === 'rsa-private') {
    const out = value as Uint8Array;
    const s = BigInt(`0x${Buffer.from(out).toString('hex')}`);
    let r = 1n;
    let b = s % K.rsaN;
    for (let e = K.rsaKey.e; e > 0n; e >>= 1n, b = (b * b) % K.rsaN) if (e & 1n) r = (r * b) % K.rsaN;
    return r === BigInt(`0x${Buffer.from(request.input).toString('hex')}`);
  }
  if (request.op === 'ecdsa-sign') {
    const sig = value as Uint8Array;
    return nodeVerify('sha256', Buffer.from(message(i)), { key: K.ecPublic, dsaEncoding: 'ieee-p1363' }, sig);
  }
  return false;
}

async function burst(spec: string, rsaEvery: number) {
  const accel = await openAccelerator({ devices: [spec], queue: { timeoutMs: 120_000 } });
  const events: QueueEvent[] = [];
  const sub = accel.events$.subscribe((e) => events.push(e));
  try {
    // Low load first: the latency learned one job at a time is what used to make a burst look stalled.
    for (let i = 0; i < 24; i++) {
      const request = job(i, 2);
      expect(check(i, request, await accel.queue.submit(request))).toBe(true);
    }
    const requests = Array.from({ length: BURST }, (_, i) => job(i, rsaEvery));
    const outcomes = await Promise.allSettled(requests.map((r) => accel.queue.submit(r)));
    const errors = outcomes
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => `${(o.reason as Error).name}: ${(o.reason as Error).message}`);
    const wrong = outcomes.filter(
      (o, i) => o.status === 'fulfilled' && !check(i, requests[i]!, o.value),
    ).length;
    const device = accel.devices[0]!;
    return {
      errors: [...new Set(errors)],
      wrong,
      state: device.state,
      trouble: events.filter((e) => e.type !== 'device-added'),
    };
  } finally {
    sub.unsubscribe();
    await accel.close();
  }
}

describe('a healthy device under a sudden burst is never declared stalled (default stall options)', () => {
  it(`software: ${BURST} jobs at once (RSA-2048 private and ECDSA P-256, its 1,024 slots full)`, async () => {
    const r = await burst('software', 2);
    expect(r.errors).toEqual([]);
    expect(r.wrong).toBe(0);
    expect(r.trouble).toEqual([]);
    expect(r.state).toBe('ready');
  }, 180_000);

  it(`sim:ring: ${BURST} jobs at once (ECDSA P-256, 1 in 16 RSA-2048 private; its rings full)`, async () => {
    const r = await burst('sim:ring', 16);
    expect(r.errors).toEqual([]);
    expect(r.wrong).toBe(0);
    expect(r.trouble).toEqual([]);
    expect(r.state).toBe('ready');
  }, 300_000);
});
