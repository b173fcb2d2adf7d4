/**
 * Every capability of the software provider, through the QueuePair contract
 * (submit / waitForCompletions / harvest), cross-checked with node:crypto — once
 * on the worker pool (inline=off) and once with lone jobs on the calling thread.
 */

import {
  constants,
  createECDH,
  createPublicKey,
  diffieHellman,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bigintToBytes,
  bytesToBigint,
  CURVES,
  type EcPoint,
  type HashName,
  type KeyPairMaterial,
  PRIMITIVE_OPS,
} from '../../../core/driver/index.js';
import { digest as digestOf } from '../../../core/encoding/digest.js';
import { NODE_HASH } from '../../../core/encoding/hashes.js';
import { modPow } from '../../../core/math/index.js';
import { SOFTWARE_CAPABILITIES } from '../../../drivers/software/index.js';
import {
  ecKey,
  okpKey,
  resultOf,
  rsaKey,
  runAll,
  runOne,
  threePrimeRsaKey,
  useSoftwareDevice,
} from './helpers.js';

const rsa = rsaKey(2048);
const rsaPub = rsa.material.publicKey;
const message = new TextEncoder().encode('pkaccel software provider');

it('advertises every primitive', () => {
  const ops = new Set(SOFTWARE_CAPABILITIES.map((c) => c.op));
  for (const op of PRIMITIVE_OPS) expect(ops.has(op), op).toBe(true);
});

