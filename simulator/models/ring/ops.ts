/**
 * The PKR-1's operations (datasheet §4.3) on a decoded descriptor: operand
 * checks, the engine's computation, the result. Reads operands by DMA; the
 * caller writes the result and the completion.
 */

import { below, bigintToBytes, bytesToBigint } from '../../../core/driver/bytes.js';
import { CURVES, type CurveParams } from '../../../core/driver/curves.js';
import { constantTimeEqual } from '../../../core/encoding/bytes.js';
import { emsaPkcs1v15Encode } from '../../../core/encoding/emsa-pkcs1v15.js';
import { emsaPssEncode, emsaPssVerify, pssMaxSaltLength } from '../../../core/encoding/emsa-pss.js';
import { HASH_BYTES, type HashName } from '../../../core/encoding/hashes.js';
import type { EngineMode } from '../../engines.js';
import type { ModelHost } from '../../model.js';
import { type EcSlotKey, ecdsaVerify, pointOnCurve, type RsaSlotKey, rsaPublic } from '../../pk-math.js';
import {
  CURVE_BY_ID,
  DESC,
  DESC_FLAG_KEY_SLOT,
  HASH_BY_ID,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  OPCODE,
  RSA_PAD_BLOCK_BYTES,
  RSA_PAD_SCHEME,
  STATUS,
  WITNESS_FLAGS,
} from './registers.js';

export interface Descriptor {
  readonly opcode: number;
  readonly flags: number;
  readonly keySlot: number;
  readonly tag: number;
  /** Bus addresses as numbers (lo + hi·2^32): exact below 2^53, and anything above is outside the arena. */
  readonly srcAddr: number;
  readonly srcLen: number;
  readonly dstAddr: number;
  readonly dstLen: number;
  readonly keyAddr: number;
  readonly keyLen: number;
  readonly param: number;
  /** Whether every reserved field is zero. */
  readonly reservedClear: boolean;
}

const TWO_32 = 2 ** 32;

/** A little-endian 64-bit bus address as a number. */
function u64(v: DataView, at: number): number {
  return v.getUint32(at, true) + v.getUint32(at + 4, true) * TWO_32;
}

/** Decode the 64-byte descriptor at `offset` of `v` in place (no copy of the entry). */
export function decodeDescriptor(v: DataView, offset: number): Descriptor {
  const reservedClear =
    v.getUint32(offset + 0x14, true) === 0 &&
    v.getUint32(offset + 0x24, true) === 0 &&
    v.getUint16(offset + 0x36, true) === 0 &&
    v.getUint32(offset + 0x38, true) === 0 &&
    v.getUint32(offset + 0x3c, true) === 0;
  return {
    opcode: v.getUint8(offset + DESC.OPCODE),
    flags: v.getUint8(offset + DESC.FLAGS),
    keySlot: v.getUint16(offset + DESC.KEY_SLOT, true),
    tag: v.getUint32(offset + DESC.TAG, true),
    srcAddr: u64(v, offset + DESC.SRC_ADDR),
    srcLen: v.getUint32(offset + DESC.SRC_LEN, true),
    dstAddr: u64(v, offset + DESC.DST_ADDR),
    dstLen: v.getUint32(offset + DESC.DST_LEN, true),
    keyAddr: u64(v, offset + DESC.KEY_ADDR),
    keyLen: v.getUint32(offset + DESC.KEY_LEN, true),
    param: v.getUint16(offset + DESC.PARAM, true),
    reservedClear,
  };
}

/** A copy of device-visible memory (the card latches what it fetched); DmaFault outside the arena. */
function read(host: ModelHost, busAddress: number, length: number): Uint8Array {
  const at = host.dma.offsetOf(busAddress, length);
  return host.dma.arena.slice(at, at + length);
}

/** The null and timed engines' fixed results: all zero, one shared read-only array per length. */
const zeros = new Map<number, Uint8Array>();
function zeroResult(length: number): Uint8Array {
  let result = zeros.get(length);
  if (result === undefined) {
    result = new Uint8Array(length);
    zeros.set(length, result);
  }
  return result;
}

export type SlotKey = RsaSlotKey | EcSlotKey;

/**
 * What a result is, for the `corrupt` fault: an RSA-CRT result (faulted in one CRT half),
 * a verification (verdict byte, then its witness), or anything else (any bit).
 */
export type ResultKind = 'rsa-private' | 'verify' | 'other';

export type OpOutcome =
  | { readonly status: typeof STATUS.OK; readonly result: Uint8Array; readonly kind: ResultKind }
  | { readonly status: Exclude<(typeof STATUS)[keyof typeof STATUS], 0> };

