/**
 * The window card's arithmetic (datasheet §8): one operation, from the operands
 * in an engine's window to the result words or an error code. Pure: the device
 * model reads the slots, calls `runOperation`, and writes back what it returns.
 */

import { CURVES, type CurveParams } from '../../../core/driver/curves.js';
import type { EcCurveName } from '../../../core/driver/keys.js';
import { ecMultiply, isOnCurve, mod, modInv, modPow } from '../../../core/math/index.js';
import { CAPS, ERROR, MAX_WORDS, OP, SLOT } from './registers.js';

/** What the engine latched at START. */
export interface OperationRequest {
  readonly opcode: number;
  readonly lenA: number;
  readonly lenB: number;
  /** Operand `slot`, `words` long, as an integer (datasheet §3.1). */
  readonly read: (slot: number, words: number) => bigint;
}

/** How the engine may misbehave while computing (fault injection). */
export interface ComputeOptions {
  /**
   * Flip one bit of the result (in MODEXP_CRT, of the mod-p half before
   * recombination): called with how many low bits may be hit, it returns which one
   * (the model draws it from the spec's seed, so a run replays).
   */
  readonly corrupt?: ((bits: number) => number) | undefined;
  /** `null` engine: skip the arithmetic and echo the input (datasheet §12). */
  readonly echo?: boolean;
}

export type OperationOutcome =
  | {
      readonly ok: true;
      readonly words: number;
      readonly results: readonly { slot: number; value: bigint }[];
    }
  | { readonly ok: false; readonly error: number };

const CURVE_CAPS: Readonly<Record<EcCurveName, number>> = {
  'P-256': CAPS.P256,
  'P-384': CAPS.P384,
  'P-521': CAPS.P521,
};

/** The CAPS bit of each curve, for the model's CAPS register. */
export function curveCapsBit(name: EcCurveName): number {
  return CURVE_CAPS[name];
}

function fail(error: number): OperationOutcome {
  return { ok: false, error };
}

function done(words: number, ...results: { slot: number; value: bigint }[]): OperationOutcome {
  return { ok: true, words, results };
}

/** Flip one of the low `bits` bits of `value`, the one `pick` chooses. */
function flipBit(value: bigint, bits: number, pick: (bits: number) => number): bigint {
  const n = Math.max(1, bits);
  const bit = Math.min(n - 1, Math.max(0, Math.floor(pick(n))));
  return value ^ (1n << BigInt(bit));
}

function lengthOk(words: number): boolean {
  return Number.isInteger(words) && words >= 1 && words <= MAX_WORDS;
}

function modexp(req: OperationRequest, opts: ComputeOptions): OperationOutcome {
  if (!lengthOk(req.lenA) || !lengthOk(req.lenB)) return fail(ERROR.BAD_LENGTH);
  const x = req.read(SLOT.X, req.lenA);
  const e = req.read(SLOT.EXPONENT, req.lenB);
  const m = req.read(SLOT.MODULUS, req.lenA);
  if (m < 3n || (m & 1n) === 0n || x >= m) return fail(ERROR.BAD_OPERAND);
  if (opts.echo) return done(req.lenA, { slot: SLOT.RESULT, value: x });
  let r = modPow(x, e, m);
  if (opts.corrupt) r = mod(flipBit(r, req.lenA * 32, opts.corrupt), m);
  return done(req.lenA, { slot: SLOT.RESULT, value: r });
}

function modexpCrt(req: OperationRequest, opts: ComputeOptions): OperationOutcome {
  if (!lengthOk(req.lenA) || !lengthOk(req.lenB) || req.lenB > req.lenA) return fail(ERROR.BAD_LENGTH);
  const c = req.read(SLOT.X, req.lenA);
  const p = req.read(SLOT.P, req.lenB);
  const q = req.read(SLOT.Q, req.lenB);
  const dp = req.read(SLOT.DP, req.lenB);
  const dq = req.read(SLOT.DQ, req.lenB);
  const qinv = req.read(SLOT.QINV, req.lenB);
  const primeOk = (v: bigint) => v >= 3n && (v & 1n) === 1n;
  if (!primeOk(p) || !primeOk(q) || p === q) return fail(ERROR.BAD_OPERAND);
  if (opts.echo) return done(req.lenA, { slot: SLOT.RESULT, value: c });
  let m1 = modPow(c % p, dp, p);
  const m2 = modPow(c % q, dq, q);
  // The Bellcore fault: one half wrong, the other right, so gcd(r^e - c, n) reveals q.
  if (opts.corrupt) m1 = mod(flipBit(m1, p.toString(2).length - 1, opts.corrupt), p);
  const h = mod(qinv * (m1 - m2), p);
  const r = m2 + h * q;
  if (r >= 1n << BigInt(32 * req.lenA)) return fail(ERROR.BAD_OPERAND);
  return done(req.lenA, { slot: SLOT.RESULT, value: r });
}