describe.each([
  ['worker pool', 'software?inline=off&workers=2&pool=workers'],
  ['calling thread', 'software?workers=1'],
])('primitives on the %s', (_name, spec) => {
  const software = useSoftwareDevice(spec);

  it('rsa-public and rsa-private are raw RSA, inverse of each other, equal to OpenSSL and bigint', async () => {
    const input = randomBytes(256);
    input[0] = 0x01;
    const enc = resultOf(await runOne(software.qp, { op: 'rsa-public', key: rsaPub, input })) as Uint8Array;
    expect(Buffer.from(enc)).toEqual(
      publicEncrypt({ key: rsa.publicKey, padding: constants.RSA_NO_PADDING }, input),
    );
    const dec = resultOf(
      await runOne(software.qp, { op: 'rsa-private', key: rsa.material, input: enc }),
    ) as Uint8Array;
    expect(Buffer.from(dec)).toEqual(input);
  });

  it('rsa-private with a three-prime key', async () => {
    const key = threePrimeRsaKey();
    const input = bigintToBytes(123456789n, Math.ceil(key.bits / 8));
    const out = resultOf(await runOne(software.qp, { op: 'rsa-private', key, input })) as Uint8Array;
    expect(bytesToBigint(out)).toBe(modPow(123456789n, key.d, key.n));
  });

  it.each(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const)(
    'rsa-sign/verify PKCS#1 v1.5 with %s',
    async (hash) => {
      const digest = digestOf(hash, message);
      const padding = { scheme: 'pkcs1-v1_5', hash } as const;
      const signature = resultOf(
        await runOne(software.qp, { op: 'rsa-sign', key: rsa.material, padding, digest }),
      ) as Uint8Array;
      expect(verify(NODE_HASH[hash], message, rsa.publicKey, signature)).toBe(true);
      const theirs = sign(NODE_HASH[hash], message, rsa.privateKey);
      const [good, bad] = await runAll(software.qp, [
        { op: 'rsa-verify', key: rsaPub, padding, digest, signature: theirs },
        { op: 'rsa-verify', key: rsaPub, padding, digest: digestOf(hash, randomBytes(4)), signature: theirs },
      ]);
      expect(resultOf(good!)).toBe(true);
      expect(resultOf(bad!)).toBe(false);
    },
  );

  it.each([
    ['SHA-256', 32],
    ['SHA-384', 0],
    ['SHA-512', 20],
  ] as const)('rsa-sign/verify PSS with %s, salt %i', async (hash, saltLength) => {
    const digest = digestOf(hash, message);
    const padding = { scheme: 'pss', hash, mgfHash: hash, saltLength } as const;
    const signature = resultOf(
      await runOne(software.qp, { op: 'rsa-sign', key: rsa.material, padding, digest }),
    ) as Uint8Array;
    const pssKey = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength };
    expect(verify(NODE_HASH[hash], message, pssKey, signature)).toBe(true);
    const theirs = sign(NODE_HASH[hash], message, { ...pssKey, key: rsa.privateKey });
    const tampered = Uint8Array.from(theirs);
    tampered[10]! ^= 1;
    const [good, bad, short] = await runAll(software.qp, [
      { op: 'rsa-verify', key: rsaPub, padding, digest, signature: theirs },
      { op: 'rsa-verify', key: rsaPub, padding, digest, signature: tampered },
      { op: 'rsa-verify', key: rsaPub, padding, digest, signature: theirs.subarray(1) },
    ]);
    expect([resultOf(good!), resultOf(bad!), resultOf(short!)]).toEqual([true, false, false]);
  });

  it('rsa-encrypt/decrypt OAEP with a label, both directions against OpenSSL', async () => {
    const label = new TextEncoder().encode('label');
    const padding = { scheme: 'oaep', hash: 'SHA-256', mgfHash: 'SHA-256', label } as const;
    const plaintext = randomBytes(40);
    const ct = resultOf(
      await runOne(software.qp, { op: 'rsa-encrypt', key: rsaPub, padding, input: plaintext }),
    ) as Uint8Array;
    const nodeOptions = {
      key: rsa.privateKey,
      padding: constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: 'sha256',
      oaepLabel: label,
    };
    expect(privateDecrypt(nodeOptions, ct)).toEqual(plaintext);
    const theirs = publicEncrypt({ ...nodeOptions, key: rsa.publicKey }, plaintext);
    const pt = resultOf(
      await runOne(software.qp, { op: 'rsa-decrypt', key: rsa.material, padding, input: theirs }),
    );
    expect(Buffer.from(pt as Uint8Array)).toEqual(plaintext);
  });

  it.each(['P-256', 'P-384', 'P-521'] as const)(
    'ecdsa-sign/verify on %s, with and without the message',
    async (curve) => {
      const { material, privateKey, publicKey } = ecKey(curve);
      const hash: HashName = curve === 'P-256' ? 'SHA-256' : curve === 'P-384' ? 'SHA-384' : 'SHA-512';
      const digest = digestOf(hash, message);
      const withMessage = { hash, data: message };
      const [a, b] = await runAll(software.qp, [
        { op: 'ecdsa-sign', key: material, digest, message: withMessage },
        { op: 'ecdsa-sign', key: material, digest },
      ]);
      for (const c of [a!, b!]) {
        const signature = resultOf(c) as Uint8Array;
        expect(signature.length).toBe(2 * CURVES[curve].bytes);
        expect(
          verify(NODE_HASH[hash], message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature),
        ).toBe(true);
      }
      const theirs = sign(NODE_HASH[hash], message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const wrong = digestOf(hash, randomBytes(3));
      const pub = material.publicKey;
      const verdicts = await runAll(software.qp, [
        { op: 'ecdsa-verify', key: pub, digest, signature: theirs, message: withMessage },
        { op: 'ecdsa-verify', key: pub, digest, signature: theirs },
        { op: 'ecdsa-verify', key: pub, digest: wrong, signature: theirs },
        {
          op: 'ecdsa-verify',
          key: pub,
          digest: wrong,
          signature: theirs,
          message: { hash, data: randomBytes(3) },
        },
        { op: 'ecdsa-verify', key: pub, digest, signature: theirs.subarray(1) },
      ]);
      expect(verdicts.map(resultOf)).toEqual([true, true, false, false, false]);
    },
  );

  it('ecdsa over a digest longer than the order keeps its leftmost bits (P-256 with SHA-512)', async () => {
    const { material, publicKey } = ecKey('P-256');
    const digest = digestOf('SHA-512', message);
    const signature = resultOf(
      await runOne(software.qp, { op: 'ecdsa-sign', key: material, digest }),
    ) as Uint8Array;
    expect(verify('sha512', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  });

  it.each(['P-256', 'P-384', 'P-521'] as const)('ecdh and ec-mul on %s agree with OpenSSL', async (curve) => {
    const a = ecKey(curve);
    const b = ecKey(curve);
    const [shared, kG, kP] = await runAll(software.qp, [
      { op: 'ecdh', key: a.material, peer: b.material.publicKey },
      { op: 'ec-mul', curve, scalar: a.material },
      { op: 'ec-mul', curve, scalar: a.material.d, point: b.material.publicKey },
    ]);
    const expected = diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey });
    expect(Buffer.from(resultOf(shared!) as Uint8Array)).toEqual(expected);
    const pub = a.material.publicKey;
    expect(resultOf(kG!)).toEqual({ x: pub.x, y: pub.y });
    expect(bigintToBytes((resultOf(kP!) as EcPoint).x, CURVES[curve].bytes)).toEqual(
      new Uint8Array(expected),
    );
  });

  it('ec-mul with a bare scalar matches createECDH', async () => {
    const k = bytesToBigint(randomBytes(32)) % CURVES['P-256'].n;
    const point = resultOf(await runOne(software.qp, { op: 'ec-mul', curve: 'P-256', scalar: k })) as EcPoint;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(bigintToBytes(k, 32));
    const pub = ecdh.getPublicKey();
    expect(point).toEqual({ x: bytesToBigint(pub.subarray(1, 33)), y: bytesToBigint(pub.subarray(33)) });
  });

  it('eddsa-sign/verify (Ed25519) and x25519 agree with OpenSSL', async () => {
    const ed = okpKey('Ed25519');
    const x1 = okpKey('X25519');
    const x2 = okpKey('X25519');
    const [sig, secret] = await runAll(software.qp, [
      { op: 'eddsa-sign', key: ed.material, message },
      { op: 'x25519', key: x1.material, peer: x2.material.publicKey.x },
    ]);
    const signature = resultOf(sig!) as Uint8Array;
    expect(verify(null, message, ed.publicKey, signature)).toBe(true);
    expect(Buffer.from(resultOf(secret!) as Uint8Array)).toEqual(
      diffieHellman({ privateKey: x1.privateKey, publicKey: x2.publicKey }),
    );
    const pub = ed.material.publicKey;
    const verdicts = await runAll(software.qp, [
      { op: 'eddsa-verify', key: pub, message, signature },
      { op: 'eddsa-verify', key: pub, message: randomBytes(5), signature },
      { op: 'eddsa-verify', key: pub, message, signature: signature.subarray(1) },
    ]);
    expect(verdicts.map(resultOf)).toEqual([true, false, false]);
  });

  it('keygen makes keys of every kind that OpenSSL accepts', async () => {
    const generated = await runAll(software.qp, [
      { op: 'keygen', spec: { kind: 'rsa', bits: 1024, publicExponent: 65537n } },
      { op: 'keygen', spec: { kind: 'ec', curve: 'P-384' } },
      { op: 'keygen', spec: { kind: 'okp', curve: 'Ed25519' } },
      { op: 'keygen', spec: { kind: 'okp', curve: 'X25519' } },
    ]);
    const [r, e, ed, x] = generated.map((c) => resultOf(c) as KeyPairMaterial);
    expect(r!.kind === 'rsa' && r!.privateKey.bits).toBe(1024);
    expect(e!.kind === 'ec' && e!.privateKey.curve).toBe('P-384');
    expect(x!.kind === 'okp' && x!.privateKey.curve).toBe('X25519');
    // The generated keys work: sign with them here, verify with OpenSSL.
    if (ed!.kind !== 'okp' || e!.kind !== 'ec') throw new Error('wrong kinds');
    const edSig = resultOf(
      await runOne(software.qp, { op: 'eddsa-sign', key: ed!.privateKey, message }),
    ) as Uint8Array;
    const edPub = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(ed!.privateKey.publicKey.x).toString('base64url') },
      format: 'jwk',
    });
    expect(verify(null, message, edPub, edSig)).toBe(true);
    const ecPoint = resultOf(
      await runOne(software.qp, { op: 'ec-mul', curve: 'P-384', scalar: e!.privateKey }),
    ) as EcPoint;
    expect(ecPoint).toEqual({ x: e!.privateKey.publicKey.x, y: e!.privateKey.publicKey.y });
  });
});