const fail = (status: Exclude<(typeof STATUS)[keyof typeof STATUS], 0>): OpOutcome => ({ status });
const ok = (result: Uint8Array, kind: ResultKind = 'other'): OpOutcome => ({
  status: STATUS.OK,
  result,
  kind,
});

/** An `ECDSA_VERIFY` result (§4.4): verdict ‖ witness flags ‖ x. */
function ecdsaResult(L: number, valid: boolean, flags: number, x: bigint): Uint8Array {
  const out = new Uint8Array(2 + L);
  out[0] = valid ? 1 : 0;
  out[1] = flags;
  if (flags === WITNESS_FLAGS.POINT) out.set(bigintToBytes(x, L), 2);
  return out;
}

/** The null and timed engines' `ECDSA_VERIFY` result: "valid", its witness x = r (copied from `src` at `at`, not converted). */
function nullVerifyResult(L: number, src: Uint8Array, at: number): Uint8Array {
  const out = new Uint8Array(2 + L);
  out[0] = 1;
  out[1] = WITNESS_FLAGS.POINT;
  out.set(src.subarray(at, at + L), 2);
  return out;
}

/**
 * The last public key found on the curve, per curve, as the bytes the card fetched: a card
 * verifying under one key again and again validates it once (a hardware card keeps such a
 * check in its key cache; here it spares two bigint conversions and a curve equation per job).
 */
const lastValidKey = new Map<string, Uint8Array>();

/** Whether the `length` key bytes at `at` of `bytes` (x ‖ y) are a point on the curve. */
function knownOnCurve(curve: CurveParams, bytes: Uint8Array, at: number, length: number): boolean {
  const last = lastValidKey.get(curve.name);
  if (last !== undefined && last.length === length) {
    let same = true;
    for (let i = 0; i < length && same; i++) same = last[i] === bytes[at + i];
    if (same) return true;
  }
  const key = bytes.slice(at, at + length); // latched: the check and the key kept are the same bytes
  const L = length >> 1;
  if (!pointOnCurve(curve, bytesToBigint(key.subarray(0, L)), bytesToBigint(key.subarray(L)))) return false;
  lastValidKey.set(curve.name, key);
  return true;
}

/** Each slot key's modulus as k big-endian bytes, made when the key is first used. */
const moduli = new WeakMap<RsaSlotKey, Uint8Array>();

function modulusBytes(key: RsaSlotKey): Uint8Array {
  let n = moduli.get(key);
  if (n === undefined) {
    n = bigintToBytes(key.n, key.k);
    moduli.set(key, n);
  }
  return n;
}

/** An `RSA_VERIFY` result (§4.4): verdict ‖ s^e mod n. */
function rsaVerifyResult(valid: boolean, opened: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + opened.length);
  out[0] = valid ? 1 : 0;
  out.set(opened, 1);
  return out;
}

/** The generator as x ‖ y: what the null engine's ECDH returns (a point on the curve, as the host checks). */
function generatorResult(curve: CurveParams): Uint8Array {
  const out = new Uint8Array(2 * curve.bytes);
  out.set(bigintToBytes(curve.gx, curve.bytes), 0);
  out.set(bigintToBytes(curve.gy, curve.bytes), curve.bytes);
  return out;
}

/** A parsed `RSA_VERIFY` padding block (§4.3). */
interface RsaPadding {
  readonly scheme: 'pkcs1-v1_5' | 'pss';
  readonly hash: HashName;
  readonly mgfHash: HashName;
  readonly saltLength: number;
}

/** The padding block's fields, or undefined when it is malformed (BAD_DESCRIPTOR). */
function rsaPadding(block: Uint8Array): RsaPadding | undefined {
  const hash = HASH_BY_ID[block[1] as keyof typeof HASH_BY_ID];
  if (hash === undefined || block[3] !== 0 || block[6] !== 0 || block[7] !== 0) return undefined;
  const saltLength = (block[4]! << 8) | block[5]!;
  if (block[0] === RSA_PAD_SCHEME.PKCS1_V15) {
    if (block[2] !== 0 || saltLength !== 0) return undefined;
    return { scheme: 'pkcs1-v1_5', hash, mgfHash: hash, saltLength: 0 };
  }
  if (block[0] !== RSA_PAD_SCHEME.PSS) return undefined;
  const mgfHash = HASH_BY_ID[block[2] as keyof typeof HASH_BY_ID];
  if (mgfHash === undefined) return undefined;
  return { scheme: 'pss', hash, mgfHash, saltLength };
}

