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

import { constants, createHash, verify as nodeVerify, publicEncrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PrimitiveRequest } from '../../core/driver/primitives.js';
import type { QueueEvent } from '../../core/queue/events.js';
import { openAccelerator } from '../../index.js';
import { newEcKey, newRsaKey } from '../support/keys.js';

const EC = newEcKey('P-256');
const RSA = newRsaKey(2048);
const BURST = 1_536;

/** Job i of the load: RSA-2048 private-key operations and ECDSA P-256 signatures, mixed (`rsaEvery`: 1 in n is RSA). */
function job(i: number, rsaEvery: number): PrimitiveRequest {
  if (i % rsaEvery === 0) {
    const input = new Uint8Array(256);
    input[255] = i & 0xff;
    input[254] = (i >> 8) & 0xff;
    input[1] = 1;
    return { op: 'rsa-private', key: RSA.material, input };
  }
  return { op: 'ecdsa-sign', key: EC.material, digest: createHash('sha256').update(message(i)).digest() };
}

const message = (i: number) => `message ${i}`;

function check(i: number, request: PrimitiveRequest, value: unknown): boolean {
  if (request.op === 'rsa-private') {
    // Raw RSA by node (no padding): the public operation on the result gives the input back.
    const raw = publicEncrypt({ key: RSA.publicKey, padding: constants.RSA_NO_PADDING }, value as Uint8Array);
    return raw.equals(request.input);
  }
  if (request.op === 'ecdsa-sign') {
    const sig = value as Uint8Array;
    return nodeVerify(
      'sha256',
      Buffer.from(message(i)),
      { key: EC.publicKey, dsaEncoding: 'ieee-p1363' },
      sig,
    );
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

const BURSTS = [
  ['software', 2, 'RSA-2048 private and ECDSA P-256, its 1,024 slots full', 180_000],
  ['sim:ring', 16, 'ECDSA P-256, 1 in 16 RSA-2048 private; its rings full', 300_000],
] as const;

describe('a healthy device under a sudden burst is never declared stalled (default stall options)', () => {
  for (const [spec, rsaEvery, what, timeout] of BURSTS) {
    it(
      `${spec}: ${BURST} jobs at once (${what})`,
      async () => {
        // No errors, no wrong result, no stall/reset/failure event, and the device still ready.
        expect(await burst(spec, rsaEvery)).toEqual({ errors: [], wrong: 0, trouble: [], state: 'ready' });
      },
      timeout,
    );
  }
});
