/**
 * SEC 1 (v2, §2.3.3–2.3.4) point encodings: uncompressed 04‖X‖Y and compressed
 * 02/03‖X, with X and Y the field length of the curve.
 */

import { bigintToBytes, bytesToBigint } from '../driver/bytes.js';
import type { CurveParams } from '../driver/curves.js';
import { InvalidInputError } from '../driver/errors.js';
import type { EcPoint } from '../driver/primitives.js';
import { isOnCurve } from './ec.js';
import { mod, modSqrt } from './modular.js';

/** SEC 1 encoding of a finite point (the identity has no encoding a key could use). */
export function encodePoint(curve: CurveParams, point: EcPoint, compressed = false): Uint8Array {
  const x = bigintToBytes(point.x, curve.bytes);
  if (compressed) {
    const out = new Uint8Array(1 + curve.bytes);
    out[0] = (point.y & 1n) === 0n ? 0x02 : 0x03;
    out.set(x, 1);
    return out;
  }
  const out = new Uint8Array(1 + 2 * curve.bytes);
  out[0] = 0x04;
  out.set(x, 1);
  out.set(bigintToBytes(point.y, curve.bytes), 1 + curve.bytes);
  return out;
}

/**
 * Decode a SEC 1 point and check it: the right length for its form, coordinates
 * below p, on the curve. InvalidInputError otherwise, including for the
 * one-byte encoding of the point at infinity.
 */
export function decodePoint(curve: CurveParams, bytes: Uint8Array): EcPoint {
  const len = curve.bytes;
  const form = bytes[0];
  if (form === 0x04 && bytes.length === 1 + 2 * len) {
    const point = { x: bytesToBigint(bytes.subarray(1, 1 + len)), y: bytesToBigint(bytes.subarray(1 + len)) };
    if (!isOnCurve(curve, point)) throw new InvalidInputError(`point is not on ${curve.name}`);
    return point;
  }
  if ((form === 0x02 || form === 0x03) && bytes.length === 1 + len) {
    const x = bytesToBigint(bytes.subarray(1));
    if (x >= curve.p) throw new InvalidInputError(`x-coordinate out of range for ${curve.name}`);
    const { p, a, b } = curve;
    const root = modSqrt(x * x * x + a * x + b, p);
    if (root === null) throw new InvalidInputError(`x-coordinate is not on ${curve.name}`);
    const wantOdd = form === 0x03;
    const y = ((root & 1n) === 1n) === wantOdd ? root : mod(-root, p);
    // y = 0 has no odd twin: a 03 prefix for it names no point.
    if (((y & 1n) === 1n) !== wantOdd)
      throw new InvalidInputError(`malformed compressed point for ${curve.name}`);
    return { x, y };
  }
  if (form === 0x00 && bytes.length === 1) throw new InvalidInputError('point at infinity is not allowed');
  throw new InvalidInputError(`malformed SEC 1 point encoding for ${curve.name}`);
}
