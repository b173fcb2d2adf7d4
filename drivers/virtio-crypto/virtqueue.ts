/**
 * A split virtqueue (VIRTIO 1.2 §2.7) in one DMA buffer: descriptor table,
 * available ring (driver → device) and used ring (device → driver). The driver
 * publishes heads in the available ring and makes them visible with one index
 * update after a barrier; it trusts nothing the device writes in the used ring
 * without checking it against what it has outstanding.
 */

import type { DmaBuffer } from '../../core/platform/index.js';
import { DESC_SIZE } from './registers.js';

export interface UsedElement {
  /** The head descriptor index of the finished chain. */
  readonly id: number;
  /** Bytes the device wrote into the chain's device-writable buffers. */
  readonly length: number;
}

/** The bytes a ring of `size` entries takes, with the used ring 4-aligned (§2.7 alignment table). */
export function ringBytes(size: number): number {
  return usedOffset(size) + 6 + 8 * size;
}

function usedOffset(size: number): number {
  const availEnd = size * DESC_SIZE + 6 + 2 * size;
  return (availEnd + 3) & ~3;
}

/** Thrown when the used ring says something impossible; the device goes out of service. */
export class UsedRingViolation extends Error {}

export class SplitVirtqueue {
  readonly descAddress: bigint;
  readonly availAddress: bigint;
  readonly usedAddress: bigint;
  readonly #view: DataView;
  readonly #availOffset: number;
  readonly #usedOffset: number;
  #availIdx = 0;
  #lastUsedIdx = 0;
  /** Chains published and not yet returned. */
  #outstanding = 0;

  constructor(
    /** Queue index on the device. */
    readonly index: number,
    /** Entries (a power of two). */
    readonly size: number,
    private readonly memory: DmaBuffer,
    /** Orders DMA writes before later writes (Mmio.barrier). */
    private readonly barrier: () => void,
  ) {
    if (memory.size < ringBytes(size)) throw new RangeError('virtqueue memory too small for its ring');
    this.#view = new DataView(memory.bytes.buffer, memory.bytes.byteOffset, ringBytes(size));
    this.#availOffset = size * DESC_SIZE;
    this.#usedOffset = usedOffset(size);
    this.descAddress = memory.busAddress;
    this.availAddress = memory.busAddress + BigInt(this.#availOffset);
    this.usedAddress = memory.busAddress + BigInt(this.#usedOffset);
  }

  get outstanding(): number {
    return this.#outstanding;
  }

  /** Fill descriptor `i`. `next` is used only with the NEXT flag. */
  setDescriptor(i: number, address: bigint, length: number, flags: number, next = 0): void {
    const at = i * DESC_SIZE;
    this.#view.setBigUint64(at, address, true);
    this.#view.setUint32(at + 8, length, true);
    this.#view.setUint16(at + 12, flags, true);
    this.#view.setUint16(at + 14, next, true);
  }

  /** Publish chains by their heads: ring entries first, then (after a barrier) the index the device reads. */
  publish(heads: readonly number[]): void {
    if (heads.length === 0) return;
    for (const head of heads) {
      this.#view.setUint16(this.#availOffset + 4 + 2 * (this.#availIdx % this.size), head, true);
      this.#availIdx = (this.#availIdx + 1) & 0xffff;
    }
    this.barrier();
    this.#view.setUint16(this.#availOffset + 2, this.#availIdx, true);
    this.#outstanding += heads.length;
  }

  /** Whether the device has returned a chain not yet taken. */
  hasUsed(): boolean {
    return this.#view.getUint16(this.#usedOffset + 2, true) !== this.#lastUsedIdx;
  }

  /** The next returned chain, or undefined. Throws UsedRingViolation if the device returned more than was outstanding. */
  takeUsed(): UsedElement | undefined {
    const deviceIdx = this.#view.getUint16(this.#usedOffset + 2, true);
    if (deviceIdx === this.#lastUsedIdx) return undefined;
    const ahead = (deviceIdx - this.#lastUsedIdx) & 0xffff;
    if (ahead > this.#outstanding)
      throw new UsedRingViolation(
        `queue ${this.index}: the device returned ${ahead} chains with ${this.#outstanding} outstanding`,
      );
    const at = this.#usedOffset + 4 + 8 * (this.#lastUsedIdx % this.size);
    const element = { id: this.#view.getUint32(at, true), length: this.#view.getUint32(at + 4, true) };
    this.#lastUsedIdx = (this.#lastUsedIdx + 1) & 0xffff;
    this.#outstanding--;
    return element;
  }

  /** Forget everything (after a device reset the device starts from index 0 again). */
  clear(): void {
    this.memory.bytes.fill(0, 0, ringBytes(this.size));
    this.#availIdx = 0;
    this.#lastUsedIdx = 0;
    this.#outstanding = 0;
  }
}
