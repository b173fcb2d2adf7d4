/**
 * `subtle` remembers the last conversion of each algorithm dictionary and the last call made
 * with each key (core/api/webidl.ts `dictionary`, held-keys.ts `prepareCall`), so a loop of
 * like calls converts and checks nothing twice. What a caller can observe must not change:
 * every member is still read on every call, a changed member is converted anew, a policy the
 * caller changes still decides, and a key's checks still fail for a key that fails them.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accelerator, type CryptoKey, openAccelerator } from '../../index.js';
import { newEcKey } from '../support/keys.js';

let accel: Accelerator;
let signKey: CryptoKey;
let verifyKey: CryptoKey;
const data = new Uint8Array([1, 2, 3]);

beforeAll(async () => {
  accel = await openAccelerator({ devices: ['software'] });
  const { jwk } = newEcKey('P-256');
  const { d: _d, ...pub } = jwk;
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  signKey = await accel.subtle.importKey('jwk', jwk, alg, false, ['sign']);
  verifyKey = await accel.subtle.importKey('jwk', pub, alg, false, ['verify']);
});

afterAll(() => accel.close());

describe('repeated subtle calls', () => {
  it('read every member of the algorithm on every call, and convert a changed one anew', async () => {
    let reads = 0;
    let hash = 'SHA-256';
    const alg = {
      name: 'ECDSA',
      get hash(): string {
        reads++;
        return hash;
      },
    };
    const sig256 = await accel.subtle.sign(alg, signKey, data);
    const again = await accel.subtle.sign(alg, signKey, data);
    expect(reads).toBe(2);
    expect(await accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifyKey, again, data)).toBe(true);
    hash = 'SHA-384';
    const sig384 = await accel.subtle.sign(alg, signKey, data);
    expect(reads).toBe(3);
    // Signed over SHA-384 now: valid only with that hash.
    expect(await accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-384' }, verifyKey, sig384, data)).toBe(true);
    expect(await accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifyKey, sig384, data)).toBe(
      false,
    );
    expect(await accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifyKey, sig256, data)).toBe(true);
    // An unsupported hash after a remembered good one is still refused.
    hash = 'SHA-3';
    await expect(accel.subtle.sign(alg, signKey, data)).rejects.toMatchObject({ name: 'NotSupportedError' });
    hash = 'SHA-256';
    // A member that becomes an object is converted as an object (here its `name`).
    const objectHash = { name: 'ECDSA', hash: { name: 'SHA-384' } };
    const sig = await accel.subtle.sign(objectHash, signKey, data);
    expect(await accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-384' }, verifyKey, sig, data)).toBe(true);
  });

  it('still check the key after a remembered call with another key', async () => {
    const alg = { name: 'ECDSA', hash: 'SHA-256' };
    await accel.subtle.verify(alg, verifyKey, new Uint8Array(64), data);
    // The same algorithm object with the signing key: that key has no "verify" usage.
    await expect(accel.subtle.verify(alg, signKey, new Uint8Array(64), data)).rejects.toMatchObject({
      name: 'InvalidAccessError',
    });
    // And the verifying key cannot sign, however often it verified.
    await expect(accel.subtle.sign(alg, verifyKey, data)).rejects.toMatchObject({
      name: 'InvalidAccessError',
    });
  });

  it('still abort a sign or verify given a signal, and complete one whose signal stays quiet', async () => {
    const alg = { name: 'ECDSA', hash: 'SHA-256' };
    const quiet = new AbortController();
    const signature = await accel.subtle.sign(alg, signKey, data, { signal: quiet.signal });
    expect(await accel.subtle.verify(alg, verifyKey, signature, data, { signal: quiet.signal })).toBe(true);
    const controller = new AbortController();
    const signing = accel.subtle.sign(alg, signKey, data, { signal: controller.signal });
    const verifying = accel.subtle.verify(alg, verifyKey, signature, data, { signal: controller.signal });
    controller.abort();
    await expect(signing).rejects.toMatchObject({ name: 'AbortError' });
    await expect(verifying).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('ask a policy the caller changed after a remembered call', async () => {
    const policy: { curves?: readonly string[] } = {};
    const strict = await openAccelerator({ devices: ['software'], policy: policy as never });
    try {
      const { jwk } = newEcKey('P-256');
      const key = await strict.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
        'sign',
      ]);
      const alg = { name: 'ECDSA', hash: 'SHA-256' };
      await strict.subtle.sign(alg, key, data);
      await strict.subtle.sign(alg, key, data);
      policy.curves = ['P-384'];
      await expect(strict.subtle.sign(alg, key, data)).rejects.toThrow(/P-256/);
    } finally {
      await strict.close();
    }
  });
});
