/**
 * From a primitive request to what the card runs, and back (datasheet §3.1, §8):
 * the engine program (opcode, lengths, which operand goes into which slot, what
 * to scrub afterwards), the operand marshalling through the BAR, and the decoding
 * of the result words into a primitive value — checking that the card's answer is
 * possible (an RSA result below the modulus, an EC result on the curve: the whole
 * point, so the host can check it) before anyone sees it.
 */

import { bigintToBytes, bytesToBigint } from '../../core/driver/bytes.js';
import { CURVES, type CurveParams } from '../../core/driver/curves.js';
import { DeviceError, InvalidInputError, UnsupportedError } from '../../core/driver/errors.js';
import type { EcCurveName } from '../../core/driver/keys.js';
import type { PrimitiveRequest, PrimitiveValue } from '../../core/driver/primitives.js';
import type { Mmio } from '../../core/platform/mmio.js';
import { CAPS, OP, SLOT, SLOT_BYTES } from './registers.js';

// ---- operands (§3.1): an operand of L words is the integer's little-endian byte string,
// least significant word first, moved through the BAR with one block copy ----

/** Words needed to hold `value` (at least 1). */
export function wordsFor(value: bigint): number {
  return Math.max(1, Math.ceil(value.toString(16).length / 8));
}

/**
 * Moves operands between bigints and a window, through one reusable slot-sized
 * buffer (nothing is allocated per operand).
 */
export class OperandCodec {
  readonly #scratch = new Uint8Array(SLOT_BYTES);

  constructor(private readonly mmio: Mmio) {}

  /** Write `value` as `words` little-endian words at `offset`. */
  write(offset: number, words: number, value: bigint, what: string): void {
    const length = words * 4;
    if (length > SLOT_BYTES)
      throw new InvalidInputError(`${what} needs ${words} words; an operand slot holds ${SLOT_BYTES / 4}`);
    if (value < 0n) throw new InvalidInputError(`${what} is negative`);
    const hex = value.toString(16);
    if (hex.length > length * 2) throw new InvalidInputError(`${what} does not fit in ${words} words`);
    const bytes = this.#scratch.subarray(0, length);
    bytes.fill(0);
    // hex is most significant first; byte k of the slot takes hex digits counted from the end.
    for (let k = 0, end = hex.length; end > 0; k++, end -= 2) {
      bytes[k] = Number.parseInt(hex.slice(Math.max(0, end - 2), end), 16);
    }
    this.mmio.writeBlock(offset, bytes);
    bytes.fill(0);
  }

  /** Read `words` little-endian words at `offset` as an integer. */
  read(offset: number, words: number): bigint {
    const length = words * 4;
    if (length > SLOT_BYTES) throw new DeviceError(`result of ${words} words exceeds an operand slot`);
    const bytes = this.#scratch.subarray(0, length);
    this.mmio.readBlock(offset, bytes);
    let hex = '';
    for (let k = length - 1; k >= 0; k--) {
      const b = bytes[k]!;
      hex += b < 16 ? `0${b.toString(16)}` : b.toString(16);
    }
    bytes.fill(0);
    return BigInt(`0x${hex}`);
  }

  /** Overwrite `words` words at `offset` with zeros (operands that held key material). */
  zero(offset: number, words: number): void {
    const bytes = this.#scratch.subarray(0, Math.min(words * 4, SLOT_BYTES));
    bytes.fill(0);
    this.mmio.writeBlock(offset, bytes);
  }
}

// ---- programs (§8) ----

export interface OperandWrite {
  readonly slot: number;
  readonly words: number;
  readonly value: bigint;
  /** For error messages: the operand's name, never its value. */
  readonly what: string;
}

