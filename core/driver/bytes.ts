/** Big-endian conversions between bigint and bytes, as every device boundary needs them. */

import { InvalidInputError } from './errors.js';

/** The unsigned big-endian bytes of `value`, left-padded with zeros to exactly `length` bytes. */
export function bigintToBytes(value: bigint, length: number): Uint8Array {
  if (value < 0n) throw new InvalidInputError('cannot encode a negative integer');
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new InvalidInputError(`integer does not fit in ${length} bytes`);
  return out;
}

/** The unsigned big-endian integer in `bytes` (empty = 0). */
export function bytesToBigint(bytes: Uint8Array): bigint {
  let hex = '';
  for (const b of bytes) hex += b < 16 ? `0${b.toString(16)}` : b.toString(16);
  return hex.length === 0 ? 0n : BigInt(`0x${hex}`);
}

/** Byte length needed for the unsigned value (at least 1). */
export function byteLength(value: bigint): number {
  return Math.max(1, Math.ceil(value.toString(16).length / 2));
}
