/**
 * Bad keys and bad inputs give typed errors (on the calling thread and across
 * the worker boundary alike), verification failures are `false`, and no error
 * message carries key material.
 */

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Completion,
  EcPrivateKeyMaterial,
  InvalidInputError,
  InvalidKeyError,
  OkpPrivateKeyMaterial,
  type PkaccelError,
  type PrimitiveRequest,
  UnsupportedError,
} from '../../../core/driver/index.js';
import { ecKey, okpKey, rsaKey, runAll, useSoftwareDevice } from './helpers.js';

const rsa = rsaKey(1024);
const ec = ecKey('P-256');
const ed = okpKey('Ed25519');
const x = okpKey('X25519');

/** Every way a secret of these keys could be spelled in a message. */
const secrets: string[] = [];
for (const v of [rsa.material.d, rsa.material.p, rsa.material.q, rsa.material.dp, ec.material.d]) {
  secrets.push(
    v.toString(10),
    v.toString(16),
    Buffer.from(v.toString(16).padStart(2, '0'), 'hex').toString('base64url'),
  );
}
for (const v of [ed.material.d, x.material.d]) {
  secrets.push(Buffer.from(v).toString('hex'), Buffer.from(v).toString('base64url'));
}

function errorOf(c: Completion): PkaccelError {
  if (c.ok) throw new Error(`tag ${c.tag} succeeded, expected an error`);
  return c.error;
}

function expectNoSecrets(error: unknown): void {
  let e: unknown = error;
  while (e instanceof Error) {
    const text = `${e.message} ${e.stack ?? ''} ${JSON.stringify(e)}`;
    for (const s of secrets) expect(text.includes(s), 'secret in an error').toBe(false);
    e = e.cause;
  }
}

/** A P-256 private key whose public point is not on the curve. */
const offCurve = new EcPrivateKeyMaterial('P-256', ec.material.d, {
  kind: 'ec-public',
  curve: 'P-256',
  x: ec.material.publicKey.x,
  y: ec.material.publicKey.y ^ 1n,
});

const bad: [string, PrimitiveRequest, new (...args: never[]) => PkaccelError][] = [
  [
    'raw RSA input of the wrong length',
    { op: 'rsa-public', key: rsa.material.publicKey, input: randomBytes(5) },
    InvalidInputError,
  ],
  [
    'raw RSA input not below the modulus',
    { op: 'rsa-private', key: rsa.material, input: new Uint8Array(128).fill(0xff) },
    InvalidInputError,
  ],
  [
    'a digest of the wrong length',
    {
      op: 'rsa-sign',
      key: rsa.material,
      padding: { scheme: 'pkcs1-v1_5', hash: 'SHA-256' },
      digest: randomBytes(20),
    },
    InvalidInputError,
  ],
  [
    'a PSS salt that does not fit',
    {
      op: 'rsa-sign',
      key: rsa.material,
      padding: { scheme: 'pss', hash: 'SHA-512', mgfHash: 'SHA-512', saltLength: 100 },
      digest: randomBytes(64),
    },
    InvalidInputError,
  ],
  [
    'an over-long OAEP message',
    {
      op: 'rsa-encrypt',
      key: rsa.material.publicKey,
      padding: { scheme: 'oaep', hash: 'SHA-256', mgfHash: 'SHA-256', label: new Uint8Array() },
      input: randomBytes(100),
    },
    InvalidInputError,
  ],
  [
    'an OAEP ciphertext that does not decrypt',
    {
      op: 'rsa-decrypt',
      key: rsa.material,
      padding: { scheme: 'oaep', hash: 'SHA-1', mgfHash: 'SHA-1', label: new Uint8Array() },
      input: Uint8Array.from({ length: 128 }, (_, i) => (i === 0 ? 0 : i)),
    },
    InvalidInputError,
  ],
  [
    'OAEP with a different MGF1 hash',
    {
      op: 'rsa-encrypt',
      key: rsa.material.publicKey,
      padding: { scheme: 'oaep', hash: 'SHA-256', mgfHash: 'SHA-1', label: new Uint8Array() },
      input: randomBytes(10),
    },
    UnsupportedError,
  ],
  [
    'an EC key whose public point is off the curve',
    {
      op: 'ecdsa-sign',
      key: offCurve,
      digest: randomBytes(32),
      message: { hash: 'SHA-256', data: randomBytes(3) },
    },
    InvalidKeyError,
  ],
  [
    'an ECDH peer off the curve',
    { op: 'ecdh', key: ec.material, peer: offCurve.publicKey },
    InvalidInputError,
  ],
  [
    'an ECDH peer on another curve',
    { op: 'ecdh', key: ec.material, peer: ecKey('P-384').material.publicKey },
    InvalidInputError,
  ],
  ['an ec-mul scalar of zero', { op: 'ec-mul', curve: 'P-256', scalar: 0n }, InvalidInputError],
  [
    'an X25519 peer of the wrong length',
    { op: 'x25519', key: x.material, peer: randomBytes(31) },
    InvalidInputError,
  ],
  [
    'an X25519 low-order peer',
    { op: 'x25519', key: x.material, peer: new Uint8Array(32) },
    InvalidInputError,
  ],
  [
    'an Ed25519 key of the wrong length',
    {
      op: 'eddsa-sign',
      key: new OkpPrivateKeyMaterial('Ed25519', randomBytes(31), ed.material.publicKey),
      message: randomBytes(4),
    },
    InvalidKeyError,
  ],
];

describe.each([
  ['worker pool', 'software?inline=off&workers=1'],
  ['calling thread', 'software?workers=1'],
])('errors on the %s', (_name, spec) => {
  const software = useSoftwareDevice(spec);

  it.each(bad)('%s → typed error without key material', async (_what, request, type) => {
    const [c] = await runAll(software.qp, [request]);
    const error = errorOf(c!);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toContain(
      request.op === 'eddsa-sign' || request.op === 'ecdsa-sign' ? '' : request.op,
    );
    expectNoSecrets(error);
  });

  it('signatures that do not verify are false, never errors', async () => {
    const pkcs1 = { scheme: 'pkcs1-v1_5', hash: 'SHA-256' } as const;
    const pub = rsa.material.publicKey;
    const verdicts = await runAll(software.qp, [
      { op: 'rsa-verify', key: pub, padding: pkcs1, digest: randomBytes(32), signature: randomBytes(128) },
      {
        op: 'rsa-verify',
        key: pub,
        padding: pkcs1,
        digest: randomBytes(32),
        signature: new Uint8Array(128).fill(0xff),
      },
      {
        op: 'ecdsa-verify',
        key: ec.material.publicKey,
        digest: randomBytes(32),
        signature: new Uint8Array(64),
      },
      {
        op: 'ecdsa-verify',
        key: ec.material.publicKey,
        digest: randomBytes(32),
        signature: randomBytes(64),
        message: { hash: 'SHA-256', data: randomBytes(8) },
      },
      { op: 'eddsa-verify', key: ed.material.publicKey, message: randomBytes(8), signature: randomBytes(64) },
    ]);
    expect(verdicts.map((c) => c.ok && c.value)).toEqual([false, false, false, false, false]);
  });
});