/** Whether the k-byte `em` (s^e mod n) is a valid encoding of `digest` under `padding`. */
function encodingValid(padding: RsaPadding, digest: Uint8Array, em: Uint8Array, modBits: number): boolean {
  if (padding.scheme === 'pkcs1-v1_5') {
    try {
      return constantTimeEqual(em, emsaPkcs1v15Encode(padding.hash, digest, em.length));
    } catch {
      return false; // the modulus is too short for this hash: nothing verifies
    }
  }
  if (padding.saltLength > pssMaxSaltLength(padding.hash, modBits)) return false;
  return emsaPssVerify(padding.hash, digest, em, modBits, padding.saltLength, padding.mgfHash);
}

/** The null engine's `RSA_VERIFY` EM: a valid encoding of the digest (no modular exponentiation). */
function nullEncoding(padding: RsaPadding, digest: Uint8Array, k: number, modBits: number): Uint8Array {
  try {
    if (padding.scheme === 'pkcs1-v1_5') return emsaPkcs1v15Encode(padding.hash, digest, k);
    const em = emsaPssEncode(padding.hash, digest, modBits, padding.saltLength, undefined, padding.mgfHash);
    const out = new Uint8Array(k);
    out.set(em, k - em.length);
    return out;
  } catch {
    return new Uint8Array(k);
  }
}

/** The RSA public key (n ‖ e, `k` bytes each) a descriptor names, or the status that refuses its size. */
function publicKeyOf(
  host: ModelHost,
  d: Descriptor,
  k: number,
): { n: bigint; e: bigint; bits: number } | OpOutcome {
  const key = read(host, d.keyAddr, d.keyLen);
  const n = bytesToBigint(key.subarray(0, k));
  const e = bytesToBigint(key.subarray(k));
  const bits = n.toString(2).length;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) return fail(STATUS.UNSUPPORTED);
  if (Math.ceil(bits / 8) !== k) return fail(STATUS.BAD_DESCRIPTOR);
  return { n, e, bits };
}

function curveOf(param: number) {
  const name = CURVE_BY_ID[param as keyof typeof CURVE_BY_ID];
  return name === undefined ? undefined : CURVES[name];
}

/**
 * Execute one descriptor. `mode` null/timed gives the fixed result of the right
 * size after the same checks (to measure the host side alone; shared arrays: never
 * modify a result, copy it). Throws DmaFault
 * when an operand address is outside host memory.
 */
