/**
 * Just enough DER to hand OpenSSL a multi-prime RSA private key: JWK's `oth`
 * member is silently ignored by node:crypto, so keys with more than two primes
 * travel as a PKCS#1 RSAPrivateKey (version 1, with otherPrimeInfos).
 */

import type { RsaPrivateKeyMaterial } from '../../core/driver/index.js';

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, body: Uint8Array): Uint8Array {
  const head = [tag, ...length(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

function integer(value: bigint): Uint8Array {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  // A leading 1 bit would make the DER INTEGER negative: prefix a zero byte.
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return tlv(0x02, Uint8Array.from(Buffer.from(hex, 'hex')));
}

function sequence(parts: Uint8Array[]): Uint8Array {
  return tlv(0x30, Buffer.concat(parts));
}

/** PKCS#1 RSAPrivateKey (RFC 8017 A.1.2); version 1 when there are other primes. */
export function rsaPrivateKeyDer(key: RsaPrivateKeyMaterial): Uint8Array {
  const multi = key.otherPrimes.length > 0;
  const fields = [key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qi].map(integer);
  const parts = [integer(multi ? 1n : 0n), ...fields];
  if (multi)
    parts.push(sequence(key.otherPrimes.map((o) => sequence([integer(o.r), integer(o.d), integer(o.t)]))));
  return sequence(parts);
}
