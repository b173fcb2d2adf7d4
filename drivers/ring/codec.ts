/** Descriptor and completion codecs (docs/hardware/ring-card.md §4.1, §4.2): fixed-size, little-endian. */

import { COMPLETION_BYTES, COMPLETION_PHASE, DESCRIPTOR_BYTES } from './registers.js';

export interface DescriptorFields {
  readonly opcode: number;
  readonly flags: number;
  readonly keySlot: number;
  readonly tag: number;
  readonly srcAddr: bigint;
  readonly srcLen: number;
  readonly dstAddr: bigint;
  readonly dstLen: number;
  readonly keyAddr: bigint;
  readonly keyLen: number;
  readonly param: number;
}

/** Write a whole 64-byte descriptor at `offset` (reserved fields zero). */
export function encodeDescriptor(view: DataView, offset: number, d: DescriptorFields): void {
  view.setUint8(offset, d.opcode);
  view.setUint8(offset + 0x01, d.flags);
  view.setUint16(offset + 0x02, d.keySlot, true);
  view.setUint32(offset + 0x04, d.tag >>> 0, true);
  view.setBigUint64(offset + 0x08, d.srcAddr, true);
  view.setUint32(offset + 0x10, d.srcLen, true);
  view.setUint32(offset + 0x14, 0, true);
  view.setBigUint64(offset + 0x18, d.dstAddr, true);
  view.setUint32(offset + 0x20, d.dstLen, true);
  view.setUint32(offset + 0x24, 0, true);
  view.setBigUint64(offset + 0x28, d.keyAddr, true);
  view.setUint32(offset + 0x30, d.keyLen, true);
  view.setUint16(offset + 0x34, d.param, true);
  for (let i = 0x36; i < DESCRIPTOR_BYTES; i++) view.setUint8(offset + i, 0);
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
