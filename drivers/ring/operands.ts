/**
 * How each primitive becomes a PKR-1 descriptor (docs/hardware/ring-card.md
 * §4.3): which opcode, which operands go into the job's operand area, and what
 * result the card must return. Each in-flight descriptor owns one fixed
 * operand area in a buffer allocated at probe time.
 */

import {
  bigintToBytes,
  CURVES,
  type EcCurveName,
  InvalidInputError,
  type PrimitiveRequest,
  UnsupportedError,
} from '../../core/driver/index.js';
import type { KeySlotManager } from './key-slots.js';
import { CURVE_ID, DESC_FLAG_KEY_SLOT, OPCODE } from './registers.js';

/** Operand area of one descriptor: src, then an inline key, then the result. */
export const AREA = {
  SRC: 0,
  SRC_BYTES: 512,
  KEY: 512,
  KEY_BYTES: 1024,
  DST: 1536,
  DST_BYTES: 512,
  SIZE: 2048,
} as const;

/** What the card must give back, and how to turn it into the primitive's value. */
export type ResultShape = { readonly kind: 'bytes'; readonly length: number } | { readonly kind: 'verdict' };

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
  /** Answered without the card (e.g. a malformed signature simply does not verify). */
  | { readonly kind: 'immediate'; readonly value: boolean }
  /** Every key slot is pinned by work in flight. */
  | { readonly kind: 'no-key-slot' };

function curveId(curve: EcCurveName): number {
  if (curve === 'P-256' || curve === 'P-384') return CURVE_ID[curve];
  throw new UnsupportedError(`the ring card has no ${curve}`);
}

/**
 * Fill `area` (one operand area) for `request`. Throws a typed error for a
 * request the card cannot take; the caller completes the job with it.
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
      area.set(bigintToBytes(request.key.n, k), AREA.KEY);
      area.set(bigintToBytes(request.key.e, k), AREA.KEY + k);
      return descriptor(OPCODE.RSA_PUBLIC, undefined, k, 2 * k, k, k, { kind: 'bytes', length: k });
    }
    case 'rsa-private': {
      const k = Math.ceil(request.key.bits / 8);
      if (request.input.length !== k)
        throw new InvalidInputError(`RSA input must be ${k} bytes (the modulus length)`);
      const slot = slots.acquire(request.key);
      if (slot === undefined) return { kind: 'no-key-slot' };
      area.set(request.input, AREA.SRC);
      return descriptor(OPCODE.RSA_PRIVATE_CRT, slot, k, 0, k, k, { kind: 'bytes', length: k });
    }
    case 'ecdsa-sign': {
      const id = curveId(request.key.curve);
      const L = CURVES[request.key.curve].bytes;
      checkDigest(request.digest);
      const slot = slots.acquire(request.key);
      if (slot === undefined) return { kind: 'no-key-slot' };
      area.set(request.digest, AREA.SRC);
      return descriptor(OPCODE.ECDSA_SIGN, slot, request.digest.length, 0, 2 * L, id, {
        kind: 'bytes',
        length: 2 * L,
      });
    }
    case 'ecdsa-verify': {
      const id = curveId(request.key.curve);
      const L = CURVES[request.key.curve].bytes;
      checkDigest(request.digest);
      // A signature of the wrong size cannot verify: no need to ask the card.
      if (request.signature.length !== 2 * L) return { kind: 'immediate', value: false };
      area.set(request.signature, AREA.SRC);
      area.set(request.digest, AREA.SRC + 2 * L);
      area.set(bigintToBytes(request.key.x, L), AREA.KEY);
      area.set(bigintToBytes(request.key.y, L), AREA.KEY + L);
      return descriptor(OPCODE.ECDSA_VERIFY, undefined, 2 * L + request.digest.length, 2 * L, 1, id, {
        kind: 'verdict',
      });
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
      return descriptor(OPCODE.ECDH, slot, 2 * L, 0, L, id, { kind: 'bytes', length: L });
    }
    default:
      throw new UnsupportedError(`the ring card does not do ${request.op}`);
  }
}

function checkDigest(digest: Uint8Array): void {
  if (digest.length < 1 || digest.length > 64)
    throw new InvalidInputError('ECDSA digest must be 1 to 64 bytes');
}

function descriptor(
  opcode: number,
  slot: number | undefined,
  srcLen: number,
  keyLen: number,
  dstLen: number,
  param: number,
  result: ResultShape,
): Encoding {
  return {
    kind: 'descriptor',
    opcode,
    flags: slot === undefined ? 0 : DESC_FLAG_KEY_SLOT,
    keySlot: slot ?? 0,
    srcLen,
    keyLen,
    dstLen,
    param,
    result,
    pinned: slot,
  };
}
