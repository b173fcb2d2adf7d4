/**
 * ECDSA signature encodings: IEEE P1363 r‖s (each the field length, WebCrypto's
 * format) and DER Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }.
 * Parsing is strict, as Wycheproof expects: minimal lengths and integers, no
 * negative values, no trailing bytes.
 */

import { bigintToBytes, bytesToBigint } from '../driver/bytes.js';

/** The integers of a P1363 signature, or null if it is not exactly 2·fieldBytes long. */
export function parseP1363(signature: Uint8Array, fieldBytes: number): { r: bigint; s: bigint } | null {
  if (signature.length !== 2 * fieldBytes) return null;
  return {
    r: bytesToBigint(signature.subarray(0, fieldBytes)),
    s: bytesToBigint(signature.subarray(fieldBytes)),
  };
}

export function encodeP1363(r: bigint, s: bigint, fieldBytes: number): Uint8Array {
  const out = new Uint8Array(2 * fieldBytes);
  out.set(bigintToBytes(r, fieldBytes), 0);
  out.set(bigintToBytes(s, fieldBytes), fieldBytes);
  return out;
}

/** DER length octets (definite form, minimal). */
function encodeLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let l = length; l > 0; l >>= 8) bytes.unshift(l & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** A non-negative INTEGER: minimal bytes, with a 00 in front when the top bit is set. */
function encodeInteger(value: bigint): number[] {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const content: number[] = [];
  for (let i = 0; i < hex.length; i += 2) content.push(Number.parseInt(hex.slice(i, i + 2), 16));
  if (content[0]! & 0x80) content.unshift(0);
  return [0x02, ...encodeLength(content.length), ...content];
}

export function encodeDer(r: bigint, s: bigint): Uint8Array {
  const body = [...encodeInteger(r), ...encodeInteger(s)];
  return Uint8Array.from([0x30, ...encodeLength(body.length), ...body]);
}

/** A strict DER length at `offset`: [length, offset after the length octets], or null. */
function readLength(der: Uint8Array, offset: number): [number, number] | null {
  const first = der[offset];
  if (first === undefined) return null;
  if (first < 0x80) return [first, offset + 1];
  const count = first & 0x7f;
  // Indefinite form (0x80) and lengths beyond what a signature needs are refused.
  if (count === 0 || count > 2 || offset + 1 + count > der.length) return null;
  let length = 0;
  for (let i = 0; i < count; i++) length = (length << 8) | der[offset + 1 + i]!;
  // Minimal: a long form only for ≥ 0x80, and no leading zero octet.
  if (length < 0x80 || der[offset + 1] === 0) return null;
  return [length, offset + 1 + count];
}

function readInteger(der: Uint8Array, offset: number, end: number): [bigint, number] | null {
  if (der[offset] !== 0x02) return null;
  const len = readLength(der, offset + 1);
  if (len === null) return null;
  const [length, start] = len;
  if (length === 0 || start + length > end) return null;
  const content = der.subarray(start, start + length);
  if (content[0]! & 0x80) return null; // negative
  if (content[0] === 0 && length > 1 && (content[1]! & 0x80) === 0) return null; // non-minimal
  return [bytesToBigint(content), start + length];
}

/** r and s from a strict DER signature, or null for anything malformed. */
export function parseDer(der: Uint8Array): { r: bigint; s: bigint } | null {
  if (der[0] !== 0x30) return null;
  const seq = readLength(der, 1);
  if (seq === null) return null;
  const [length, start] = seq;
  if (start + length !== der.length) return null; // trailing or missing bytes
  const r = readInteger(der, start, der.length);
  if (r === null) return null;
  const s = readInteger(der, r[1], der.length);
  if (s === null || s[1] !== der.length) return null;
  return { r: r[0], s: s[0] };
}

/** P1363 → DER, or null if the P1363 form is malformed. */
export function p1363ToDer(signature: Uint8Array, fieldBytes: number): Uint8Array | null {
  const rs = parseP1363(signature, fieldBytes);
  return rs === null ? null : encodeDer(rs.r, rs.s);
}

/** DER → P1363, or null if the DER is malformed or an integer does not fit the field length. */
export function derToP1363(der: Uint8Array, fieldBytes: number): Uint8Array | null {
  const rs = parseDer(der);
  if (rs === null) return null;
  const limit = 1n << BigInt(8 * fieldBytes);
  if (rs.r >= limit || rs.s >= limit) return null;
  return encodeP1363(rs.r, rs.s, fieldBytes);
}