/** One run of one engine. */
export interface Program {
  readonly opcode: number;
  readonly lenA: number;
  readonly lenB: number;
  readonly operands: readonly OperandWrite[];
  /** Curve parameters (slots 9–12): skipped when the engine's window still holds this curve's. */
  readonly curve?: CurveParams;
  /** Result slots, each `lenA` words, read in this order. */
  readonly resultSlots: readonly number[];
  /** Slots (with lengths) that held key material or secret results: zeroed after the result is read. */
  readonly scrub: readonly { readonly slot: number; readonly words: number }[];
  /** The primitive value; throws a DeviceError when the card's result is impossible. */
  decode(results: readonly bigint[]): PrimitiveValue;
}

/** What the card said it can do (from its identification registers). */
export interface CardFeatures {
  readonly caps: number;
  readonly maxWords: number;
}

export const CURVE_CAPS: Readonly<Record<EcCurveName, number>> = {
  'P-256': CAPS.P256,
  'P-384': CAPS.P384,
  'P-521': CAPS.P521,
};

/** Field length of a curve in words (the ECMUL `LEN_A`). */
export function curveWords(curve: CurveParams): number {
  return Math.ceil(curve.bytes / 4);
}

function needWords(words: number, features: CardFeatures, what: string): void {
  if (words > features.maxWords) {
    throw new UnsupportedError(
      `${what} needs ${words * 32} bits; the window card takes at most ${features.maxWords * 32}`,
    );
  }
}

function rsaOutput(result: bigint, n: bigint, bits: number): Uint8Array {
  if (result >= n) throw new DeviceError('window card returned an RSA result not below the modulus');
  return bigintToBytes(result, Math.ceil(bits / 8));
}

function rsaInput(input: Uint8Array, n: bigint, bits: number): bigint {
  const k = Math.ceil(bits / 8);
  if (input.length !== k)
    throw new InvalidInputError(`RSA input is ${input.length} bytes; the modulus takes ${k}`);
  const x = bytesToBigint(input);
  if (x >= n) throw new InvalidInputError('RSA input is not below the modulus');
  return x;
}

function isOnCurve(curve: CurveParams, x: bigint, y: bigint): boolean {
  if (x >= curve.p || y >= curve.p) return false;
  return (y * y - (x * x * x + curve.a * x + curve.b)) % curve.p === 0n;
}

function compileRsaPublic(
  request: Extract<PrimitiveRequest, { op: 'rsa-public' }>,
  f: CardFeatures,
): Program {
  if ((f.caps & CAPS.MODEXP) === 0) throw new UnsupportedError('window card lacks MODEXP');
  const { n, e, bits } = request.key;
  const lenA = Math.ceil(bits / 32);
  needWords(lenA, f, 'RSA modulus');
  const lenB = wordsFor(e);
  needWords(lenB, f, 'RSA public exponent');
  const x = rsaInput(request.input, n, bits);
  return {
    opcode: OP.MODEXP,
    lenA,
    lenB,
    operands: [
      { slot: SLOT.X, words: lenA, value: x, what: 'RSA input' },
      { slot: SLOT.EXPONENT, words: lenB, value: e, what: 'RSA public exponent' },
      { slot: SLOT.MODULUS, words: lenA, value: n, what: 'RSA modulus' },
    ],
    resultSlots: [SLOT.RESULT],
    scrub: [],
    decode: ([r]) => rsaOutput(r!, n, bits),
  };
}

