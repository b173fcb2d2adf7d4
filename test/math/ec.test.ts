import { createECDH } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigintToBytes } from '../../core/driver/bytes.js';
import { CURVES, type CurveParams } from '../../core/driver/curves.js';
import { InvalidInputError } from '../../core/driver/errors.js';
import {
  decodePoint,
  ecAdd,
  ecDouble,
  ecMultiply,
  ecMultiplyDouble,
  ecNegate,
  encodePoint,
  generator,
  isOnCurve,
} from '../../core/math/index.js';

const NODE_NAMES: Record<string, string> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
};
const curves = Object.values(CURVES);
const scalar = (curve: CurveParams) => fc.bigInt({ min: 1n, max: curve.n - 1n });

describe.each(curves)('$name', (curve) => {
  const G = generator(curve);

  it('G is on the curve, n·G is infinity, (n−1)·G = −G', () => {
    expect(isOnCurve(curve, G)).toBe(true);
    expect(ecMultiply(curve, curve.n)).toBeNull();
    expect(ecMultiply(curve, 0n)).toBeNull();
    expect(ecMultiply(curve, curve.n - 1n)).toEqual(ecNegate(curve, G));
    expect(ecMultiply(curve, 1n)).toEqual(G);
    expect(ecMultiply(curve, 2n)).toEqual(ecDouble(curve, G));
  });

  it('k·G equals node’s ECDH public key', () => {
    fc.assert(
      fc.property(scalar(curve), (k) => {
        const ecdh = createECDH(NODE_NAMES[curve.name]!);
        ecdh.setPrivateKey(bigintToBytes(k, curve.bytes));
        const expected = ecdh.getPublicKey();
        const P = ecMultiply(curve, k)!;
        expect(Buffer.from(encodePoint(curve, P)).equals(expected)).toBe(true);
      }),
      { numRuns: 8 },
    );
  });

  it('(a+b)·G = a·G + b·G, P + (−P) = ∞, P + ∞ = P', () => {
    fc.assert(
      fc.property(scalar(curve), scalar(curve), (a, b) => {
        const A = ecMultiply(curve, a);
        const B = ecMultiply(curve, b);
        expect(ecMultiply(curve, a + b)).toEqual(ecAdd(curve, A, B));
        expect(ecAdd(curve, A, ecNegate(curve, A))).toBeNull();
        expect(ecAdd(curve, A, null)).toEqual(A);
        expect(ecAdd(curve, A, A)).toEqual(ecDouble(curve, A));
      }),
      { numRuns: 5 },
    );
  });

  it('k·(m·G) = (k·m)·G for a point other than G', () => {
    fc.assert(
      fc.property(scalar(curve), scalar(curve), (k, m) => {
        const Q = ecMultiply(curve, m)!;
        expect(ecMultiply(curve, k, Q)).toEqual(ecMultiply(curve, k * m));
      }),
      { numRuns: 5 },
    );
  });

  it('u1·G + u2·Q in one pass equals the sum of the two products', () => {
    fc.assert(
      fc.property(scalar(curve), scalar(curve), scalar(curve), (u1, u2, m) => {
        const Q = ecMultiply(curve, m)!;
        const expected = ecAdd(curve, ecMultiply(curve, u1), ecMultiply(curve, u2, Q));
        expect(ecMultiplyDouble(curve, u1, u2, Q)).toEqual(expected);
      }),
      { numRuns: 5 },
    );
    // Q = G and u2 = n − u1 cancel to infinity.
    expect(ecMultiplyDouble(curve, 5n, curve.n - 5n, G)).toBeNull();
  });

  it('SEC 1 encodings round-trip, compressed and uncompressed, and match node', () => {
    fc.assert(
      fc.property(scalar(curve), fc.boolean(), (k, compressed) => {
        const P = ecMultiply(curve, k)!;
        const bytes = encodePoint(curve, P, compressed);
        expect(decodePoint(curve, bytes)).toEqual(P);
        const ecdh = createECDH(NODE_NAMES[curve.name]!);
        ecdh.setPrivateKey(bigintToBytes(k, curve.bytes));
        expect(
          Buffer.from(bytes).equals(ecdh.getPublicKey(null, compressed ? 'compressed' : 'uncompressed')),
        ).toBe(true);
      }),
      { numRuns: 8 },
    );
  });

  it('decodePoint rejects malformed, off-curve and out-of-range encodings', () => {
    const good = encodePoint(curve, G);
    const offCurve = good.slice();
    offCurve[offCurve.length - 1]! ^= 1;
    expect(() => decodePoint(curve, offCurve)).toThrow(InvalidInputError);
    expect(() => decodePoint(curve, good.subarray(0, good.length - 1))).toThrow(InvalidInputError);
    expect(() => decodePoint(curve, new Uint8Array([0]))).toThrow(InvalidInputError);
    expect(() => decodePoint(curve, new Uint8Array())).toThrow(InvalidInputError);
    const badPrefix = good.slice();
    badPrefix[0] = 0x05;
    expect(() => decodePoint(curve, badPrefix)).toThrow(InvalidInputError);
    // x = p is out of range even though p ≡ 0 would otherwise be looked up.
    const xIsP = new Uint8Array(1 + curve.bytes);
    xIsP[0] = 0x02;
    xIsP.set(bigintToBytes(curve.p, curve.bytes), 1);
    expect(() => decodePoint(curve, xIsP)).toThrow(InvalidInputError);
    // A coordinate ≥ p in the uncompressed form is off the curve by definition.
    expect(isOnCurve(curve, { x: G.x + curve.p, y: G.y })).toBe(false);
  });

  it('a compressed x with no square root is rejected', () => {
    // Find a small x whose right-hand side is a non-residue.
    let x = 0n;
    for (; ; x++) {
      const rhs = (((x * x * x + curve.a * x + curve.b) % curve.p) + curve.p) % curve.p;
      if (!isSquare(curve, rhs)) break;
    }
    const bytes = new Uint8Array(1 + curve.bytes);
    bytes[0] = 0x02;
    bytes.set(bigintToBytes(x, curve.bytes), 1);
    expect(() => decodePoint(curve, bytes)).toThrow(InvalidInputError);
  });
});

function isSquare(curve: CurveParams, v: bigint): boolean {
  // Euler's criterion.
  let r = 1n;
  let b = v % curve.p;
  let e = (curve.p - 1n) / 2n;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % curve.p;
    b = (b * b) % curve.p;
    e >>= 1n;
  }
  return r === 1n;
}
