/**
 * A primitive as a PKR-1 descriptor, and a completed descriptor's result as
 * the primitive's value (docs/hardware/ring-card.md §4.1, §4.3):
 *
 * - `encodeRequest`: which opcode, which operands go into the job's operand
 *   area (one fixed area per in-flight descriptor, allocated at probe time),
 *   which key slot, and what result the card must give back;
 * - `writeDescriptor`: those fields as the 64-byte little-endian descriptor;
 * - `completionPhase` / `readCompletion`: a completion's fields (§4.2);
 * - `resultLength` / `decodeResult`: the length a completion must report, and
 *   the value read back from the area's result bytes, with its witness (§4.4:
 *   ECDSA and RSA verifications carry what their verdict was computed from, ECDH
 *   the shared point's y) for the host's integrity gate to check.
 *
 * The descriptor codec lives here rather than in a codec file of its own: it
 * is the last step of turning a request into what the card reads, and the
 * result decoding is the first step back, so one file holds the whole
 * request ↔ card translation. The byte offsets themselves are in registers.ts.
 */

import {
  bigintToBytes,
  bytesToBigint,
  CURVES,
  type EcCurveName,
  type EcPublicKeyMaterial,
  InvalidInputError,
  type PrimitiveRequest,
  type PrimitiveValue,
  p1363InRange,
  type RsaPublicKeyMaterial,
  type RsaSignaturePadding,
  UnsupportedError,
  type Witness,
} from '../../core/driver/index.js';
import { HASH_BYTES } from '../../core/encoding/hashes.js';
import type { KeySlotManager } from './key-slots.js';
import {
  COMPLETION_PHASE,
  CQE,
  CURVE_ID,
  DESC,
  DESC_FLAG_KEY_SLOT,
  HASH_ID,
  OPCODE,
  RSA_PAD_BLOCK_BYTES,
  RSA_PAD_SCHEME,
  WITNESS_FLAGS,
} from './registers.js';

/**
 * Operand area of one descriptor: src, then an inline key, then the result. Sized for the
 * largest of each (4096-bit RSA): src = RSA_VERIFY's padding block ‖ s ‖ a SHA-512 digest
 * (8 + 512 + 64), key = n ‖ e (1024), result = RSA_VERIFY's verdict ‖ s^e mod n (1 + 512).
 */
export const AREA = {
  SRC: 0,
  SRC_BYTES: 640,
  KEY: 640,
  KEY_BYTES: 1024,
  DST: 1664,
  DST_BYTES: 576,
  SIZE: 2240,
} as const;

/** What the card must give back (§4.3), and how to turn it into the primitive's value and witness. */
export type ResultShape =
  /** `handOver`: copied out with handOverCopy (the request's takesBuffer), else a plain slice. */
  | { readonly kind: 'bytes'; readonly length: number; readonly handOver?: true }
  /** verdict ‖ witness flags ‖ x (L bytes). */
  | { readonly kind: 'ecdsa-verify'; readonly fieldBytes: number }
  /** verdict ‖ s^e mod n (k bytes). */
  | { readonly kind: 'rsa-verify'; readonly modulusBytes: number }
  /** x ‖ y (L bytes each): the value is x, the witness y. */
  | { readonly kind: 'ecdh'; readonly fieldBytes: number };

export type Encoding =
  | {
      readonly kind: 'descriptor';
      readonly opcode: number;
      readonly flags: number;
      readonly keySlot: number;
      readonly srcLen: number;
      readonly keyLen: number;
      readonly dstLen: number;
      readonly param: number;
      readonly result: ResultShape;
      /** The key slot pinned for this job, to release when it completes. */
      readonly pinned: number | undefined;
    }
  /**
   * Answered without the card: a signature of the wrong size or with r or s out of range
   * simply does not verify (its witness says no point was computed, where there is one).
   */
  | { readonly kind: 'immediate'; readonly value: boolean; readonly witness?: Witness }
  /** Every key slot is pinned by work in flight. */
  | { readonly kind: 'no-key-slot' };

export type DescriptorEncoding = Extract<Encoding, { kind: 'descriptor' }>;

/**
 * Result shapes made once per kind and size (every job of a key has the same one): not an object
 * per job, and no hash-table lookup per job either (a fixed record of the kinds).
 */