/** The supported curve whose (p, a, b, n) are in the window, if any. */
function curveFromOperands(req: OperationRequest): CurveParams | undefined {
  const p = req.read(SLOT.CURVE_P, req.lenA);
  const a = req.read(SLOT.CURVE_A, req.lenA);
  const b = req.read(SLOT.CURVE_B, req.lenA);
  const n = req.read(SLOT.CURVE_N, req.lenA);
  for (const curve of Object.values(CURVES)) {
    if (curve.p === p && curve.a === a && curve.b === b && curve.n === n) return curve;
  }
  return undefined;
}

function ecmul(req: OperationRequest, caps: number, opts: ComputeOptions): OperationOutcome {
  const lengths = new Set(Object.values(CURVES).map((c) => Math.ceil(c.bytes / 4)));
  if (!lengths.has(req.lenA)) return fail(ERROR.BAD_LENGTH);
  const curve = curveFromOperands(req);
  if (curve === undefined || Math.ceil(curve.bytes / 4) !== req.lenA || (caps & CURVE_CAPS[curve.name]) === 0)
    return fail(ERROR.BAD_OPERAND);
  const point = { x: req.read(SLOT.PX, req.lenA), y: req.read(SLOT.PY, req.lenA) };
  const k = req.read(SLOT.SCALAR, req.lenA);
  if (k === 0n || k >= curve.n) return fail(ERROR.BAD_OPERAND);
  if (point.x >= curve.p || point.y >= curve.p || !isOnCurve(curve, point)) return fail(ERROR.NOT_ON_CURVE);
  if (opts.echo)
    return done(req.lenA, { slot: SLOT.RESULT, value: point.x }, { slot: SLOT.RESULT_Y, value: point.y });
  // k·G takes core/math's precomputed generator table: the card's "fixed-base" fast path.
  const isGenerator = point.x === curve.gx && point.y === curve.gy;
  const r = isGenerator ? ecMultiply(curve, k) : ecMultiply(curve, k, point);
  if (r === null) return fail(ERROR.AT_INFINITY);
  const x = opts.corrupt ? mod(flipBit(r.x, curve.bytes * 8 - 1, opts.corrupt), curve.p) : r.x;
  return done(req.lenA, { slot: SLOT.RESULT, value: x }, { slot: SLOT.RESULT_Y, value: r.y });
}

function modinv(req: OperationRequest, opts: ComputeOptions): OperationOutcome {
  if (!lengthOk(req.lenA)) return fail(ERROR.BAD_LENGTH);
  const x = req.read(SLOT.X, req.lenA);
  const m = req.read(SLOT.MODULUS, req.lenA);
  if (m < 3n || x >= m) return fail(ERROR.BAD_OPERAND);
  if (opts.echo) return done(req.lenA, { slot: SLOT.RESULT, value: x });
  let r: bigint;
  try {
    r = modInv(x, m);
  } catch {
    return fail(ERROR.NOT_INVERTIBLE);
  }
  if (opts.corrupt) r = mod(flipBit(r, req.lenA * 32, opts.corrupt), m);
  return done(req.lenA, { slot: SLOT.RESULT, value: r });
}

/** Run one operation (datasheet §8), honouring the card's CAPS. */
export function runOperation(
  req: OperationRequest,
  caps: number,
  opts: ComputeOptions = {},
): OperationOutcome {
  const capBit = 1 << (req.opcode - 1);
  if (req.opcode < OP.MODEXP || req.opcode > OP.MODINV || (caps & capBit) === 0)
    return fail(ERROR.BAD_OPCODE);
  switch (req.opcode) {
    case OP.MODEXP:
      return modexp(req, opts);
    case OP.MODEXP_CRT:
      return modexpCrt(req, opts);
    case OP.ECMUL:
      return ecmul(req, caps, opts);
    default:
      return modinv(req, opts);
  }
}
