/**
 * Round-trip properties (fast-check, bounded runs) through `subtle` on the
 * software device, with node:crypto as the independent second party: sign and
 * verify, encrypt and decrypt, agreement on both sides, import/export, across
 * key sizes and curves.
 */

import {
  constants,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  privateDecrypt,
  verify,
} from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accelerator, type CryptoKeyLike, openAccelerator } from '../../index.js';

let accel: Accelerator;
beforeAll(async () => {
  accel = await openAccelerator({ devices: ['software'] });
});
afterAll(() => accel.close());

const RUNS = { numRuns: 12 };
const HASHES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const;
const CURVES = ['P-256', 'P-384', 'P-521'] as const;
const nodeHash = (h: string) => h.replace('-', '').toLowerCase();
const RSA = {
  2048: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  3072: generateKeyPairSync('rsa', { modulusLength: 3072 }),
};
const EC = Object.fromEntries(CURVES.map((c) => [c, generateKeyPairSync('ec', { namedCurve: c })]));
const spki = (k: { export(o: object): unknown }) => k.export({ format: 'der', type: 'spki' }) as Buffer;
const pkcs8 = (k: { export(o: object): unknown }) => k.export({ format: 'der', type: 'pkcs8' }) as Buffer;
const message = fc.uint8Array({ maxLength: 300 });