const shapes: Record<ResultShape['kind'] | 'handed-bytes', ResultShape[]> = {
  bytes: [],
  'handed-bytes': [],
  'ecdsa-verify': [],
  'rsa-verify': [],
  ecdh: [],
};

/** `handed-bytes`: the bytes shape whose result is handed over (see ResultShape). */
function shape(kind: ResultShape['kind'] | 'handed-bytes', size: number): ResultShape {
  const bySize = shapes[kind];
  const made = bySize[size];
  if (made !== undefined) return made;
  const fresh: ResultShape = Object.freeze(
    kind === 'bytes'
      ? { kind, length: size }
      : kind === 'handed-bytes'
        ? { kind: 'bytes', length: size, handOver: true }
        : kind === 'rsa-verify'
          ? { kind, modulusBytes: size }
          : { kind, fieldBytes: size },
  );
  bySize[size] = fresh;
  return fresh;
}

function curveId(curve: EcCurveName): number {
  if (curve === 'P-256' || curve === 'P-384') return CURVE_ID[curve];
  throw new UnsupportedError(`the ring card has no ${curve}`);
}

/**
 * Fill `area` (one operand area) for `request`. Throws a typed error for a
 * request the card cannot take; the caller completes the job with it. A descriptor encoding is
 * one object filled again by the next call (no object per job): read it before encoding another.
 */
export function encodeRequest(request: PrimitiveRequest, area: Uint8Array, slots: KeySlotManager): Encoding {
  switch (request.op) {
    case 'rsa-public': {
      const k = Math.ceil(request.key.bits / 8);
      if (request.input.length !== k)
        throw new InvalidInputError(`RSA input must be ${k} bytes (the modulus length)`);
      if (request.key.e >= request.key.n)
        throw new InvalidInputError('RSA public exponent must be below the modulus');
      area.set(request.input, AREA.SRC);
      area.set(rsaKeyOperand(request.key, k), AREA.KEY);
      return descriptor(OPCODE.RSA_PUBLIC, undefined, k, 2 * k, k, k, shape('bytes', k));
    }
    case 'rsa-private': {
      const k = Math.ceil(request.key.bits / 8);
      if (request.input.length !== k)
        throw new InvalidInputError(`RSA input must be ${k} bytes (the modulus length)`);
      const slot = slots.acquire(request.key);
      if (slot === undefined) return { kind: 'no-key-slot' };
      area.set(request.input, AREA.SRC);
      const result = shape(request.takesBuffer === true ? 'handed-bytes' : 'bytes', k);
      return descriptor(OPCODE.RSA_PRIVATE_CRT, slot, k, 0, k, k, result);
    }
    case 'ecdsa-sign': {
      const id = curveId(request.key.curve);
      const L = CURVES[request.key.curve].bytes;
      checkDigest(request.digest);
      const slot = slots.acquire(request.key);
      if (slot === undefined) return { kind: 'no-key-slot' };
      area.set(request.digest, AREA.SRC);
      return descriptor(OPCODE.ECDSA_SIGN, slot, request.digest.length, 0, 2 * L, id, shape('bytes', 2 * L));
    }
    case 'ecdsa-verify': {
      const id = curveId(request.key.curve);
      const curve = CURVES[request.key.curve];
      const L = curve.bytes;
      checkDigest(request.digest);
      // A signature of the wrong size, or with r or s outside 1 … n − 1, cannot verify: no need
      // to ask the card (which would say so with witness flags NOT_COMPUTED).
      if (!p1363InRange(curve, request.signature)) return NOT_COMPUTED;
      area.set(request.signature, AREA.SRC);
      area.set(request.digest, AREA.SRC + 2 * L);
      area.set(ecKeyOperand(request.key, L), AREA.KEY);
      const srcLen = 2 * L + request.digest.length;
      return descriptor(OPCODE.ECDSA_VERIFY, undefined, srcLen, 2 * L, 2 + L, id, shape('ecdsa-verify', L));
    }
    case 'rsa-verify': {
      const k = Math.ceil(request.key.bits / 8);
      if (request.key.e >= request.key.n)
        throw new InvalidInputError('RSA public exponent must be below the modulus');
      const block = paddingBlock(request.padding, request.digest);
      // A signature that is not a k-byte representative < n, or a salt no modulus has room for, does not verify.
      if (
        block === undefined ||
        request.signature.length !== k ||
        bytesToBigint(request.signature) >= request.key.n
      )
        return { kind: 'immediate', value: false };
      area.set(block, AREA.SRC);
      area.set(request.signature, AREA.SRC + RSA_PAD_BLOCK_BYTES);
      area.set(request.digest, AREA.SRC + RSA_PAD_BLOCK_BYTES + k);
      area.set(rsaKeyOperand(request.key, k), AREA.KEY);
      const srcLen = RSA_PAD_BLOCK_BYTES + k + request.digest.length;
      return descriptor(OPCODE.RSA_VERIFY, undefined, srcLen, 2 * k, 1 + k, k, shape('rsa-verify', k));
    }
    case 'ecdh': {
      const id = curveId(request.key.curve);
      if (request.peer.curve !== request.key.curve)
        throw new InvalidInputError('ECDH peer key is on another curve');
      const L = CURVES[request.key.curve].bytes;
      const slot = slots.acquire(request.key);
      if (slot === undefined) return { kind: 'no-key-slot' };
      area.set(bigintToBytes(request.peer.x, L), AREA.SRC);
      area.set(bigintToBytes(request.peer.y, L), AREA.SRC + L);
      return descriptor(OPCODE.ECDH, slot, 2 * L, 0, 2 * L, id, shape('ecdh', L));
    }
    default:
      throw new UnsupportedError(`the ring card does not do ${request.op}`);
  }
}

