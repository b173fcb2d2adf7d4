/**
 * A minimal DER encoder for what the kernel's asymmetric-key parsers take:
 * PKCS#8 PrivateKeyInfo of an RSA key (the `pkcs8_key_parser` module) and an
 * X.509 certificate around a public key (the X.509 parser) — the kernel has no
 * parser for a bare SubjectPublicKeyInfo. The certificate is unsigned in effect:
 * its issuer differs from its subject, so the kernel does not check its
 * signature (it only checks self-signed certificates), and its one-byte signature
 * is never used. Only INTEGER, SEQUENCE, OID, NULL, BIT/OCTET STRING, UTF8String,
 * SET, UTCTime and an explicit [0] tag are needed.
 */

import {
  bigintToBytes,
  EC_FIELD_BYTES,
  type EcCurveName,
  InvalidKeyError,
  type PublicKeyMaterial,
  type RsaPrivateKeyMaterial,
  UnsupportedError,
} from '../../core/driver/index.js';
import {
  DER_NULL,
  derBitString,
  derElement,
  derOctetString,
  derOid,
  derUnsignedInteger,
  derSequence as sequence,
  TAG,
} from '../../core/encoding/der.js';

/** DER INTEGER of a key component (a negative one is an invalid key). */
function derInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new InvalidKeyError('a key component is negative');
  return derUnsignedInteger(value);
}

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const CURVE_OIDS: Readonly<Record<EcCurveName, string>> = {
  'P-256': '1.2.840.10045.3.1.7',
  'P-384': '1.3.132.0.34',
  'P-521': '1.3.132.0.35',
};

function name(commonName: string): Uint8Array {
  const cn = sequence(derOid('2.5.4.3'), derElement(TAG.utf8String, new TextEncoder().encode(commonName)));
  return sequence(derElement(TAG.set, cn));
}

function utcTime(text: string): Uint8Array {
  return derElement(TAG.utcTime, new TextEncoder().encode(text));
}

/** SubjectPublicKeyInfo of an RSA or EC public key. */
export function subjectPublicKeyInfo(key: PublicKeyMaterial): Uint8Array {
  if (key.kind === 'rsa-public')
    return sequence(
      sequence(derOid(RSA_ENCRYPTION), DER_NULL),
      derBitString(sequence(derInteger(key.n), derInteger(key.e))),
    );
  if (key.kind === 'ec-public') {
    const size = EC_FIELD_BYTES[key.curve];
    const point = new Uint8Array(1 + 2 * size);
    point[0] = 0x04;
    point.set(bigintToBytes(key.x, size), 1);
    point.set(bigintToBytes(key.y, size), 1 + size);
    return sequence(sequence(derOid(EC_PUBLIC_KEY), derOid(CURVE_OIDS[key.curve])), derBitString(point));
  }
  throw new UnsupportedError(`keyring: the kernel takes no ${key.kind} keys`);
}

/**
 * An X.509 v3 certificate carrying `key`, for add_key of type `asymmetric`.
 * Issuer ≠ subject, so the kernel does not verify the (placeholder) signature.
 */
export function publicKeyCertificate(key: PublicKeyMaterial, subject = 'pkaccel keyring'): Uint8Array {
  const algorithm = sequence(derOid(SHA256_WITH_RSA), DER_NULL);
  const tbs = sequence(
    derElement(0xa0, derInteger(2n)),
    derInteger(1n),
    algorithm,
    name('pkaccel'),
    sequence(utcTime('200101000000Z'), utcTime('491231235959Z')),
    name(subject),
    subjectPublicKeyInfo(key),
  );
  return sequence(tbs, algorithm, derBitString(Uint8Array.of(0)));
}

/**
 * PKCS#8 PrivateKeyInfo of a two-prime RSA key (the kernel's PKCS#8 parser takes
 * rsaEncryption only). The caller zeroes the result after add_key.
 */
export function rsaPkcs8(key: RsaPrivateKeyMaterial): Uint8Array {
  if (key.otherPrimes.length > 0)
    throw new UnsupportedError('keyring: the kernel takes two-prime RSA keys only');
  const parts = [0n, key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qi].map(derInteger);
  const inner = sequence(...parts);
  for (const p of parts) p.fill(0);
  const out = sequence(derInteger(0n), sequence(derOid(RSA_ENCRYPTION), DER_NULL), derOctetString(inner));
  inner.fill(0);
  return out;
}
