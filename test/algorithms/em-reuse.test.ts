/**
 * RSASSA-PKCS1-v1_5 on a raw-RSA device encodes into arrays given back after each job
 * (core/encoding pkcs1v15Reuse, encodeReused / releaseReused): what an earlier user left in an
 * array must not show in a later encoding, and an encoding the caller still holds (a device
 * that answered with its input's own bytes) must not be written over.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { nullRegistry } from '../../bench/lib/registries.js';
import { rsaSign } from '../../core/algorithms/rsa-signature.js';
import { type Accelerator, openAccelerator } from '../../core/api/index.js';
import type { PrimitiveRequest } from '../../core/driver/index.js';
import {
  emsaPkcs1v15Encode,
  encodeReused,
  pkcs1v15Reuse,
  releaseReused,
} from '../../core/encoding/emsa-pkcs1v15.js';
import { JobQueue } from '../../core/queue/index.js';
import { GATE_OFF_OPTIONS } from '../support/accel.js';
import { FakeDevice } from '../support/fake-device.js';
import { cachedRsaKey } from '../support/keys.js';

describe('encodeReused', () => {
  it('encodes as emsaPkcs1v15Encode into a given-back array, whatever was left in it', () => {
    const reuse = pkcs1v15Reuse('SHA-256', 256);
    const a = new Uint8Array(32).fill(0xaa);
    const b = new Uint8Array(32).fill(0xbb);
    const first = encodeReused(reuse, a);
    expect(first).toEqual(emsaPkcs1v15Encode('SHA-256', a, 256));
    first.fill(0x5a); // scribbled on by its last user
    releaseReused(reuse, first);
    const second = encodeReused(reuse, b);
    expect(second).toBe(first);
    expect(second).toEqual(emsaPkcs1v15Encode('SHA-256', b, 256));
  });

  it('never hands out the template, nor a view that does not own its buffer', () => {
    const reuse = pkcs1v15Reuse('SHA-256', 256);
    const h = new Uint8Array(32).fill(1);
    const whole = new Uint8Array(512);
    releaseReused(reuse, whole.subarray(0, 256));
    releaseReused(reuse, reuse.template);
    const em = encodeReused(reuse, h);
    expect(em.buffer).not.toBe(whole.buffer);
    expect(em).not.toBe(reuse.template);
    expect(em).toEqual(emsaPkcs1v15Encode('SHA-256', h, 256));
  });

  it('refuses a digest of the wrong length', () => {
    expect(() => emsaPkcs1v15Encode('SHA-256', new Uint8Array(20), 256)).toThrow(/digest length/);
  });
});

describe('RSASSA-PKCS1-v1_5 sign on a raw-RSA device', () => {
  let accel: Accelerator | undefined;
  afterEach(async () => {
    await accel?.close();
    accel = undefined;
  });

  // A device that answers rsa-private with its input's own array: the encoding must not go back
  // for reuse, or a caller given the array itself would see it overwritten.
  const echo = () =>
    new FakeDevice({
      id: 'echo',
      ops: ['rsa-private'],
      compute: (request: PrimitiveRequest) => (request as PrimitiveRequest & { input: Uint8Array }).input,
    });

  it('keeps a signature that is the encoding itself intact, given as the array (as PKCS#11 gets it)', async () => {
    const queue = new JobQueue({ integrity: GATE_OFF_OPTIONS });
    queue.addDevice(echo());
    try {
      const key = cachedRsaKey(2048).material;
      const params = { scheme: 'pkcs1-v1_5', hash: 'SHA-256' } as const;
      const first = await rsaSign(queue, key, params, new Uint8Array([1]));
      const kept = first.slice();
      for (let i = 2; i < 6; i++) await rsaSign(queue, key, params, new Uint8Array([i]));
      expect(first).toEqual(kept);
    } finally {
      await queue.close({ drain: false });
    }
  });

  it('keeps a signature that is the encoding itself intact through subtle', async () => {
    const device = echo();
    accel = await openAccelerator({
      devices: ['null'],
      registry: nullRegistry(() => device),
      queue: { integrity: GATE_OFF_OPTIONS },
    });
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await accel.subtle.importKey('jwk', cachedRsaKey(2048).jwk, alg, false, ['sign']);
    const first = await accel.subtle.sign(alg, key, new Uint8Array([1]));
    const kept = new Uint8Array(first).slice();
    for (let i = 2; i < 6; i++) await accel.subtle.sign(alg, key, new Uint8Array([i]));
    expect(new Uint8Array(first)).toEqual(kept);
  });
});