/** An ECDSA verification answered without the card: false, and no point was computed (one shared, frozen answer). */
const NOT_COMPUTED: Encoding = Object.freeze({
  kind: 'immediate',
  value: false,
  witness: Object.freeze({ kind: 'ecdsa-verify', x: null }),
} as const);

/**
 * Public keys in the card's byte format, made once per key (§4.3: an inline key is n ‖ e, k
 * bytes each, or x ‖ y, L bytes each): a job copies them instead of converting bigints each
 * time. Kept with the values they were made from, so a key whose values differ is encoded again.
 */
const keyOperands = new WeakMap<
  object,
  { readonly a: bigint; readonly b: bigint; readonly bytes: Uint8Array }
>();

function keyOperand(key: object, a: bigint, b: bigint, length: number): Uint8Array {
  const known = keyOperands.get(key);
  if (known !== undefined && known.a === a && known.b === b && known.bytes.length === 2 * length)
    return known.bytes;
  const bytes = new Uint8Array(2 * length);
  bytes.set(bigintToBytes(a, length), 0);
  bytes.set(bigintToBytes(b, length), length);
  keyOperands.set(key, { a, b, bytes });
  return bytes;
}

const rsaKeyOperand = (key: RsaPublicKeyMaterial, k: number) => keyOperand(key, key.n, key.e, k);
const ecKeyOperand = (key: EcPublicKeyMaterial, L: number) => keyOperand(key, key.x, key.y, L);

/**
 * `RSA_VERIFY`'s 8-byte padding block (§4.3); undefined for a PSS salt too long for the field
 * (no modulus the card takes has room for it: the signature does not verify). Throws for a
 * digest that is not its hash's length.
 */
function paddingBlock(padding: RsaSignaturePadding, digest: Uint8Array): Uint8Array | undefined {
  const block = new Uint8Array(RSA_PAD_BLOCK_BYTES);
  block[1] = HASH_ID[padding.hash];
  if (digest.length !== HASH_BYTES[padding.hash])
    throw new InvalidInputError(`RSA digest must be the ${padding.hash} length`);
  if (padding.scheme === 'pkcs1-v1_5') {
    block[0] = RSA_PAD_SCHEME.PKCS1_V15;
    return block;
  }
  if (!Number.isInteger(padding.saltLength) || padding.saltLength < 0)
    throw new InvalidInputError('PSS salt length must be a non-negative integer');
  if (padding.saltLength > 0xffff) return undefined;
  block[0] = RSA_PAD_SCHEME.PSS;
  block[2] = HASH_ID[padding.mgfHash];
  block[4] = padding.saltLength >>> 8;
  block[5] = padding.saltLength & 0xff;
  return block;
}

function checkDigest(digest: Uint8Array): void {
  if (digest.length < 1 || digest.length > 64)
    throw new InvalidInputError('ECDSA digest must be 1 to 64 bytes');
}

