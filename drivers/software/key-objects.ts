/**
 * Key material → OpenSSL key objects, built once per key and cached on the
 * material object's identity (a WeakMap, so the cache dies with the key). The
 * same module runs on the calling thread and in every pool worker; each thread
 * has its own cache. Failures are InvalidKeyErrors that name the kind of key,
 * never its numbers.
 */

import { createECDH, createPrivateKey, createPublicKey, type ECDH, type KeyObject } from 'node:crypto';
import {
  bigintToBytes,
  byteLength,
  EC_FIELD_BYTES,
  type EcCurveName,
  type EcPrivateKeyMaterial,
  type EcPublicKeyMaterial,
  InvalidKeyError,
  type OkpPrivateKeyMaterial,
  type OkpPublicKeyMaterial,
  type RsaPrivateKeyMaterial,
  type RsaPublicKeyMaterial,
} from '../../core/driver/index.js';
import { rsaPrivateKeyDer } from './der.js';

export const OPENSSL_CURVE: Readonly<Record<EcCurveName, string>> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
};

type AnyMaterial =
  | RsaPublicKeyMaterial
  | RsaPrivateKeyMaterial
  | EcPublicKeyMaterial
  | EcPrivateKeyMaterial
  | OkpPublicKeyMaterial
  | OkpPrivateKeyMaterial;

interface Entry {
  key?: KeyObject;
  ecdh?: ECDH;
}

const cache = new WeakMap<object, Entry>();

function entryOf(material: object): Entry {
  let entry = cache.get(material);
  if (entry === undefined) {
    entry = {};
    cache.set(material, entry);
  }
  return entry;
}

function b64(value: bigint, length = byteLength(value)): string {
  return Buffer.from(bigintToBytes(value, length)).toString('base64url');
}

function build(material: AnyMaterial): KeyObject {
  try {
    switch (material.kind) {
      case 'rsa-public':
        return createPublicKey({
          key: { kty: 'RSA', n: b64(material.n), e: b64(material.e) },
          format: 'jwk',
        });
      case 'rsa-private':
        if (material.otherPrimes.length > 0) {
          return createPrivateKey({
            key: Buffer.from(rsaPrivateKeyDer(material)),
            format: 'der',
            type: 'pkcs1',
          });
        }
        return createPrivateKey({
          key: {
            kty: 'RSA',
            n: b64(material.n),
            e: b64(material.e),
            d: b64(material.d),
            p: b64(material.p),
            q: b64(material.q),
            dp: b64(material.dp),
            dq: b64(material.dq),
            qi: b64(material.qi),
          },
          format: 'jwk',
        });
      case 'ec-public': {
        const len = EC_FIELD_BYTES[material.curve];
        return createPublicKey({
          key: { kty: 'EC', crv: material.curve, x: b64(material.x, len), y: b64(material.y, len) },
          format: 'jwk',
        });
      }
      case 'ec-private': {
        const len = EC_FIELD_BYTES[material.curve];
        const pub = material.publicKey;
        return createPrivateKey({
          key: {
            kty: 'EC',
            crv: material.curve,
            x: b64(pub.x, len),
            y: b64(pub.y, len),
            d: b64(material.d, len),
          },
          format: 'jwk',
        });
      }
      case 'okp-public':
        return createPublicKey({
          key: { kty: 'OKP', crv: material.curve, x: Buffer.from(material.x).toString('base64url') },
          format: 'jwk',
        });
      case 'okp-private':
        return createPrivateKey({
          key: {
            kty: 'OKP',
            crv: material.curve,
            x: Buffer.from(material.publicKey.x).toString('base64url'),
            d: Buffer.from(material.d).toString('base64url'),
          },
          format: 'jwk',
        });
    }
  } catch (cause) {
    throw new InvalidKeyError(`the ${describe(material)} key material is not a key OpenSSL accepts`, {
      cause,
    });
  }
}

function describe(material: AnyMaterial): string {
  switch (material.kind) {
    case 'rsa-public':
    case 'rsa-private':
      return `${material.kind} (${material.n.toString(2).length}-bit)`;
    case 'ec-public':
    case 'ec-private':
    case 'okp-public':
    case 'okp-private':
      return `${material.kind} ${material.curve}`;
  }
}

/** The OpenSSL key object for `material`, built on first use. */
export function keyObjectOf(material: AnyMaterial): KeyObject {
  const entry = entryOf(material);
  entry.key ??= build(material);
  return entry.key;
}

/** An ECDH context holding this private key, for key agreement (cheaper than a KeyObject pair per call). */
export function ecdhOf(material: EcPrivateKeyMaterial): ECDH {
  const entry = entryOf(material);
  if (entry.ecdh === undefined) {
    const ecdh = createECDH(OPENSSL_CURVE[material.curve]);
    try {
      ecdh.setPrivateKey(bigintToBytes(material.d, EC_FIELD_BYTES[material.curve]));
    } catch (cause) {
      throw new InvalidKeyError(`the ${describe(material)} private scalar is out of range for the curve`, {
        cause,
      });
    }
    entry.ecdh = ecdh;
  }
  return entry.ecdh;
}
