/**
 * Key generation through node:crypto's asynchronous generateKeyPair (it runs on
 * libuv's thread pool, so a 4096-bit RSA key never blocks the event loop or a
 * pool worker), exported as JWK and turned into key material.
 */

import { generateKeyPair, type JsonWebKey, type KeyObject } from 'node:crypto';
import {
  bytesToBigint,
  EcPrivateKeyMaterial,
  InvalidInputError,
  type KeygenSpec,
  type KeyPairMaterial,
  OkpPrivateKeyMaterial,
  RSA_MODULUS_BITS,
  RsaPrivateKeyMaterial,
} from '../../core/driver/index.js';
import { OPENSSL_CURVE } from './key-objects.js';

function generate(spec: KeygenSpec): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: KeyObject, privateKey: KeyObject) =>
      error ? reject(error) : resolve(privateKey);
    if (spec.kind === 'rsa') {
      generateKeyPair('rsa', { modulusLength: spec.bits, publicExponent: Number(spec.publicExponent) }, done);
    } else if (spec.kind === 'ec') {
      generateKeyPair('ec', { namedCurve: OPENSSL_CURVE[spec.curve] }, done);
    } else if (spec.curve === 'Ed25519') {
      generateKeyPair('ed25519', {}, done);
    } else {
      generateKeyPair('x25519', {}, done);
    }
  });
}

function field(jwk: JsonWebKey, name: string): Uint8Array {
  const value = jwk[name];
  if (typeof value !== 'string') throw new Error(`generated JWK lacks "${name}"`);
  return Buffer.from(value, 'base64url');
}

function int(jwk: JsonWebKey, name: string): bigint {
  return bytesToBigint(field(jwk, name));
}

function checkSpec(spec: KeygenSpec): void {
  if (spec.kind !== 'rsa') return;
  const e = spec.publicExponent;
  if (e < 3n || e % 2n === 0n || e > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidInputError('keygen: the RSA public exponent must be odd, at least 3 and below 2^53');
  }
  const { min, max } = RSA_MODULUS_BITS;
  if (!Number.isInteger(spec.bits) || spec.bits < min || spec.bits > max) {
    throw new InvalidInputError(`keygen: ${spec.bits}-bit RSA keys are outside ${min}–${max}`);
  }
}

export async function generateKeyMaterial(spec: KeygenSpec): Promise<KeyPairMaterial> {
  checkSpec(spec);
  const privateKey = await generate(spec);
  const jwk = privateKey.export({ format: 'jwk' });
  if (spec.kind === 'rsa') {
    const key = new RsaPrivateKeyMaterial(
      int(jwk, 'n'),
      int(jwk, 'e'),
      int(jwk, 'd'),
      int(jwk, 'p'),
      int(jwk, 'q'),
      int(jwk, 'dp'),
      int(jwk, 'dq'),
      int(jwk, 'qi'),
    );
    return { kind: 'rsa', privateKey: key };
  }
  if (spec.kind === 'ec') {
    const publicKey = { kind: 'ec-public', curve: spec.curve, x: int(jwk, 'x'), y: int(jwk, 'y') } as const;
    return { kind: 'ec', privateKey: new EcPrivateKeyMaterial(spec.curve, int(jwk, 'd'), publicKey) };
  }
  const publicKey = { kind: 'okp-public', curve: spec.curve, x: field(jwk, 'x') } as const;
  return { kind: 'okp', privateKey: new OkpPrivateKeyMaterial(spec.curve, field(jwk, 'd'), publicKey) };
}