export function executeDescriptor(
  d: Descriptor,
  host: ModelHost,
  slots: ReadonlyMap<number, SlotKey>,
  mode: EngineMode,
): OpOutcome {
  if (!d.reservedClear || (d.flags & ~DESC_FLAG_KEY_SLOT) !== 0) return fail(STATUS.BAD_DESCRIPTOR);
  const real = mode === 'real';
  const usesSlot = (d.flags & DESC_FLAG_KEY_SLOT) !== 0;
  switch (d.opcode) {
    case OPCODE.NOP:
      return ok(zeroResult(0));
    case OPCODE.RSA_PUBLIC: {
      const k = d.param;
      if (usesSlot || d.keyLen !== 2 * k || d.srcLen !== k || d.dstLen < k)
        return fail(STATUS.BAD_DESCRIPTOR);
      const pk = publicKeyOf(host, d, k);
      if (!('n' in pk)) return pk;
      const { n, e } = pk;
      const x = bytesToBigint(read(host, d.srcAddr, k));
      if ((n & 1n) === 0n || e < 1n || x >= n) return fail(STATUS.INVALID_OPERAND);
      return ok(real ? rsaPublic(n, e, x, k) : zeroResult(k));
    }
    case OPCODE.RSA_PRIVATE_CRT: {
      const key = usesSlot ? slots.get(d.keySlot) : undefined;
      if (!usesSlot) return fail(STATUS.BAD_DESCRIPTOR);
      if (key?.kind !== 'rsa') return fail(STATUS.KEY_SLOT_EMPTY);
      const k = key.k;
      if (d.param !== k || d.srcLen !== k || d.dstLen < k) return fail(STATUS.BAD_DESCRIPTOR);
      // x < n compared on the bytes (no bigint per operation); a real engine latches its copy first.
      const arena = host.dma.arena;
      const at = host.dma.offsetOf(d.srcAddr, k);
      const x = real ? arena.slice(at, at + k) : arena;
      if (!below(modulusBytes(key), x, real ? 0 : at)) return fail(STATUS.INVALID_OPERAND);
      return ok(real ? key.private(x) : zeroResult(k), 'rsa-private');
    }
    case OPCODE.ECDSA_SIGN: {
      const curve = curveOf(d.param);
      if (curve === undefined) return fail(STATUS.UNSUPPORTED);
      if (!usesSlot || d.srcLen < 1 || d.srcLen > 64 || d.dstLen < 2 * curve.bytes)
        return fail(STATUS.BAD_DESCRIPTOR);
      const key = slots.get(d.keySlot);
      if (key?.kind !== 'ec' || key.curve.name !== curve.name) return fail(STATUS.KEY_SLOT_EMPTY);
      if (!real) {
        host.dma.offsetOf(d.srcAddr, d.srcLen); // the digest is still fetched: a bad address faults
        return ok(zeroResult(2 * curve.bytes));
      }
      return ok(key.sign(read(host, d.srcAddr, d.srcLen)));
    }
    case OPCODE.ECDSA_VERIFY: {
      const curve = curveOf(d.param);
      if (curve === undefined) return fail(STATUS.UNSUPPORTED);
      const L = curve.bytes;
      const digestLen = d.srcLen - 2 * L;
      if (usesSlot || d.keyLen !== 2 * L || digestLen < 1 || digestLen > 64 || d.dstLen < 2 + L) {
        return fail(STATUS.BAD_DESCRIPTOR);
      }
      // A real engine latches its copy of the key and checks that; null/timed engines compute
      // nothing from the operands and read them in place (no copies per operation).
      const arena = host.dma.arena;
      const keyAt = host.dma.offsetOf(d.keyAddr, 2 * L);
      const key = real ? arena.slice(keyAt, keyAt + 2 * L) : arena;
      if (!knownOnCurve(curve, key, real ? 0 : keyAt, 2 * L)) return fail(STATUS.INVALID_OPERAND);
      // null/timed: "valid", with r as its witness (consistent, so the host's check passes).
      if (!real) return ok(nullVerifyResult(L, arena, host.dma.offsetOf(d.srcAddr, d.srcLen)), 'verify');
      const src = read(host, d.srcAddr, d.srcLen);
      const qx = bytesToBigint(key.subarray(0, L));
      const qy = bytesToBigint(key.subarray(L));
      const r = bytesToBigint(src.subarray(0, L));
      const s = bytesToBigint(src.subarray(L, 2 * L));
      const v = ecdsaVerify(curve, qx, qy, src.subarray(2 * L), r, s);
      if (v.kind === 'point') return ok(ecdsaResult(L, v.valid, WITNESS_FLAGS.POINT, v.x), 'verify');
      const flags = v.kind === 'infinity' ? WITNESS_FLAGS.INFINITY : WITNESS_FLAGS.NOT_COMPUTED;
      return ok(ecdsaResult(L, false, flags, 0n), 'verify');
    }
    case OPCODE.ECDH: {
      const curve = curveOf(d.param);
      if (curve === undefined) return fail(STATUS.UNSUPPORTED);
      const L = curve.bytes;
      if (!usesSlot || d.srcLen !== 2 * L || d.dstLen < 2 * L) return fail(STATUS.BAD_DESCRIPTOR);
      const key = slots.get(d.keySlot);
      if (key?.kind !== 'ec' || key.curve.name !== curve.name) return fail(STATUS.KEY_SLOT_EMPTY);
      const peer = read(host, d.srcAddr, 2 * L);
      const px = bytesToBigint(peer.subarray(0, L));
      const py = bytesToBigint(peer.subarray(L));
      if (!pointOnCurve(curve, px, py)) return fail(STATUS.INVALID_OPERAND);
      return ok(real ? key.ecdh(px, py) : generatorResult(curve));
    }
    case OPCODE.RSA_VERIFY: {
      const k = d.param;
      if (usesSlot || d.keyLen !== 2 * k || d.dstLen < 1 + k || d.srcLen <= RSA_PAD_BLOCK_BYTES + k)
        return fail(STATUS.BAD_DESCRIPTOR);
      const src = read(host, d.srcAddr, d.srcLen);
      const padding = rsaPadding(src.subarray(0, RSA_PAD_BLOCK_BYTES));
      const digest = src.subarray(RSA_PAD_BLOCK_BYTES + k);
      if (padding === undefined || digest.length !== HASH_BYTES[padding.hash])
        return fail(STATUS.BAD_DESCRIPTOR);
      const pk = publicKeyOf(host, d, k);
      if (!('n' in pk)) return pk;
      const { n, e, bits } = pk;
      const sig = bytesToBigint(src.subarray(RSA_PAD_BLOCK_BYTES, RSA_PAD_BLOCK_BYTES + k));
      if ((n & 1n) === 0n || e < 1n || sig >= n) return fail(STATUS.INVALID_OPERAND);
      if (!real) return ok(rsaVerifyResult(true, nullEncoding(padding, digest, k, bits)), 'verify');
      const opened = rsaPublic(n, e, sig, k);
      return ok(rsaVerifyResult(encodingValid(padding, digest, opened, bits), opened), 'verify');
    }
    default:
      return fail(STATUS.INVALID_OPCODE);
  }
}
