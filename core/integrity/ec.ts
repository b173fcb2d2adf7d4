/**
 * Elliptic-curve checks of the integrity gate.
 *
 * - `ec-mul`: the device returns the whole point; it must be an affine point on
 *   the curve (coordinates in [0, p), y² = x³ + ax + b). The point at infinity
 *   cannot be represented in the result and is refused as malformed.
 * - `ecdh` with an `ecdh-point` witness (the ring card returns y beside x): the
 *   point (x, y) must be on the curve — a flipped bit in either coordinate
 *   leaves the curve with probability about 1 − 2/p.
 * - `ecdh` with x only (a card without the witness): all the host can check
 *   without redoing the multiplication is that x < p and x³ + ax + b is a
 *   square mod p (some y exists). That catches about half of all corrupted
 *   values, not all: a weaker guarantee, documented in the README. The software
 *   provider (node:crypto) returns x only; as the reference it is not checked.
 * - ECDSA: `ecdsaSignatureValid` verifies a signature on the host (node:crypto
 *   when the request carries the message, core/math otherwise);
 *   `ecdsaWitnessVerdict` is the verdict that an `ecdsa-verify` witness (the x of
 *   u1·G + u2·Q) implies: x mod n == r.
 */

import { createPublicKey, type KeyObject, verify as nodeVerify } from 'node:crypto';
import { below, bigintToBytes, bytesToBigint, orderBytes, p1363InRange } from '../driver/bytes.js';
import { CURVES, type CurveParams } from '../driver/curves.js';
import type { EcCurveName, EcPublicKeyMaterial } from '../driver/keys.js';
import type { EcPoint, PrehashedMessage } from '../driver/primitives.js';
import { bytesToBigintAt } from '../encoding/bytes.js';
import { NODE_HASH } from '../encoding/hashes.js';
import { ecMultiplyDouble, isOnCurve } from '../math/ec.js';
import { mod, modInv } from '../math/modular.js';

export function curveOf(name: EcCurveName): CurveParams {
  return CURVES[name];
}

/** Whether a device's `ec-mul` value is a finite point on the curve. */
export function pointHolds(curve: CurveParams, value: unknown): value is EcPoint {
  if (typeof value !== 'object' || value === null) return false;
  const point = value as { x?: unknown; y?: unknown };
  if (typeof point.x !== 'bigint' || typeof point.y !== 'bigint') return false;
  return isOnCurve(curve, point as EcPoint);
}

/** The Jacobi symbol (a/n) for odd n > 0: binary algorithm, no exponentiation. */
export function jacobi(a: bigint, n: bigint): number {
  let x = mod(a, n);
  let m = n;
  let t = 1;
  while (x !== 0n) {
    while ((x & 1n) === 0n) {
      x >>= 1n;
      const r = m & 7n;
      if (r === 3n || r === 5n) t = -t;
    }
    [x, m] = [m, x];
    if ((x & 3n) === 3n && (m & 3n) === 3n) t = -t;
    x %= m;
  }
  return m === 1n ? t : 0;
}

/** x < p and some y has (x, y) on the curve (the whole check an x-only ECDH result allows). */
export function xCoordinateHolds(curve: CurveParams, x: bigint): boolean {
  const { p, a, b } = curve;
  if (x < 0n || x >= p) return false;
  const rhs = mod(x * x * x + a * x + b, p);
  return rhs === 0n || jacobi(rhs, p) === 1;
}

/** Whether a device's `ecdh` value (field-length x) holds, with the witness's y when there is one. */
export function ecdhHolds(curve: CurveParams, value: unknown, y: bigint | undefined): boolean {
  if (!(value instanceof Uint8Array) || value.length !== curve.bytes) return false;
  const x = bytesToBigint(value);
  if (y === undefined) return xCoordinateHolds(curve, x);
  return isOnCurve(curve, { x, y });
}

/** r and s of a P1363 signature when both are in [1, n−1], else null. */
export function signatureScalars(curve: CurveParams, signature: unknown): { r: bigint; s: bigint } | null {
  if (!(signature instanceof Uint8Array) || signature.length !== 2 * curve.bytes) return null;
  // Read in place (bytesToBigintAt): a signature is a small array a driver sliced or subtle copied.
  const r = bytesToBigintAt(signature, 0, curve.bytes);
  const s = bytesToBigintAt(signature, curve.bytes, curve.bytes);
  if (r < 1n || r >= curve.n || s < 1n || s >= curve.n) return null;
  return { r, s };
}

/**
 * The verdict an `ecdsa-verify` witness implies: r and s in [1, n − 1] and the x of u1·G + u2·Q
 * (big-endian bytes) reduced mod n equals r. Every gated verify runs this, so the usual case is
 * decided on the bytes with no bigint: a field-length x below n is its own residue, and equals r
 * exactly when its bytes equal r's. Any other x (at or above n: rare, x < p < 2n; or not
 * field-length, e.g. from a peer that trimmed it) is reduced in bigint — the same decision.
 */
export function ecdsaWitnessVerdict(
  curve: CurveParams,
  signature: Uint8Array,
  x: Uint8Array | null,
): boolean {
  if (x === null || !p1363InRange(curve, signature)) return false;
  const length = curve.bytes;
  if (x.length === length && below(orderBytes(curve), x, 0)) {
    for (let i = 0; i < length; i++) if (x[i] !== signature[i]) return false;
    return true;
  }
  return mod(bytesToBigint(x), curve.n) === bytesToBigintAt(signature, 0, length);
}

const ecKeyObjects = new WeakMap<EcPublicKeyMaterial, KeyObject | null>();

function ecKeyObject(key: EcPublicKeyMaterial): KeyObject | null {
  let cached = ecKeyObjects.get(key);
  if (cached === undefined) {
    const curve = CURVES[key.curve];
    try {
      cached = createPublicKey({
        key: {
          kty: 'EC',
          crv: key.curve,
          x: Buffer.from(bigintToBytes(key.x, curve.bytes)).toString('base64url'),
          y: Buffer.from(bigintToBytes(key.y, curve.bytes)).toString('base64url'),
        },
        format: 'jwk',
      });
    } catch {
      cached = null;
    }
    ecKeyObjects.set(key, cached);
  }
  return cached;
}

/**
 * Whether `signature` (P1363) is a valid ECDSA signature of `digest` under `key`,
 * computed on this host. With the message (PrehashedMessage) OpenSSL verifies it
 * (about 2× a software ECDSA signature); without, core/math does the
 * double-scalar multiplication in bigint (slower; for raw `queue.submit` only).
 */
export function ecdsaSignatureValid(
  key: EcPublicKeyMaterial,
  digest: Uint8Array,
  signature: Uint8Array,
  message?: PrehashedMessage,
): boolean {
  const curve = CURVES[key.curve];
  const rs = signatureScalars(curve, signature);
  if (rs === null) return false;
  if (message !== undefined) {
    const keyObject = ecKeyObject(key);
    if (keyObject !== null) {
      return nodeVerify(
        NODE_HASH[message.hash],
        message.data,
        { key: keyObject, dsaEncoding: 'ieee-p1363' },
        signature,
      );
    }
  }
  const e = bytesToBigint(digest);
  const w = modInv(rs.s, curve.n);
  const sum = ecMultiplyDouble(curve, mod(e * w, curve.n), mod(rs.r * w, curve.n), { x: key.x, y: key.y });
  return sum !== null && mod(sum.x, curve.n) === rs.r;
}
