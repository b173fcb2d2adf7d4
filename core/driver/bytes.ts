/** Big-endian conversions between bigint and bytes, as every device boundary needs them (they live in core/encoding). */

import { bigintToBytes } from '../encoding/bytes.js';
import type { CurveParams } from './curves.js';

export { bigintToBytes, byteLength, bytesToBigint, handOverCopy } from '../encoding/bytes.js';

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
  return below(bound, bytes, at);
}

/**
 * Whether the big-endian value of `bound.length` bytes at `at` of `bytes` is below `bound`
 * (big-endian): byte by byte, no bigint. Stops at the first deciding byte (public values only).
 */
export function below(bound: Uint8Array, bytes: Uint8Array, at: number): boolean {
  const length = bound.length;
  for (let i = 0; i < length; i++) {
    const b = bytes[at + i]!;
    if (b !== bound[i]) return b < bound[i]!;
  }
  return false; // equal to the bound
}

/** Each curve's order n as big-endian bytes of the field length. */
const orders = new WeakMap<CurveParams, Uint8Array>();

/** The curve's order n as big-endian bytes of the field length, made once per curve. */
export function orderBytes(curve: CurveParams): Uint8Array {
  let n = orders.get(curve);
  if (n === undefined) {
    n = bigintToBytes(curve.n, curve.bytes);
    orders.set(curve, n);
  }
  return n;
}

/**
 * Whether `signature` is a P1363 r ‖ s of the curve's field length each, both in [1, n − 1]:
 * byte comparisons (inRangeBelow), the same decision as converting both to bigint, without it.
 */
export function p1363InRange(curve: CurveParams, signature: Uint8Array): boolean {
  const n = orderBytes(curve);
  return (
    signature.length === 2 * curve.bytes &&
    inRangeBelow(n, signature, 0) &&
    inRangeBelow(n, signature, curve.bytes)
  );
}
