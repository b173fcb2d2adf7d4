/**
 * `subtle` on the software device: WebCrypto's argument and error conventions,
 * the pass-through of symmetric algorithms, deriveKey, wrapKey/unwrapKey across
 * the two key worlds, pkaccel's extensions, and bad input that must give the
 * DOMException WebCrypto names (and never crash).
 */

import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accelerator, type CryptoKeyLike, openAccelerator } from '../../index.js';
import { rejectionOf } from '../support/accel.js';

let accel: Accelerator;
beforeAll(async () => {
  accel = await openAccelerator({ devices: ['software'] });
});
afterAll(() => accel.close());

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPkcs8 = rsa.privateKey.export({ format: 'der', type: 'pkcs8' });
const rsaSpki = rsa.publicKey.export({ format: 'der', type: 'spki' });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p256Pkcs8 = p256.privateKey.export({ format: 'der', type: 'pkcs8' });
const p256Spki = p256.publicKey.export({ format: 'der', type: 'spki' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });

type Pair = { publicKey: CryptoKeyLike; privateKey: CryptoKeyLike };

const failure = rejectionOf;
const nameOf = async (p: Promise<unknown>) => (await failure(p)).name;

describe('WebCrypto errors', () => {
  it('unknown and refused algorithms are NotSupportedError', async () => {
    const s = accel.subtle;
    expect(await nameOf(s.importKey('spki', rsaSpki, { name: 'FOO' }, true, []))).toBe('NotSupportedError');
    expect(
      await nameOf(s.importKey('pkcs8', rsaPkcs8, { name: 'RSAES-PKCS1-v1_5' }, false, ['decrypt'])),
    ).toBe('NotSupportedError');
    expect(await nameOf(s.generateKey({ name: 'RSAES-PKCS1-v1_5' }, false, ['decrypt']))).toBe(
      'NotSupportedError',
    );
    expect(await nameOf(s.importKey('spki', rsaSpki, { name: 'ECDSA', namedCurve: 'P-192' }, true, []))).toBe(
      'NotSupportedError',
    );
    expect(await nameOf(s.importKey('spki', rsaSpki, { name: 'RSA-PSS', hash: 'SHA-3' }, true, []))).toBe(
      'NotSupportedError',
    );
  });

  it('WebIDL mistakes are TypeError', async () => {
    const s = accel.subtle;
    expect(await nameOf(s.importKey('spki', rsaSpki, { name: 'RSA-PSS' }, true, ['verify']))).toBe(
      'TypeError',
    );
    expect(
      await nameOf(s.importKey('spki', 'not bytes' as never, { name: 'RSA-PSS', hash: 'SHA-256' }, true, [])),
    ).toBe('TypeError');
    expect(await nameOf(s.importKey('jwk', rsaSpki, { name: 'RSA-PSS', hash: 'SHA-256' }, true, []))).toBe(
      'TypeError',
    );
    expect(
      await nameOf(s.importKey('der' as never, rsaSpki, { name: 'RSA-PSS', hash: 'SHA-256' }, true, [])),
    ).toBe('TypeError');
    expect(
      await nameOf(s.importKey('spki', rsaSpki, { name: 'RSA-PSS', hash: 'SHA-256' }, true, ['fly'])),
    ).toBe('TypeError');
    // WebIDL makes 42 the algorithm name "42" (as node does): an unknown algorithm, not a TypeError.
    expect(await nameOf(s.importKey('spki', rsaSpki, 42 as never, true, []))).toBe('NotSupportedError');
    expect(await nameOf(s.importKey('spki', rsaSpki, {} as never, true, []))).toBe('TypeError');
    const key = await s.importKey('pkcs8', rsaPkcs8, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign']);
    expect(await nameOf(s.sign({ name: 'RSA-PSS' }, key, new Uint8Array(1)))).toBe('TypeError'); // no saltLength
  });

  it('wrong usages are SyntaxError', async () => {
    const s = accel.subtle;
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    expect(await nameOf(s.importKey('spki', rsaSpki, alg, true, ['sign']))).toBe('SyntaxError');
    expect(await nameOf(s.importKey('pkcs8', rsaPkcs8, alg, true, []))).toBe('SyntaxError');
    expect(await nameOf(s.importKey('pkcs8', rsaPkcs8, alg, true, ['encrypt']))).toBe('SyntaxError');
    expect(await nameOf(s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['sign']))).toBe(
      'SyntaxError',
    );
    expect(await nameOf(s.generateKey('Ed25519', true, ['verify']))).toBe('SyntaxError');
  });

  it('malformed key data is DataError', async () => {
    const s = accel.subtle;
    const alg = { name: 'RSA-OAEP', hash: 'SHA-256' };
    expect(await nameOf(s.importKey('spki', rsaSpki.subarray(0, 50), alg, true, []))).toBe('DataError');
    expect(await nameOf(s.importKey('pkcs8', rsaSpki, alg, true, ['decrypt']))).toBe('DataError');
    expect(await nameOf(s.importKey('jwk', { kty: 'RSA', e: 'AQAB' }, alg, true, []))).toBe('DataError');
    expect(await nameOf(s.importKey('jwk', { kty: 'RSA', n: '!!', e: 'AQAB' }, alg, true, []))).toBe(
      'DataError',
    );
    const ec = { name: 'ECDSA', namedCurve: 'P-256' };
    const raw = new Uint8Array(p256Spki.subarray(-65));
    raw[64] = raw[64]! ^ 1; // off the curve
    expect(await nameOf(s.importKey('raw', raw, ec, true, ['verify']))).toBe('DataError');
    expect(await nameOf(s.importKey('raw', raw.subarray(0, 33), ec, true, ['verify']))).toBe('DataError');
    const p384Spki = p384.publicKey.export({ format: 'der', type: 'spki' });
    expect(await nameOf(s.importKey('spki', p384Spki, ec, true, ['verify']))).toBe('DataError');
    expect(await nameOf(s.importKey('spki', rsaSpki, ec, true, ['verify']))).toBe('DataError');
    expect(await nameOf(s.importKey('raw', new Uint8Array(31), 'X25519', true, []))).toBe('DataError');
  });

  it('a key of the wrong algorithm, type or usage is InvalidAccessError', async () => {
    const s = accel.subtle;
    const pss = await s.importKey('pkcs8', rsaPkcs8, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign']);
    const pub = await s.importKey('spki', rsaSpki, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['verify']);
    const msg = new Uint8Array(8);
    expect(await nameOf(s.sign({ name: 'RSASSA-PKCS1-v1_5' }, pss, msg))).toBe('InvalidAccessError');
    expect(await nameOf(s.sign({ name: 'RSA-PSS', saltLength: 32 }, pub, msg))).toBe('InvalidAccessError');
    expect(await nameOf(s.verify({ name: 'RSA-PSS', saltLength: 32 }, pss, msg, msg))).toBe(
      'InvalidAccessError',
    );
    const node = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
    expect(await nameOf(s.sign({ name: 'ECDSA', hash: 'SHA-256' }, node.privateKey, msg))).toBe(
      'InvalidAccessError',
    );
    // ECDH with a peer on another curve, or a private key as the peer.
    const a = (await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])) as Pair;
    const b = (await s.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, false, ['deriveBits'])) as Pair;
    expect(await nameOf(s.deriveBits({ name: 'ECDH', public: b.publicKey }, a.privateKey, 256))).toBe(
      'InvalidAccessError',
    );
    expect(await nameOf(s.deriveBits({ name: 'ECDH', public: a.privateKey }, a.privateKey, 256))).toBe(
      'InvalidAccessError',
    );
  });

  it('bad operation input is OperationError, and nothing crashes', async () => {
    const s = accel.subtle;
    const oaep = { name: 'RSA-OAEP', hash: 'SHA-256' };
    const priv = await s.importKey('pkcs8', rsaPkcs8, oaep, false, ['decrypt']);
    const pub = await s.importKey('spki', rsaSpki, oaep, false, ['encrypt']);
    expect(await nameOf(s.decrypt(oaep, priv, new Uint8Array(256)))).toBe('OperationError'); // not OAEP
    expect(await nameOf(s.decrypt(oaep, priv, new Uint8Array(256).fill(0xff)))).toBe('OperationError'); // >= n
    expect(await nameOf(s.decrypt(oaep, priv, new Uint8Array(10)))).toBe('OperationError'); // wrong size
    expect(await nameOf(s.encrypt(oaep, pub, new Uint8Array(256 - 2 * 32 - 1)))).toBe('OperationError'); // too long
    const raw = { name: 'RSA-RAW' };
    const rawPriv = await s.importKey('pkcs8', rsaPkcs8, raw, false, ['decrypt']);
    expect(await nameOf(s.decrypt(raw, rawPriv, new Uint8Array(256).fill(0xff)))).toBe('OperationError');
    const ecdh = (await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])) as Pair;
    expect(await nameOf(s.deriveBits({ name: 'ECDH', public: ecdh.publicKey }, ecdh.privateKey, 512))).toBe(
      'OperationError',
    );
    // X25519 with a small-order peer point: an all-zero secret is refused.
    const x = (await s.generateKey('X25519', false, ['deriveBits'])) as Pair;
    const zero = await s.importKey('raw', new Uint8Array(32), 'X25519', true, []);
    expect(await nameOf(s.deriveBits({ name: 'X25519', public: zero }, x.privateKey, 256))).toBe(
      'OperationError',
    );
    // A malformed signature verifies false rather than throwing.
    const ecdsa = (await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as Pair;
    expect(
      await s.verify(
        { name: 'ECDSA', hash: 'SHA-256' },
        ecdsa.publicKey,
        new Uint8Array(3),
        new Uint8Array(1),
      ),
    ).toBe(false);
    expect(
      await s.verify(
        { name: 'ECDSA', hash: 'SHA-256', format: 'der' },
        ecdsa.publicKey,
        new Uint8Array(64),
        new Uint8Array(1),
      ),
    ).toBe(false);
  });

  it('keeps the PkaccelError as cause', async () => {
    const s = accel.subtle;
    const oaep = { name: 'RSA-OAEP', hash: 'SHA-256' };
    const priv = await s.importKey('pkcs8', rsaPkcs8, oaep, false, ['decrypt']);
    const error = await failure(s.decrypt(oaep, priv, new Uint8Array(256)));
    expect(error).toBeInstanceOf(DOMException);
    expect((error.cause as { code?: string }).code).toBe('invalid-input');
  });

  it('honours an AbortSignal', async () => {
    // Its own accelerator: the aborted 4096-bit keygen keeps a software worker busy for seconds.
    const own = await openAccelerator({ devices: ['software'] });
    const s = own.subtle;
    const aborted = AbortSignal.abort();
    expect(await nameOf(s.digest('SHA-256', new Uint8Array(1), { signal: aborted }))).toBe('AbortError');
    expect(await nameOf(s.generateKey('Ed25519', false, ['sign'], { signal: aborted }))).toBe('AbortError');
    const controller = new AbortController();
    const pending = s.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 4096,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      false,
      ['sign'],
      { signal: controller.signal },
    );
    controller.abort();
    expect(await nameOf(pending)).toBe('AbortError');
    await own.close();
  });
});

