/** Descriptor and completion codecs (docs/hardware/ring-card.md §4.1, §4.2): fixed-size, little-endian. */

import { COMPLETION_BYTES, COMPLETION_PHASE, DESCRIPTOR_BYTES } from './registers.js';

/** A 64-bit bus address; the hot path passes numbers (exact below 2^53), so no bigint is made per descriptor. */
export type BusAddress = bigint | number;

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
  view.setUint32(offset, address % TWO_32, true);
  view.setUint32(offset + 4, Math.floor(address / TWO_32), true);
}

/** Write a whole 64-byte descriptor at `offset` (reserved fields zero). */
export function encodeDescriptor(view: DataView, offset: number, d: DescriptorFields): void {
  view.setUint8(offset, d.opcode);
  view.setUint8(offset + 0x01, d.flags);
  view.setUint16(offset + 0x02, d.keySlot, true);
  view.setUint32(offset + 0x04, d.tag >>> 0, true);
  setBusAddress(view, offset + 0x08, d.srcAddr);
  view.setUint32(offset + 0x10, d.srcLen, true);
  view.setUint32(offset + 0x14, 0, true);
  setBusAddress(view, offset + 0x18, d.dstAddr);
  view.setUint32(offset + 0x20, d.dstLen, true);
  view.setUint32(offset + 0x24, 0, true);
  setBusAddress(view, offset + 0x28, d.keyAddr);
  view.setUint32(offset + 0x30, d.keyLen, true);
  view.setUint16(offset + 0x34, d.param, true);
  view.setUint16(offset + 0x36, 0, true);
  view.setUint32(offset + 0x38, 0, true);
  view.setUint32(offset + 0x3c, 0, true);
}

export interface CompletionFields {
  readonly tag: number;
  readonly status: number;
  readonly phase: number;
  readonly resultLength: number;
  readonly sqHead: number;
}

/** The phase bit of the completion at `offset` (read first: it says whether the rest is new). */
export function completionPhase(view: DataView, offset: number): number {
  return view.getUint16(offset + 0x06, true) & COMPLETION_PHASE;
}

/** Byte offsets of a completion's fields (§4.2). */
export const CQE = { TAG: 0x00, STATUS: 0x04, PHASE: 0x06, RESULT_LENGTH: 0x08, SQ_HEAD: 0x0c } as const;

export function decodeCompletion(view: DataView, offset: number): CompletionFields {
  return {
    tag: view.getUint32(offset, true),
    status: view.getUint16(offset + 0x04, true),
    phase: view.getUint16(offset + 0x06, true) & COMPLETION_PHASE,
    resultLength: view.getUint32(offset + 0x08, true),
    sqHead: view.getUint32(offset + 0x0c, true),
  };
}

export { COMPLETION_BYTES, DESCRIPTOR_BYTES };
