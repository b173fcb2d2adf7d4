/**
 * A minimal DER encoder for the PKCS#1 key structures the device takes as its
 * session key (RFC 8017 A.1): RSAPublicKey {n, e} and RSAPrivateKey {version 0,
 * n, e, d, p, q, dp, dq, qinv}. Only what those two need: INTEGER and SEQUENCE.
 */

import type { RsaPrivateKeyMaterial, RsaPublicKeyMaterial } from '../../core/driver/index.js';
import { InvalidKeyError } from '../../core/driver/index.js';

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** DER INTEGER of a non-negative bigint: minimal big-endian, with a 0x00 lead when the top bit is set. */
export function derInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new InvalidKeyError('an RSA key component is negative');
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const body: number[] = [];
  for (let i = 0; i < hex.length; i += 2) body.push(Number.parseInt(hex.slice(i, i + 2), 16));
  if ((body[0] ?? 0) & 0x80) body.unshift(0);
  return Uint8Array.from([0x02, ...lengthBytes(body.length), ...body]);
}

export function derSequence(parts: readonly Uint8Array[]): Uint8Array {
  const bodyLength = parts.reduce((sum, p) => sum + p.length, 0);
  const head = lengthBytes(bodyLength);
  const out = new Uint8Array(1 + head.length + bodyLength);
  out[0] = 0x30;
  out.set(head, 1);
  let at = 1 + head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function encodeRsaPublicKey(key: RsaPublicKeyMaterial): Uint8Array {
  return derSequence([derInteger(key.n), derInteger(key.e)]);
}

/** Two-prime keys only: the caller checks `otherPrimes` (the device's key parser takes version 0). */
export function encodeRsaPrivateKey(key: RsaPrivateKeyMaterial): Uint8Array {
  if (key.otherPrimes.length > 0) throw new InvalidKeyError('virtio-crypto takes two-prime RSA keys only');
  return derSequence(
    [0n, key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qi].map((v) => derInteger(v)),
  );
}
