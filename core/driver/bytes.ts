/** Big-endian conversions between bigint and bytes, as every device boundary needs them (they live in core/encoding). */

export { bigintToBytes, byteLength, bytesToBigint } from '../encoding/bytes.js';

/**
 * Whether the big-endian value of `bound.length` bytes at `at` of `bytes` is in [1, bound − 1]
 * (`bound`: big-endian, e.g. a curve order), compared byte by byte: no bigint per call. Stops at
 * the first deciding byte, so it is for public values only (signature scalars), not secrets.
 */
export function inRangeBelow(bound: Uint8Array, bytes: Uint8Array, at: number): boolean {
  const length = bound.length;
  let first = 0;
  while (first < length && bytes[at + first] === 0) first++;
  if (first === length) return false;
  for (let i = 0; i < length; i++) {
    const b = bytes[at + i]!;
    if (b !== bound[i]) return b < bound[i]!;
  }
  return false; // equal to the bound
}
