/**
 * A minimal DER writer: the ASN.1 types key containers and certificates use
 * (SEQUENCE, INTEGER, OCTET STRING, BIT STRING, OBJECT IDENTIFIER, NULL, and any
 * element by its tag). Ground floor, so drivers that hand keys to a device or the
 * kernel in DER (virtio-crypto, keyring) and core/key-formats (which adds the
 * strict reader) share one encoder.
 */

import { bigintToBytes, byteLength, concat } from './bytes.js';

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  sequence: 0x30,
  set: 0x31,
} as const;

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encode one element from its tag and contents (or the parts its contents are made of). */
export function derElement(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const bodyLength = contents.reduce((sum, p) => sum + p.length, 0);
  const length = encodeLength(bodyLength);
  const out = new Uint8Array(1 + length.length + bodyLength);
  out[0] = tag;
  out.set(length, 1);
  let at = 1 + length.length;
  for (const part of contents) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function derSequence(...children: Uint8Array[]): Uint8Array {
  return derElement(TAG.sequence, ...children);
}

/**
 * A non-negative INTEGER in minimal form (a 0x00 lead when the top bit is set).
 * The intermediate bytes are zeroed: callers encode private key components.
 */
export function derUnsignedInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('derUnsignedInteger takes a non-negative value');
  const body = bigintToBytes(value, Math.max(1, byteLength(value)));
  const out = derElement(TAG.integer, (body[0]! & 0x80) !== 0 ? Uint8Array.of(0) : new Uint8Array(0), body);
  body.fill(0);
  return out;
}

export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derElement(TAG.octetString, bytes);
}

/** A BIT STRING with no unused bits. */
export function derBitString(bytes: Uint8Array): Uint8Array {
  return derElement(TAG.bitString, concat(Uint8Array.of(0), bytes));
}

export const DER_NULL = Uint8Array.of(TAG.null, 0);

/** An OBJECT IDENTIFIER from its dotted form. */
export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const first = arcs[0]! * 40n + arcs[1]!;
  const out: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    out.push(...groups);
  }
  return derElement(TAG.oid, Uint8Array.from(out));
}
