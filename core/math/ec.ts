/**
 * Point arithmetic on the short Weierstrass curves of core/driver/curves.ts
 * (y² = x³ + ax + b over GF(p)), in Jacobian coordinates: (X, Y, Z) stands for
 * the affine point (X/Z², Y/Z³), and Z = 0 is the point at infinity. Affine
 * points cross the module boundary as EcPoint, with null for infinity.
 *
 * NOT CONSTANT-TIME: bigint arithmetic and the windowed ladders below take time
 * that depends on the scalar. This is for device models, composition (ECDSA over
 * scalar multiplication) and checks; the software provider uses OpenSSL.
 */

import type { CurveParams } from '../driver/curves.js';
import type { EcPoint } from '../driver/primitives.js';
import { mod, modInv } from './modular.js';

/** A point in Jacobian coordinates; Z = 0 is the point at infinity. */
export interface JacobianPoint {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
}

export const JACOBIAN_INFINITY: JacobianPoint = { X: 1n, Y: 1n, Z: 0n };

export function toJacobian(point: EcPoint | null): JacobianPoint {
  return point === null ? JACOBIAN_INFINITY : { X: point.x, Y: point.y, Z: 1n };
}

/** The affine point (one inversion), or null for infinity. */
export function toAffine(curve: CurveParams, point: JacobianPoint): EcPoint | null {
  const { p } = curve;
  if (mod(point.Z, p) === 0n) return null;
  if (point.Z === 1n) return { x: mod(point.X, p), y: mod(point.Y, p) };
  const zInv = modInv(point.Z, p);
  const zInv2 = (zInv * zInv) % p;
  return { x: mod(point.X * zInv2, p), y: mod(point.Y * zInv2 * zInv, p) };
}

/** Whether the affine point has coordinates in [0, p) and satisfies the curve equation. */
export function isOnCurve(curve: CurveParams, point: EcPoint): boolean {
  const { p, a, b } = curve;
  const { x, y } = point;
  if (x < 0n || x >= p || y < 0n || y >= p) return false;
  return mod(y * y - (x * x * x + a * x + b), p) === 0n;
}

/** 2·P (dbl-1998-cmo-2; with a = -3 the slope numerator is 3(X − Z²)(X + Z²)). */
export function jacobianDouble(curve: CurveParams, P: JacobianPoint): JacobianPoint {
  const { p } = curve;
  if (P.Z === 0n || P.Y === 0n) return JACOBIAN_INFINITY;
  const YY = (P.Y * P.Y) % p;
  const ZZ = (P.Z * P.Z) % p;
  const S = (4n * P.X * YY) % p;
  const M =
    curve.a === p - 3n ? (3n * (P.X - ZZ) * (P.X + ZZ)) % p : (3n * P.X * P.X + curve.a * ZZ * ZZ) % p;
  const X3 = mod(M * M - 2n * S, p);
  const Y3 = mod(M * (S - X3) - 8n * YY * YY, p);
  const Z3 = (2n * P.Y * P.Z) % p;
  return { X: X3, Y: Y3, Z: Z3 };
}

/** P + Q (add-1998-cmo-2), with the cheaper mixed form when Q has Z = 1. */
export function jacobianAdd(curve: CurveParams, P: JacobianPoint, Q: JacobianPoint): JacobianPoint {
  const { p } = curve;
  if (P.Z === 0n) return Q;
  if (Q.Z === 0n) return P;
  const Z1Z1 = (P.Z * P.Z) % p;
  const U2 = (Q.X * Z1Z1) % p;
  const S2 = (Q.Y * P.Z * Z1Z1) % p;
  let U1 = P.X;
  let S1 = P.Y;
  if (Q.Z !== 1n) {
    const Z2Z2 = (Q.Z * Q.Z) % p;
    U1 = (P.X * Z2Z2) % p;
    S1 = (P.Y * Q.Z * Z2Z2) % p;
  }
  const H = mod(U2 - U1, p);
  const r = mod(S2 - S1, p);
  if (H === 0n) return r === 0n ? jacobianDouble(curve, P) : JACOBIAN_INFINITY;
  const HH = (H * H) % p;
  const HHH = (H * HH) % p;
  const V = (U1 * HH) % p;
  const X3 = mod(r * r - HHH - 2n * V, p);
  const Y3 = mod(r * (V - X3) - S1 * HHH, p);
  const Z3 = Q.Z === 1n ? (P.Z * H) % p : (P.Z * Q.Z * H) % p;
  return { X: X3, Y: Y3, Z: Z3 };
}

export function ecAdd(curve: CurveParams, P: EcPoint | null, Q: EcPoint | null): EcPoint | null {
  return toAffine(curve, jacobianAdd(curve, toJacobian(P), toJacobian(Q)));
}

export function ecDouble(curve: CurveParams, P: EcPoint | null): EcPoint | null {
  return toAffine(curve, jacobianDouble(curve, toJacobian(P)));
}

export function ecNegate(curve: CurveParams, P: EcPoint | null): EcPoint | null {
  return P === null ? null : { x: P.x, y: mod(-P.y, curve.p) };
}

export function generator(curve: CurveParams): EcPoint {
  return { x: curve.gx, y: curve.gy };
}

const WINDOW_BITS = 4;
const WINDOW_SIZE = 1 << WINDOW_BITS;

/** [0·P, 1·P, …, 15·P] for the fixed 4-bit window. */
function windowTable(curve: CurveParams, P: JacobianPoint): JacobianPoint[] {
  const table: JacobianPoint[] = [JACOBIAN_INFINITY, P];
  for (let i = 2; i < WINDOW_SIZE; i++) table.push(jacobianAdd(curve, table[i - 1]!, P));
  return table;
}

