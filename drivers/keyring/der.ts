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
  byteLength,
  EC_FIELD_BYTES,
  type EcCurveName,
  InvalidKeyError,
  type PublicKeyMaterial,
  type RsaPrivateKeyMaterial,
  UnsupportedError,
} from '../../core/driver/index.js';

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

function tlv(tag: number, parts: readonly Uint8Array[]): Uint8Array {
  const bodyLength = parts.reduce((sum, p) => sum + p.length, 0);
  const head = lengthBytes(bodyLength);
  const out = new Uint8Array(1 + head.length + bodyLength);
  out[0] = tag;
  out.set(head, 1);
  let at = 1 + head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const sequence = (...parts: Uint8Array[]) => tlv(0x30, parts);

/** DER INTEGER of a non-negative bigint (minimal, 0x00 lead when the top bit is set). */
export function derInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new InvalidKeyError('a key component is negative');
  const length = Math.max(1, byteLength(value));
  const body = bigintToBytes(value, length);
  const lead = (body[0]! & 0x80) !== 0 ? Uint8Array.of(0) : new Uint8Array(0);
  const out = tlv(0x02, [lead, body]);
  body.fill(0);
  return out;
}

function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => Number(a));
  const bytes: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    bytes.push(...groups);
  }
  return tlv(0x06, [Uint8Array.from(bytes)]);
}

const NULL = Uint8Array.of(0x05, 0x00);
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const CURVE_OIDS: Readonly<Record<EcCurveName, string>> = {
  'P-256': '1.2.840.10045.3.1.7',
  'P-384': '1.3.132.0.34',
  'P-521': '1.3.132.0.35',
};

const bitString = (body: Uint8Array) => tlv(0x03, [Uint8Array.of(0), body]);
const octetString = (body: Uint8Array) => tlv(0x04, [body]);

function name(commonName: string): Uint8Array {
  const cn = sequence(oid('2.5.4.3'), tlv(0x0c, [new TextEncoder().encode(commonName)]));
  return sequence(tlv(0x31, [cn]));
}

function utcTime(text: string): Uint8Array {
  return tlv(0x17, [new TextEncoder().encode(text)]);
}

/** SubjectPublicKeyInfo of an RSA or EC public key. */
export function subjectPublicKeyInfo(key: PublicKeyMaterial): Uint8Array {
  if (key.kind === 'rsa-public')
    return sequence(
      sequence(oid(RSA_ENCRYPTION), NULL),
      bitString(sequence(derInteger(key.n), derInteger(key.e))),
    );
  if (key.kind === 'ec-public') {
    const size = EC_FIELD_BYTES[key.curve];
    const point = new Uint8Array(1 + 2 * size);
    point[0] = 0x04;
    point.set(bigintToBytes(key.x, size), 1);
    point.set(bigintToBytes(key.y, size), 1 + size);
    return sequence(sequence(oid(EC_PUBLIC_KEY), oid(CURVE_OIDS[key.curve])), bitString(point));
  }
  throw new UnsupportedError(`keyring: the kernel takes no ${key.kind} keys`);
}

/**
 * An X.509 v3 certificate carrying `key`, for add_key of type `asymmetric`.
 * Issuer ≠ subject, so the kernel does not verify the (placeholder) signature.
 */
export function publicKeyCertificate(key: PublicKeyMaterial, subject = 'pkaccel keyring'): Uint8Array {
  const algorithm = sequence(oid(SHA256_WITH_RSA), NULL);
  const tbs = sequence(
    tlv(0xa0, [derInteger(2n)]),
    derInteger(1n),
    algorithm,
    name('pkaccel'),
    sequence(utcTime('200101000000Z'), utcTime('491231235959Z')),
    name(subject),
    subjectPublicKeyInfo(key),
  );
  return sequence(tbs, algorithm, bitString(Uint8Array.of(0)));
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
  const out = sequence(derInteger(0n), sequence(oid(RSA_ENCRYPTION), NULL), octetString(inner));
  inner.fill(0);
  return out;
}