describe('pass-through and mixed key worlds', () => {
  it('digest, AES and HMAC pass through to node', async () => {
    const s = accel.subtle;
    const data = new TextEncoder().encode('hello');
    expect(Buffer.from(await s.digest('SHA-384', data))).toEqual(
      Buffer.from(await webcrypto.subtle.digest('SHA-384', data)),
    );
    const aes = (await s.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ])) as CryptoKeyLike;
    const iv = accel.crypto.getRandomValues(new Uint8Array(12));
    const ct = await s.encrypt({ name: 'AES-GCM', iv }, aes, data);
    expect(new TextDecoder().decode(await s.decrypt({ name: 'AES-GCM', iv }, aes, ct))).toBe('hello');
    expect(accel.crypto.randomUUID()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('deriveKey: ECDH and X25519 into AES-GCM agree on both sides', async () => {
    const s = accel.subtle;
    for (const alg of [{ name: 'ECDH', namedCurve: 'P-384' }, { name: 'X25519' }]) {
      const a = (await s.generateKey(alg, false, ['deriveKey'])) as Pair;
      const b = (await s.generateKey(alg, false, ['deriveKey'])) as Pair;
      const aes = { name: 'AES-GCM', length: 256 };
      const ka = await s.deriveKey({ name: alg.name, public: b.publicKey }, a.privateKey, aes, true, [
        'encrypt',
      ]);
      const kb = await s.deriveKey({ name: alg.name, public: a.publicKey }, b.privateKey, aes, true, [
        'decrypt',
      ]);
      expect(Buffer.from((await s.exportKey('raw', ka)) as ArrayBuffer)).toEqual(
        Buffer.from((await s.exportKey('raw', kb)) as ArrayBuffer),
      );
      const iv = new Uint8Array(12);
      const ct = await s.encrypt({ name: 'AES-GCM', iv }, ka, new Uint8Array([7]));
      expect(new Uint8Array(await s.decrypt({ name: 'AES-GCM', iv }, kb, ct))).toEqual(new Uint8Array([7]));
    }
  });

  it('ECDH accepts a peer public key from node webcrypto', async () => {
    const s = accel.subtle;
    const ours = (await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as Pair;
    const theirs = await webcrypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, [
      'deriveBits',
    ]);
    const mine = await s.deriveBits({ name: 'ECDH', public: theirs.publicKey }, ours.privateKey, 256);
    const ourPublic = await webcrypto.subtle.importKey(
      'spki',
      (await s.exportKey('spki', ours.publicKey)) as ArrayBuffer,
      { name: 'ECDH', namedCurve: 'P-256' },
      true,
      [],
    );
    const theirsBits = await webcrypto.subtle.deriveBits(
      { name: 'ECDH', public: ourPublic },
      theirs.privateKey,
      256,
    );
    expect(Buffer.from(mine)).toEqual(Buffer.from(theirsBits));
  });

  it('wrapKey/unwrapKey: an AES key under RSA-OAEP, and an EC private key under AES-KW', async () => {
    const s = accel.subtle;
    const oaep = { name: 'RSA-OAEP', hash: 'SHA-256' };
    const wrapPub = await s.importKey('spki', rsaSpki, oaep, false, ['wrapKey']);
    const wrapPriv = await s.importKey('pkcs8', rsaPkcs8, oaep, false, ['unwrapKey']);
    const aes = await webcrypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, true, [
      'encrypt',
      'decrypt',
    ]);
    const wrapped = await s.wrapKey('raw', aes, wrapPub, oaep);
    const back = await s.unwrapKey('raw', wrapped, wrapPriv, oaep, { name: 'AES-GCM' }, true, ['encrypt']);
    expect(Buffer.from((await s.exportKey('raw', back)) as ArrayBuffer)).toEqual(
      Buffer.from(await webcrypto.subtle.exportKey('raw', aes)),
    );
    // A key with only the wrap usages cannot be used to encrypt.
    expect(await nameOf(s.encrypt(oaep, wrapPub, new Uint8Array(1)))).toBe('InvalidAccessError');

    const kek = await webcrypto.subtle.generateKey({ name: 'AES-KW', length: 256 }, false, [
      'wrapKey',
      'unwrapKey',
    ]);
    const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' };
    const signer = await s.importKey('pkcs8', p256Pkcs8, ecdsa, true, ['sign']);
    const wrappedJwk = await s.wrapKey('jwk', signer, kek, 'AES-KW');
    const unwrapped = await s.unwrapKey('jwk', wrappedJwk, kek, 'AES-KW', ecdsa, false, ['sign']);
    expect(unwrapped).toMatchObject({ type: 'private', extractable: false, usages: ['sign'] });
    const msg = new Uint8Array([1, 2, 3]);
    const sig = await s.sign({ name: 'ECDSA', hash: 'SHA-256' }, unwrapped, msg);
    const verifier = await s.importKey('spki', p256Spki, ecdsa, true, ['verify']);
    expect(await s.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifier, sig, msg)).toBe(true);
    // Tampered wrapped data does not unwrap.
    const bad = new Uint8Array(wrappedJwk);
    bad[5] = bad[5]! ^ 1;
    expect(await nameOf(s.unwrapKey('jwk', bad, kek, 'AES-KW', ecdsa, false, ['sign']))).toBe(
      'OperationError',
    );
  });
});

