/**
 * generateKey on an accelerator without a keygen primitive: the simulated ring
 * card (`sim:ring`, named explicitly: the library never opens a simulator by
 * default). EC keys come from a random scalar and the card's ECDH with the base
 * point; RSA keys are generated on the host and then held by the card; Ed25519
 * has neither, so the error says what to add.
 */

import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accelerator, openAccelerator } from '../../index.js';

let ring: Accelerator;
beforeAll(async () => {
  ring = await openAccelerator({ devices: ['sim:ring'] });
});
afterAll(() => ring.close());

describe('generateKey on sim:ring alone', () => {
  it('makes ECDSA and ECDH keys with the card, which then sign and agree', async () => {
    const s = ring.subtle;
    for (const namedCurve of ['P-256', 'P-384'] as const) {
      const pair = await s.generateKey({ name: 'ECDSA', namedCurve }, true, ['sign', 'verify']);
      const hash = namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384';
      const msg = new Uint8Array([1, 2, 3]);
      const sig = await s.sign({ name: 'ECDSA', hash, format: 'der' }, pair.privateKey, msg);
      const spki = Buffer.from((await s.exportKey('spki', pair.publicKey)) as ArrayBuffer);
      const nodeKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
      expect(verify(hash.replace('-', '').toLowerCase(), msg, nodeKey, Buffer.from(sig))).toBe(true);
      const a = await s.generateKey({ name: 'ECDH', namedCurve }, false, ['deriveBits']);
      const b = await s.generateKey({ name: 'ECDH', namedCurve }, false, ['deriveBits']);
      const ab = await s.deriveBits({ name: 'ECDH', public: b.publicKey }, a.privateKey, null);
      const ba = await s.deriveBits({ name: 'ECDH', public: a.publicKey }, b.privateKey, null);
      expect(Buffer.from(ab)).toEqual(Buffer.from(ba));
    }
  });

  it('makes RSA keys on the host and signs with them on the card', async () => {
    const s = ring.subtle;
    const alg = {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    };
    const pair = await s.generateKey(alg, false, ['sign', 'verify']);
    expect(pair.privateKey.algorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048 });
    const msg = new Uint8Array([9]);
    const sig = await s.sign(alg, pair.privateKey, msg);
    expect(await s.verify(alg, pair.publicKey, sig, msg)).toBe(true);
  });

  it('says what to add for keys it cannot make', async () => {
    const error = await ring.subtle.generateKey('Ed25519', false, ['sign']).then(
      () => undefined,
      (e: unknown) => e as DOMException,
    );
    expect(error?.name).toBe('NotSupportedError');
    expect(error?.message).toMatch(/"software".*softwareFallback: true/);
  });
});
