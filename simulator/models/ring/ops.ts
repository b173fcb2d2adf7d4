/**
 * The PKR-1's operations (datasheet §4.3) on a decoded descriptor: operand
 * checks, the engine's computation, the result. Reads operands by DMA; the
 * caller writes the result and the completion.
 */

import { bytesToBigint } from '../../../core/driver/bytes.js';
import { CURVES } from '../../../core/driver/curves.js';
import type { EngineMode } from '../../engines.js';
import type { ModelHost } from '../../model.js';
import { type EcSlotKey, ecdsaVerify, pointOnCurve, type RsaSlotKey, rsaPublic } from '../../pk-math.js';
import {
  CURVE_BY_ID,
  DESC,
  DESC_FLAG_KEY_SLOT,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  OPCODE,
  STATUS,
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
const VALID = Uint8Array.of(1);

export type SlotKey = RsaSlotKey | EcSlotKey;

export type OpOutcome =
  | { readonly status: typeof STATUS.OK; readonly result: Uint8Array; readonly kind: 'rsa-private' | 'other' }
  | { readonly status: Exclude<(typeof STATUS)[keyof typeof STATUS], 0> };

const fail = (status: Exclude<(typeof STATUS)[keyof typeof STATUS], 0>): OpOutcome => ({ status });
const ok = (result: Uint8Array, kind: 'rsa-private' | 'other' = 'other'): OpOutcome => ({
  status: STATUS.OK,
  result,
  kind,
});

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
      const key = read(host, d.keyAddr, d.keyLen);
      const n = bytesToBigint(key.subarray(0, k));
      const e = bytesToBigint(key.subarray(k));
      const bits = n.toString(2).length;
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) return fail(STATUS.UNSUPPORTED);
      if (Math.ceil(bits / 8) !== k) return fail(STATUS.BAD_DESCRIPTOR);
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
      const x = read(host, d.srcAddr, k);
      if (bytesToBigint(x) >= key.n) return fail(STATUS.INVALID_OPERAND);
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
      if (usesSlot || d.keyLen !== 2 * L || digestLen < 1 || digestLen > 64 || d.dstLen < 1) {
        return fail(STATUS.BAD_DESCRIPTOR);
      }
      const key = read(host, d.keyAddr, 2 * L);
      const qx = bytesToBigint(key.subarray(0, L));
      const qy = bytesToBigint(key.subarray(L));
      if (!pointOnCurve(curve, qx, qy)) return fail(STATUS.INVALID_OPERAND);
      const src = read(host, d.srcAddr, d.srcLen);
      if (!real) return ok(VALID);
      const r = bytesToBigint(src.subarray(0, L));
      const s = bytesToBigint(src.subarray(L, 2 * L));
      return ok(Uint8Array.of(ecdsaVerify(curve, qx, qy, src.subarray(2 * L), r, s) ? 1 : 0));
    }
    case OPCODE.ECDH: {
      const curve = curveOf(d.param);
      if (curve === undefined) return fail(STATUS.UNSUPPORTED);
      const L = curve.bytes;
      if (!usesSlot || d.srcLen !== 2 * L || d.dstLen < L) return fail(STATUS.BAD_DESCRIPTOR);
      const key = slots.get(d.keySlot);
      if (key?.kind !== 'ec' || key.curve.name !== curve.name) return fail(STATUS.KEY_SLOT_EMPTY);
      const peer = read(host, d.srcAddr, 2 * L);
      const px = bytesToBigint(peer.subarray(0, L));
      const py = bytesToBigint(peer.subarray(L));
      if (!pointOnCurve(curve, px, py)) return fail(STATUS.INVALID_OPERAND);
      return ok(real ? key.ecdh(px, py) : zeroResult(L));
    }
    default:
      return fail(STATUS.INVALID_OPCODE);
  }
}