/** The descriptor encoding `encodeRequest` returns: one object, filled again by each call. */
const scratch: { -readonly [F in keyof DescriptorEncoding]: DescriptorEncoding[F] } = {
  kind: 'descriptor',
  opcode: 0,
  flags: 0,
  keySlot: 0,
  srcLen: 0,
  keyLen: 0,
  dstLen: 0,
  param: 0,
  result: shape('bytes', 0),
  pinned: undefined,
};

function descriptor(
  opcode: number,
  slot: number | undefined,
  srcLen: number,
  keyLen: number,
  dstLen: number,
  param: number,
  result: ResultShape,
): Encoding {
  // Operands were written within the area; the card must not be told to read or write past it.
  if (srcLen > AREA.SRC_BYTES || keyLen > AREA.KEY_BYTES || dstLen > AREA.DST_BYTES)
    throw new UnsupportedError("the request does not fit the ring card driver's operand area");
  const e = scratch;
  e.opcode = opcode;
  e.flags = slot === undefined ? 0 : DESC_FLAG_KEY_SLOT;
  e.keySlot = slot ?? 0;
  e.srcLen = srcLen;
  e.keyLen = keyLen;
  e.dstLen = dstLen;
  e.param = param;
  e.result = result;
  e.pinned = slot;
  return e;
}

/** A 64-bit bus address; the hot path passes numbers (exact below 2^53), so no bigint is made per descriptor. */
export type BusAddress = bigint | number;

/** Every field of a descriptor (§4.1). */
export interface DescriptorFields {
  readonly opcode: number;
  readonly flags: number;
  readonly keySlot: number;
  readonly tag: number;
  readonly srcAddr: BusAddress;
  readonly srcLen: number;
  readonly dstAddr: BusAddress;
  readonly dstLen: number;
  readonly keyAddr: BusAddress;
  readonly keyLen: number;
  readonly param: number;
}

const TWO_32 = 2 ** 32;

function setBusAddress(view: DataView, offset: number, address: BusAddress): void {
  if (typeof address === 'bigint') {
    view.setBigUint64(offset, address, true);
    return;
  }
  // Integers below 2^53: ToUint32 (>>> 0) is the low word exactly, and of the quotient the high one.
  view.setUint32(offset, address >>> 0, true);
  view.setUint32(offset + 4, (address / TWO_32) >>> 0, true);
}

/** Write a whole 64-byte descriptor at `offset` (reserved fields zero). */
export function writeDescriptor(view: DataView, offset: number, d: DescriptorFields): void {
  writeHead(view, offset, d.opcode, d.flags, d.keySlot, d.tag, d.param);
  writeOperand(view, offset + DESC.SRC_ADDR, d.srcAddr, d.srcLen);
  writeOperand(view, offset + DESC.DST_ADDR, d.dstAddr, d.dstLen);
  writeOperand(view, offset + DESC.KEY_ADDR, d.keyAddr, d.keyLen);
}

/**
 * The descriptor of `e` for the operand area at bus address `area` (AREA's layout), written at
 * `offset`: the queue pair's hot path, with no fields object per job.
 */
export function writeAreaDescriptor(
  view: DataView,
  offset: number,
  e: DescriptorEncoding,
  tag: number,
  area: number,
): void {
  writeHead(view, offset, e.opcode, e.flags, e.keySlot, tag, e.param);
  writeOperand(view, offset + DESC.SRC_ADDR, area + AREA.SRC, e.srcLen);
  writeOperand(view, offset + DESC.DST_ADDR, area + AREA.DST, e.dstLen);
  writeOperand(view, offset + DESC.KEY_ADDR, e.keyLen > 0 ? area + AREA.KEY : 0, e.keyLen);
}

/** Opcode, flags, key slot, tag and param; every reserved field zero. */
function writeHead(
  view: DataView,
  offset: number,
  opcode: number,
  flags: number,
  keySlot: number,
  tag: number,
  param: number,
): void {
  view.setUint8(offset + DESC.OPCODE, opcode);
  view.setUint8(offset + DESC.FLAGS, flags);
  view.setUint16(offset + DESC.KEY_SLOT, keySlot, true);
  view.setUint32(offset + DESC.TAG, tag >>> 0, true);
  view.setUint32(offset + 0x14, 0, true);
  view.setUint32(offset + 0x24, 0, true);
  view.setUint16(offset + DESC.PARAM, param, true);
  view.setUint16(offset + 0x36, 0, true);
  view.setUint32(offset + 0x38, 0, true);
  view.setUint32(offset + 0x3c, 0, true);
}

