/**
 * The simulated card's DMA memory: one SharedArrayBuffer arena that the host's
 * buffers are slices of and the model reads and writes by bus address. The host
 * side hands out buffers with a first-fit free list; the device side is
 * bounds-checked like an IOMMU.
 */

import type { DmaAllocateOptions, DmaAllocator, DmaBuffer } from '../core/platform/dma.js';
import { DMA_BUS_BASE } from './control.js';

/** A device access outside the arena (what an IOMMU would block). */
export class DmaFault extends Error {
  readonly busAddress: bigint;
  constructor(busAddress: bigint, length: number) {
    super(`DMA access of ${length} bytes at bus address 0x${busAddress.toString(16)} is outside host memory`);
    this.busAddress = busAddress;
  }
}

interface Extent {
  offset: number;
  size: number;
}

/** Allocation granule: every buffer starts and ends on it (a cache line). */
const GRANULE = 64;

function roundUp(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}

export class ArenaAllocator implements DmaAllocator {
  readonly #arena: SharedArrayBuffer;
  /** Free extents sorted by offset, never adjacent (merged on free). */
  readonly #free: Extent[];
  readonly #live = new Set<ArenaBuffer>();
  #closed = false;

  constructor(arena: SharedArrayBuffer) {
    this.#arena = arena;
    this.#free = [{ offset: 0, size: arena.byteLength - (arena.byteLength % GRANULE) }];
  }

  allocate(size: number, options?: DmaAllocateOptions): DmaBuffer {
    if (this.#closed) throw new Error('DMA allocator is closed');
    if (!Number.isInteger(size) || size <= 0)
      throw new RangeError(`DMA buffer size must be a positive integer, got ${size}`);
    const align = Math.max(options?.align ?? GRANULE, GRANULE);
    if ((align & (align - 1)) !== 0)
      throw new RangeError(`DMA alignment must be a power of two, got ${align}`);
    const want = roundUp(size, GRANULE);
    for (let i = 0; i < this.#free.length; i++) {
      const extent = this.#free[i]!;
      const start = roundUp(extent.offset, align);
      const end = start + want;
      if (end > extent.offset + extent.size) continue;
      // Split the extent into what precedes the buffer and what follows it.
      const before: Extent = { offset: extent.offset, size: start - extent.offset };
      const after: Extent = { offset: end, size: extent.offset + extent.size - end };
      this.#free.splice(i, 1, ...[before, after].filter((e) => e.size > 0));
      const buffer = new ArenaBuffer(this, this.#arena, start, size, want);
      buffer.bytes.fill(0);
      this.#live.add(buffer);
      return buffer;
    }
    throw new RangeError(
      `cannot allocate ${size} bytes of DMA memory (aligned to ${align}); the arena has ${this.#arena.byteLength} bytes — raise the card's arena size (spec option "arena")`,
    );
  }

  /** Bytes currently free (for tests and diagnostics). */
  get freeBytes(): number {
    return this.#free.reduce((sum, e) => sum + e.size, 0);
  }

  release(buffer: ArenaBuffer, offset: number, size: number): void {
    this.#live.delete(buffer);
    let i = 0;
    while (i < this.#free.length && this.#free[i]!.offset < offset) i++;
    this.#free.splice(i, 0, { offset, size });
    // Merge with the neighbours so the free list does not fragment.
    const next = this.#free[i + 1];
    if (next && offset + size === next.offset) {
      this.#free[i]!.size += next.size;
      this.#free.splice(i + 1, 1);
    }
    const prev = this.#free[i - 1];
    if (prev && prev.offset + prev.size === offset) {
      prev.size += this.#free[i]!.size;
      this.#free.splice(i, 1);
    }
  }

  close(): void {
    for (const buffer of [...this.#live]) buffer.free();
    this.#closed = true;
  }
}

class ArenaBuffer implements DmaBuffer {
  readonly busAddress: bigint;
  readonly size: number;
  readonly #owner: ArenaAllocator;
  readonly #offset: number;
  readonly #extent: number;
  #bytes: Uint8Array | undefined;

  constructor(owner: ArenaAllocator, arena: SharedArrayBuffer, offset: number, size: number, extent: number) {
    this.#owner = owner;
    this.#offset = offset;
    this.#extent = extent;
    this.size = size;
    this.busAddress = DMA_BUS_BASE + BigInt(offset);
    this.#bytes = new Uint8Array(arena, offset, size);
  }

  get bytes(): Uint8Array {
    if (this.#bytes === undefined) throw new Error('DMA buffer used after free()');
    return this.#bytes;
  }

  zero(): void {
    this.bytes.fill(0);
  }

  free(): void {
    if (this.#bytes === undefined) throw new Error('DMA buffer freed twice');
    this.#bytes = undefined;
    this.#owner.release(this, this.#offset, this.#extent);
  }
}

/** The arena's first bus address as a number (bus addresses stay far below 2^53). */
const BUS_BASE = Number(DMA_BUS_BASE);

/** The device's view of the arena: bus addresses, bounds-checked. */
export class DeviceDma {
  readonly #bytes: Uint8Array;
  readonly #onFault: () => void;
  /** The whole arena, for models' hot paths (after `offsetOf`): no copy, no bigint. */
  readonly arena: Uint8Array;
  readonly arenaView: DataView;

  constructor(arena: SharedArrayBuffer, onFault: () => void) {
    this.#bytes = new Uint8Array(arena);
    this.arena = this.#bytes;
    this.arenaView = new DataView(arena);
    this.#onFault = onFault;
  }

  /**
   * The arena offset of `length` bytes at bus address `busAddress` given as a number (a 64-bit
   * address read as lo + hi·2^32: one past 2^53 is far outside the arena either way); an access
   * outside the arena counts a DMA fault and throws DmaFault, as `read` and `write` do.
   */
  offsetOf(busAddress: number, length: number): number {
    const offset = busAddress - BUS_BASE;
    if (!(offset >= 0 && length >= 0 && offset + length <= this.#bytes.length)) {
      this.#onFault();
      throw new DmaFault(Number.isInteger(busAddress) ? BigInt(busAddress) : -1n, length);
    }
    return offset;
  }

  #offset(busAddress: bigint, length: number): number {
    const offset = busAddress - DMA_BUS_BASE;
    if (length < 0 || offset < 0n || offset + BigInt(length) > BigInt(this.#bytes.length)) {
      this.#onFault();
      throw new DmaFault(busAddress, length);
    }
    return Number(offset);
  }

  /** A copy of device-visible memory (a card latches what it fetched). */
  read(busAddress: bigint, length: number): Uint8Array {
    const offset = this.#offset(busAddress, length);
    return this.#bytes.slice(offset, offset + length);
  }

  write(busAddress: bigint, data: Uint8Array): void {
    const offset = this.#offset(busAddress, data.length);
    this.#bytes.set(data, offset);
  }
}