describe('extensions', () => {
  it('ECDSA DER signatures are what OpenSSL produces by default', async () => {
    const s = accel.subtle;
    const alg = { name: 'ECDSA', namedCurve: 'P-256' };
    const key = await s.importKey('pkcs8', p256Pkcs8, alg, false, ['sign']);
    const msg = new Uint8Array([9]);
    const der = await s.sign({ name: 'ECDSA', hash: 'SHA-256', format: 'der' }, key, msg);
    const { verify } = await import('node:crypto');
    expect(verify('sha256', msg, p256.publicKey, Buffer.from(der))).toBe(true);
    expect(new Uint8Array(der)[0]).toBe(0x30);
  });

  it('RSA-RAW is modular exponentiation with the key it was imported for', async () => {
    const s = accel.subtle;
    const pub = await s.importKey('spki', rsaSpki, 'RSA-RAW', true, ['encrypt']);
    const priv = await s.importKey('pkcs8', rsaPkcs8, 'RSA-RAW', false, ['decrypt']);
    const m = new Uint8Array(256);
    m[255] = 2;
    const c = new Uint8Array(await s.encrypt('RSA-RAW', pub, m));
    const n = BigInt(
      `0x${Buffer.from(rsa.publicKey.export({ format: 'jwk' }).n!, 'base64url').toString('hex')}`,
    );
    expect(BigInt(`0x${Buffer.from(c).toString('hex')}`)).toBe(2n ** 65537n % n);
    expect(new Uint8Array(await s.decrypt('RSA-RAW', priv, c))).toEqual(m);
    expect(pub.algorithm).toMatchObject({ name: 'RSA-RAW', modulusLength: 2048 });
    const oaepKey = await s.importKey('spki', rsaSpki, { name: 'RSA-OAEP', hash: 'SHA-1' }, true, [
      'encrypt',
    ]);
    expect(await nameOf(s.encrypt('RSA-RAW', oaepKey, m))).toBe('InvalidAccessError');
  });
});