/** An operand's 64-bit address and, after it, its 32-bit length (src, dst and key alike, §4.1). */
function writeOperand(view: DataView, at: number, address: BusAddress, length: number): void {
  setBusAddress(view, at, address);
  view.setUint32(at + 8, length, true);
}

/** A completion's fields (§4.2). */
export interface CompletionFields {
  readonly tag: number;
  readonly status: number;
  readonly phase: number;
  readonly resultLength: number;
  readonly sqHead: number;
}

/** The phase bit of the completion at `offset` (read first: it says whether the rest is new). */
export function completionPhase(view: DataView, offset: number): number {
  return view.getUint16(offset + CQE.FLAGS, true) & COMPLETION_PHASE;
}

/** The completion at `offset`, field by field (the queue pair's hot path reads the fields it needs directly). */
export function readCompletion(view: DataView, offset: number): CompletionFields {
  return {
    tag: view.getUint32(offset + CQE.TAG, true),
    status: view.getUint16(offset + CQE.STATUS, true),
    phase: completionPhase(view, offset),
    resultLength: view.getUint32(offset + CQE.RESULT_LEN, true),
    sqHead: view.getUint32(offset + CQE.SQ_HEAD, true),
  };
}

/** The `result_len` an OK completion of this shape must report (§4.3). */
export function resultLength(shape: ResultShape): number {
  switch (shape.kind) {
    case 'bytes':
      return shape.length;
    case 'ecdsa-verify':
      return 2 + shape.fieldBytes;
    case 'rsa-verify':
      return 1 + shape.modulusBytes;
    case 'ecdh':
      return 2 * shape.fieldBytes;
  }
}

/**
 * A decoded result with its witness, or why the card's answer is nonsense (the caller
 * takes the card out of service). Whether a verdict agrees with its witness is not
 * judged here: that is a computation fault, for the host's integrity gate to catch.
 */
export type DecodedResult =
  | { readonly ok: true; readonly value: PrimitiveValue; readonly witness?: Witness }
  | { readonly ok: false; readonly reason: string };

function verdictOf(byte: number): boolean | undefined {
  return byte === 1 ? true : byte === 0 ? false : undefined;
}

/** The primitive's value from the `resultLength(shape)` result bytes at `offset` of `operands`. */
export function decodeResult(shape: ResultShape, operands: Uint8Array, offset: number): DecodedResult {
  switch (shape.kind) {
    case 'bytes':
      return { ok: true, value: operands.slice(offset, offset + shape.length) };
    case 'ecdh': {
      const L = shape.fieldBytes;
      const y = bytesToBigint(operands.subarray(offset + L, offset + 2 * L));
      return { ok: true, value: operands.slice(offset, offset + L), witness: { kind: 'ecdh-point', y } };
    }
    case 'ecdsa-verify':
    case 'rsa-verify': {
      const verdict = verdictOf(operands[offset]!);
      if (verdict === undefined) {
        return { ok: false, reason: `verify verdict 0x${operands[offset]!.toString(16)} is neither 0 nor 1` };
      }
      if (shape.kind === 'rsa-verify') {
        const opened = operands.slice(offset + 1, offset + 1 + shape.modulusBytes);
        return { ok: true, value: verdict, witness: { kind: 'rsa-verify', opened } };
      }
      const flags = operands[offset + 1]!;
      if (flags === WITNESS_FLAGS.POINT) {
        // Bytes, not a bigint: the gate compares them with r as bytes (a copy: the area is reused).
        const x = operands.slice(offset + 2, offset + 2 + shape.fieldBytes);
        return { ok: true, value: verdict, witness: { kind: 'ecdsa-verify', x } };
      }
      if (flags === WITNESS_FLAGS.INFINITY || flags === WITNESS_FLAGS.NOT_COMPUTED) {
        return { ok: true, value: verdict, witness: { kind: 'ecdsa-verify', x: null } };
      }
      return { ok: false, reason: `ECDSA witness flags 0x${flags.toString(16)} are not defined` };
    }
  }
}