function compileRsaPrivate(
  request: Extract<PrimitiveRequest, { op: 'rsa-private' }>,
  f: CardFeatures,
): Program {
  if ((f.caps & CAPS.MODEXP_CRT) === 0) throw new UnsupportedError('window card lacks MODEXP_CRT');
  const key = request.key;
  if (key.otherPrimes.length > 0) throw new UnsupportedError('window card does not do multi-prime RSA');
  const lenA = Math.ceil(key.bits / 32);
  needWords(lenA, f, 'RSA modulus');
  const lenB = Math.max(wordsFor(key.p), wordsFor(key.q));
  if (lenB > lenA) throw new UnsupportedError('RSA key has a prime longer than its modulus');
  const c = rsaInput(request.input, key.n, key.bits);
  const operands: OperandWrite[] = [
    { slot: SLOT.X, words: lenA, value: c, what: 'RSA input' },
    { slot: SLOT.P, words: lenB, value: key.p, what: 'RSA prime p' },
    { slot: SLOT.Q, words: lenB, value: key.q, what: 'RSA prime q' },
    { slot: SLOT.DP, words: lenB, value: key.dp, what: 'RSA CRT exponent dP' },
    { slot: SLOT.DQ, words: lenB, value: key.dq, what: 'RSA CRT exponent dQ' },
    { slot: SLOT.QINV, words: lenB, value: key.qi, what: 'RSA CRT coefficient qInv' },
  ];
  return {
    opcode: OP.MODEXP_CRT,
    lenA,
    lenB,
    operands,
    resultSlots: [SLOT.RESULT],
    scrub: [...operands.map(({ slot, words }) => ({ slot, words })), { slot: SLOT.RESULT, words: lenA }],
    decode: ([r]) => rsaOutput(r!, key.n, key.bits),
  };
}

function compileEcMul(request: Extract<PrimitiveRequest, { op: 'ec-mul' }>, f: CardFeatures): Program {
  const curve = CURVES[request.curve];
  if ((f.caps & CAPS.ECMUL) === 0 || (f.caps & CURVE_CAPS[request.curve]) === 0) {
    throw new UnsupportedError(`window card does not multiply on ${request.curve}`);
  }
  const k = typeof request.scalar === 'bigint' ? request.scalar : request.scalar.d;
  if (typeof request.scalar !== 'bigint' && request.scalar.curve !== request.curve) {
    throw new InvalidInputError(`ec-mul on ${request.curve} with a ${request.scalar.curve} key`);
  }
  if (k <= 0n || k >= curve.n)
    throw new InvalidInputError(`ec-mul scalar is not in [1, n-1] of ${curve.name}`);
  const point = request.point ?? { x: curve.gx, y: curve.gy };
  const lenA = curveWords(curve);
  return {
    opcode: OP.ECMUL,
    lenA,
    lenB: lenA,
    operands: [
      { slot: SLOT.PX, words: lenA, value: point.x, what: 'EC point x' },
      { slot: SLOT.PY, words: lenA, value: point.y, what: 'EC point y' },
      { slot: SLOT.SCALAR, words: lenA, value: k, what: 'EC scalar' },
    ],
    curve,
    resultSlots: [SLOT.RESULT, SLOT.RESULT_Y],
    // The scalar is a private key or an ECDSA nonce, and k·P may be an ECDH secret: scrub all three.
    scrub: [
      { slot: SLOT.SCALAR, words: lenA },
      { slot: SLOT.RESULT, words: lenA },
      { slot: SLOT.RESULT_Y, words: lenA },
    ],
    decode: ([x, y]) => {
      if (!isOnCurve(curve, x!, y!))
        throw new DeviceError(`window card returned a point not on ${curve.name}`);
      return { x: x!, y: y! };
    },
  };
}

/** The curve-parameter operands of ECMUL (slots 9–12). */
export function curveOperands(curve: CurveParams): OperandWrite[] {
  const words = curveWords(curve);
  return [
    { slot: SLOT.CURVE_P, words, value: curve.p, what: 'curve prime' },
    { slot: SLOT.CURVE_A, words, value: curve.a, what: 'curve a' },
    { slot: SLOT.CURVE_B, words, value: curve.b, what: 'curve b' },
    { slot: SLOT.CURVE_N, words, value: curve.n, what: 'curve order' },
  ];
}

/**
 * The program for a request, or a typed error: UnsupportedError for what the
 * card cannot do, InvalidInputError for inputs out of range.
 */
export function compile(request: PrimitiveRequest, features: CardFeatures): Program {
  switch (request.op) {
    case 'rsa-public':
      return compileRsaPublic(request, features);
    case 'rsa-private':
      return compileRsaPrivate(request, features);
    case 'ec-mul':
      return compileEcMul(request, features);
    default:
      throw new UnsupportedError(`window card does not do ${request.op}`);
  }
}