describe('round trips', () => {
  it('RSA PKCS#1 v1.5 and PSS: sign here, verify here and with OpenSSL', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(2048, 3072),
        fc.constantFrom(...HASHES),
        fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }),
        message,
        async (bits, hash, saltLength, msg) => {
          const keys = RSA[bits as 2048 | 3072];
          const name = saltLength === undefined ? 'RSASSA-PKCS1-v1_5' : 'RSA-PSS';
          const alg = { name, hash, saltLength };
          const s = accel.subtle;
          const priv = await s.importKey('pkcs8', pkcs8(keys.privateKey), alg, false, ['sign']);
          const pub = await s.importKey('spki', spki(keys.publicKey), alg, false, ['verify']);
          const sig = new Uint8Array(await s.sign(alg, priv, msg));
          expect(sig.length).toBe(bits / 8);
          expect(await s.verify(alg, pub, sig, msg)).toBe(true);
          expect(await s.verify(alg, pub, sig, new Uint8Array([...msg, 1]))).toBe(false);
          const options =
            saltLength === undefined
              ? keys.publicKey
              : { key: keys.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength };
          expect(verify(nodeHash(hash), msg, options, sig)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('RSA-OAEP: encrypt here, decrypt here and with OpenSSL', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(2048, 3072),
        fc.constantFrom(...HASHES),
        fc.uint8Array({ maxLength: 16 }),
        fc.integer({ min: 0, max: 1000 }),
        async (bits, hash, label, seed) => {
          const keys = RSA[bits as 2048 | 3072];
          const hLen = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 }[hash];
          const msg = new Uint8Array(seed % (bits / 8 - 2 * hLen - 1)).fill(seed & 0xff);
          const alg = { name: 'RSA-OAEP', hash };
          const s = accel.subtle;
          const pub = await s.importKey('spki', spki(keys.publicKey), alg, false, ['encrypt']);
          const priv = await s.importKey('pkcs8', pkcs8(keys.privateKey), alg, false, ['decrypt']);
          const ct = new Uint8Array(await s.encrypt({ name: 'RSA-OAEP', label }, pub, msg));
          expect(new Uint8Array(await s.decrypt({ name: 'RSA-OAEP', label }, priv, ct))).toEqual(msg);
          const opened = privateDecrypt(
            {
              key: keys.privateKey,
              padding: constants.RSA_PKCS1_OAEP_PADDING,
              oaepHash: nodeHash(hash),
              oaepLabel: label,
            },
            ct,
          );
          expect(new Uint8Array(opened)).toEqual(msg);
        },
      ),
      RUNS,
    );
  });

  it('ECDSA (P1363 and DER) and Ed25519: sign here, verify here and with OpenSSL', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CURVES, 'Ed25519' as const),
        fc.constantFrom(...HASHES),
        fc.constantFrom('p1363' as const, 'der' as const),
        message,
        async (curve, hash, format, msg) => {
          const s = accel.subtle;
          const keyAlg = curve === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: curve };
          const alg = curve === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', hash, format };
          const pair = (await s.generateKey(keyAlg, true, ['sign', 'verify'])) as {
            privateKey: CryptoKeyLike;
            publicKey: CryptoKeyLike;
          };
          const sig = new Uint8Array(await s.sign(alg, pair.privateKey, msg));
          expect(await s.verify(alg, pair.publicKey, sig, msg)).toBe(true);
          const flipped = Uint8Array.from(sig);
          flipped[flipped.length - 1]! ^= 1;
          expect(await s.verify(alg, pair.publicKey, flipped, msg)).toBe(false);
          const pub = createPublicKey({
            key: Buffer.from((await s.exportKey('spki', pair.publicKey)) as ArrayBuffer),
            format: 'der',
            type: 'spki',
          });
          const nodeAlg = curve === 'Ed25519' ? null : nodeHash(hash);
          const encoding = format === 'der' ? 'der' : 'ieee-p1363';
          expect(verify(nodeAlg, msg, { key: pub, dsaEncoding: encoding }, sig)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('ECDH and X25519: both sides agree, and OpenSSL agrees', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CURVES, 'X25519' as const),
        fc.boolean(),
        async (curve, truncate) => {
          const s = accel.subtle;
          const alg = curve === 'X25519' ? { name: 'X25519' } : { name: 'ECDH', namedCurve: curve };
          type Pair = { privateKey: CryptoKeyLike; publicKey: CryptoKeyLike };
          const a = (await s.generateKey(alg, true, ['deriveBits'])) as Pair;
          const b = (await s.generateKey(alg, true, ['deriveBits'])) as Pair;
          const full = { 'P-256': 256, 'P-384': 384, 'P-521': 528, X25519: 256 }[curve];
          const length = truncate ? 128 : full;
          const ab = await s.deriveBits({ name: alg.name, public: b.publicKey }, a.privateKey, length);
          const ba = await s.deriveBits({ name: alg.name, public: a.publicKey }, b.privateKey, length);
          expect(Buffer.from(ab)).toEqual(Buffer.from(ba));
          expect(ab.byteLength * 8).toBe(length);
          const privateKey = createPrivateKey({
            key: Buffer.from((await s.exportKey('pkcs8', a.privateKey)) as ArrayBuffer),
            format: 'der',
            type: 'pkcs8',
          });
          const publicKey = createPublicKey({
            key: Buffer.from((await s.exportKey('spki', b.publicKey)) as ArrayBuffer),
            format: 'der',
            type: 'spki',
          });
          expect(diffieHellman({ privateKey, publicKey }).subarray(0, length / 8)).toEqual(Buffer.from(ab));
        },
      ),
      RUNS,
    );
  });

  it('import/export: every format of every key type survives a round trip', async () => {
    const s = accel.subtle;
    const cases: { alg: { name: string }; pub: Buffer; priv: Buffer; rawPublic: boolean }[] = [
      ...([2048, 3072] as const).map((bits) => ({
        alg: { name: 'RSA-PSS', hash: 'SHA-256' },
        pub: spki(RSA[bits].publicKey),
        priv: pkcs8(RSA[bits].privateKey),
        rawPublic: false,
      })),
      ...CURVES.map((c) => ({
        alg: { name: 'ECDSA', namedCurve: c },
        pub: spki(EC[c]!.publicKey),
        priv: pkcs8(EC[c]!.privateKey),
        rawPublic: true,
      })),
      ...(['ed25519', 'x25519'] as const).map((t) => {
        const k = generateKeyPairSync(t as 'ed25519');
        return {
          alg: { name: t === 'ed25519' ? 'Ed25519' : 'X25519' },
          pub: spki(k.publicKey),
          priv: pkcs8(k.privateKey),
          rawPublic: true,
        };
      }),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...cases),
        fc.constantFrom('spki', 'jwk', 'raw'),
        async (c, format) => {
          const name = (c.alg as { name: string }).name;
          const pubUsages = name === 'X25519' ? [] : ['verify'];
          const privUsages = name === 'X25519' ? ['deriveBits'] : ['sign'];
          const pub = await s.importKey('spki', c.pub, c.alg, true, pubUsages);
          const priv = await s.importKey('pkcs8', c.priv, c.alg, true, privUsages);
          if (format === 'raw' && !c.rawPublic) return;
          const pubOut = await s.exportKey(format as 'spki', pub);
          const pubBack = await s.importKey(format as 'spki', pubOut as ArrayBuffer, c.alg, true, pubUsages);
          expect(Buffer.from((await s.exportKey('spki', pubBack)) as ArrayBuffer)).toEqual(c.pub);
          const privFormat = format === 'jwk' ? 'jwk' : 'pkcs8';
          const privOut = await s.exportKey(privFormat, priv);
          const privBack = await s.importKey(privFormat, privOut as ArrayBuffer, c.alg, true, privUsages);
          expect(Buffer.from((await s.exportKey('pkcs8', privBack)) as ArrayBuffer)).toEqual(c.priv);
        },
      ),
      { numRuns: 30 },
    );
  });
});