/**
 * Z = 1 forms of many points with one inversion (Montgomery's trick), so that
 * additions from a precomputed table take the cheaper mixed form.
 */
function normalise(curve: CurveParams, points: readonly JacobianPoint[]): JacobianPoint[] {
  const { p } = curve;
  const prefix: bigint[] = [];
  let acc = 1n;
  for (const P of points) {
    prefix.push(acc);
    if (P.Z !== 0n) acc = (acc * P.Z) % p;
  }
  let inv = modInv(acc, p);
  const out: JacobianPoint[] = new Array(points.length);
  for (let i = points.length - 1; i >= 0; i--) {
    const P = points[i]!;
    if (P.Z === 0n) {
      out[i] = JACOBIAN_INFINITY;
      continue;
    }
    const zInv = (inv * prefix[i]!) % p;
    inv = (inv * P.Z) % p;
    const zInv2 = (zInv * zInv) % p;
    out[i] = { X: (P.X * zInv2) % p, Y: (((P.Y * zInv2) % p) * zInv) % p, Z: 1n };
  }
  return out;
}

/** The generator's 4-bit window table, normalised to Z = 1. */
const generatorTables = new WeakMap<CurveParams, JacobianPoint[]>();
function generatorTable(curve: CurveParams): JacobianPoint[] {
  const cached = generatorTables.get(curve);
  if (cached) return cached;
  const table = normalise(curve, windowTable(curve, toJacobian(generator(curve))));
  generatorTables.set(curve, table);
  return table;
}

/**
 * Fixed-base comb for k·G: row i holds j·16^i·G for j = 0…15 (Z = 1), so k·G is
 * one mixed addition per 4-bit digit of k and no doublings. Built once per curve
 * (960 points for P-256, 1980 for P-521; one batched inversion).
 */
const generatorCombs = new WeakMap<CurveParams, JacobianPoint[][]>();
function generatorComb(curve: CurveParams): JacobianPoint[][] {
  const cached = generatorCombs.get(curve);
  if (cached) return cached;
  const rows = Math.ceil(curve.orderBits / WINDOW_BITS);
  const flat: JacobianPoint[] = [];
  let base = toJacobian(generator(curve));
  for (let i = 0; i < rows; i++) {
    const row = windowTable(curve, base);
    flat.push(...row);
    base = jacobianAdd(curve, row[WINDOW_SIZE - 1]!, base);
  }
  const normalised = normalise(curve, flat);
  const comb: JacobianPoint[][] = [];
  for (let i = 0; i < rows; i++) comb.push(normalised.slice(i * WINDOW_SIZE, (i + 1) * WINDOW_SIZE));
  generatorCombs.set(curve, comb);
  return comb;
}

function combMultiply(curve: CurveParams, scalar: bigint): JacobianPoint {
  const comb = generatorComb(curve);
  const digits = nibbles(scalar, comb.length);
  let acc = JACOBIAN_INFINITY;
  // digits[0] is the most significant: it belongs to row (rows − 1).
  for (let i = 0; i < digits.length; i++) {
    const digit = digits[i]!;
    if (digit !== 0) acc = jacobianAdd(curve, acc, comb[digits.length - 1 - i]![digit]!);
  }
  return acc;
}

/** The scalar's 4-bit digits, most significant first, padded to `digits`. */
function nibbles(k: bigint, digits: number): number[] {
  const hex = k.toString(16).padStart(digits, '0');
  const out: number[] = new Array(hex.length);
  for (let i = 0; i < hex.length; i++) out[i] = Number.parseInt(hex[i]!, 16);
  return out;
}

/**
 * k·point (k·G when `point` is absent), or null for the point at infinity.
 * k is reduced modulo n, which is right for every point of the group (cofactor 1);
 * the caller validates foreign points first.
 */
export function ecMultiply(curve: CurveParams, k: bigint, point?: EcPoint): EcPoint | null {
  return toAffine(curve, jacobianMultiply(curve, k, point));
}

/** ecMultiply without the final inversion. */
export function jacobianMultiply(curve: CurveParams, k: bigint, point?: EcPoint): JacobianPoint {
  const scalar = mod(k, curve.n);
  if (scalar === 0n) return JACOBIAN_INFINITY;
  if (point === undefined) return combMultiply(curve, scalar);
  const table = windowTable(curve, toJacobian(point));
  let acc = JACOBIAN_INFINITY;
  for (const digit of nibbles(scalar, 0)) {
    for (let i = 0; i < WINDOW_BITS; i++) acc = jacobianDouble(curve, acc);
    if (digit !== 0) acc = jacobianAdd(curve, acc, table[digit]!);
  }
  return acc;
}

/**
 * u1·G + u2·Q with one shared chain of doublings (Shamir's trick over 4-bit
 * windows): the core of ECDSA verification.
 */
export function ecMultiplyDouble(curve: CurveParams, u1: bigint, u2: bigint, Q: EcPoint): EcPoint | null {
  const a = mod(u1, curve.n);
  const b = mod(u2, curve.n);
  const gTable = generatorTable(curve);
  const qTable = windowTable(curve, toJacobian(Q));
  const width = Math.max(a.toString(16).length, b.toString(16).length);
  const da = nibbles(a, width);
  const db = nibbles(b, width);
  let acc = JACOBIAN_INFINITY;
  for (let i = 0; i < width; i++) {
    for (let j = 0; j < WINDOW_BITS; j++) acc = jacobianDouble(curve, acc);
    if (da[i] !== 0) acc = jacobianAdd(curve, acc, gTable[da[i]!]!);
    if (db[i] !== 0) acc = jacobianAdd(curve, acc, qTable[db[i]!]!);
  }
  return toAffine(curve, acc);
}
