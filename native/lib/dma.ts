/**
 * DMA memory: a pool that carves buffers out of large pinned chunks, so drivers
 * allocate at probe time and never per job. Where the chunks come from decides what
 * a bus address is:
 *  - memfdChunks: plain shared memory with synthetic bus addresses (tests, and device
 *    models in another process, which map the chunk's fd);
 *  - hugepageChunks (UIO, no IOMMU): 2 MiB hugepages, physically contiguous, whose
 *    physical address from /proc/self/pagemap IS the bus address. Nothing stands
 *    between the device and all of RAM then: the process trusts the device, and the
 *    device's driver, with the whole machine. Use it only for devices you would trust
 *    with a kernel driver (e.g. a QEMU guest's virtio device); VFIO is the safe path;
 *  - VFIO (vfio.ts): memfd chunks mapped through the IOMMU at IOVAs we choose.
 *
 * Memory lifetime: each buffer has its own ArrayBuffer over its range of the chunk
 * (made by the addon, zero-copy), and `bytes` is a view of it. free() detaches that
 * ArrayBuffer, so every view taken earlier becomes empty before the range is reused.
 * A buffer dropped without free() is returned by a finaliser registered on the
 * ArrayBuffer, not on the buffer object: while any view of it can be reached the
 * range stays leased, and once none can, it is zeroed and reused (a safety net
 * rather than a way of working). Closing the allocator unmaps the chunks, which
 * detaches every view (no access can reach unmapped memory).
 */
import { closeSync } from 'node:fs';
import { addon } from './addon.js';
import type { DmaAllocateOptions, DmaAllocator, DmaBuffer } from './contracts.js';
import { detachArrayBuffer, type MappedWindow, mapFd } from './mmio.js';
import { physicalAddress } from './pagemap.js';

/** One pinned, mapped piece of DMA memory with a contiguous bus range. */
export interface DmaChunk {
  readonly window: MappedWindow;
  readonly busAddress: bigint;
  readonly size: number;
  /** The memfd behind it, while the chunk lives (to map it elsewhere); undefined if none. */
  readonly fd: number | undefined;
  /** Undo whatever made it reachable by the device, unmap, close. */
  release(): void;
}

/** Where a pool gets its chunks. */
export interface ChunkSource {
  /** Size of an ordinary chunk. */
  readonly chunkSize: number;
  /** Largest buffer this source can make contiguous on the bus. */
  readonly maxBuffer: number;
  allocate(size: number): DmaChunk;
}

const MIB2 = 2 * 1024 * 1024;
const PAGE = 4096;

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function memfdChunk(
  name: string,
  size: number,
  hugetlb: boolean,
  busOf: (w: MappedWindow) => bigint,
): DmaChunk {
  const fd = addon().memfd(name, size, hugetlb);
  let window: MappedWindow;
  try {
    window = mapFd(fd, { size, lock: true, populate: true });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  let busAddress: bigint;
  try {
    busAddress = busOf(window);
  } catch (error) {
    window.close();
    closeSync(fd);
    throw error;
  }
  let released = false;
  return {
    window,
    busAddress,
    size,
    get fd() {
      return released ? undefined : fd;
    },
    release() {
      if (released) return;
      released = true;
      window.close();
      closeSync(fd);
    },
  };
}

/**
 * Shared memory with synthetic bus addresses: chunk n covers [busBase + n·span, …).
 * For tests, and for device models in another process (they map `chunk.fd`).
 */
export function memfdChunks(options: { busBase?: bigint; chunkSize?: number } = {}): ChunkSource {
  const chunkSize = options.chunkSize ?? 256 * 1024;
  let next = options.busBase ?? 0x1000_0000n;
  return {
    chunkSize,
    maxBuffer: 1 << 30,
    allocate(size) {
      const bytes = roundUp(size, PAGE);
      const chunk = memfdChunk('pcie-mmio-dma', bytes, false, () => next);
      next += BigInt(roundUp(bytes, MIB2));
      return chunk;
    },
  };
}

/**
 * 2 MiB hugepages with bus address = physical address (UIO, no IOMMU; see the module
 * comment for the trust this implies). Needs reserved hugepages
 * (/proc/sys/vm/nr_hugepages) and CAP_SYS_ADMIN for pagemap frame numbers.
 */
export function hugepageChunks(pagemapPath?: string): ChunkSource {
  return {
    chunkSize: MIB2,
    maxBuffer: MIB2,
    allocate(size) {
      if (size > MIB2)
        throw new RangeError(`a hugepage DMA buffer holds at most 2 MiB, asked for ${size} bytes`);
      try {
        return memfdChunk('pcie-mmio-hugepage', MIB2, true, (w) => physicalAddress(w.address(), pagemapPath));
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ENOMEM' || code === 'EINVAL' || code === 'ENOSPC')
          throw new RangeError(
            'no free 2 MiB hugepage for DMA memory: reserve some with `echo 16 > /proc/sys/vm/nr_hugepages`',
            { cause: error },
          );
        throw error;
      }
    },
  };
}

interface Range {
  start: number;
  end: number;
}

interface PoolChunk {
  readonly chunk: DmaChunk;
  readonly bytes: Uint8Array;
  /** Free ranges, sorted and coalesced. */
  free: Range[];
}

interface Lease {
  readonly home: PoolChunk;
  readonly start: number;
  readonly end: number;
}

/** A DMA buffer of the pool. */
export class PooledDmaBuffer implements DmaBuffer {
  readonly busAddress: bigint;
  readonly size: number;
  readonly #pool: DmaPool;
  readonly #lease: Lease;
  readonly #memory: ArrayBuffer;
  readonly #view: Uint8Array;
  #freed = false;

  /** `memory`: the buffer's own ArrayBuffer over its range (the lease lives as long as it does). */
  constructor(pool: DmaPool, lease: Lease, size: number, memory: ArrayBuffer) {
    this.#pool = pool;
    this.#lease = lease;
    this.size = size;
    this.busAddress = lease.home.chunk.busAddress + BigInt(lease.start);
    this.#memory = memory;
    this.#view = new Uint8Array(memory, 0, size);
  }

  get bytes(): Uint8Array {
    if (this.#freed) throw new Error('DMA buffer used after free');
    return this.#view;
  }

  /** The memfd holding this buffer and the buffer's offset in it (to map it elsewhere). */
  get fdRange(): { fd: number; offset: number } | undefined {
    const fd = this.#lease.home.chunk.fd;
    return fd === undefined || this.#freed ? undefined : { fd, offset: this.#lease.start };
  }

  zero(): void {
    this.bytes.fill(0);
  }

  free(): void {
    if (this.#freed) throw new Error('DMA buffer freed twice');
    this.#freed = true;
    this.#pool.release(this.#lease, this.#memory);
  }
}

/** A DmaAllocator over a ChunkSource. */
export class DmaPool implements DmaAllocator {
  readonly #source: ChunkSource;
  readonly #chunks: PoolChunk[] = [];
  #closed = false;
  // Registered on each buffer's ArrayBuffer (token: its lease): runs only when no
  // view of the buffer's memory can be reached any more.
  readonly #leaked = new FinalizationRegistry<Lease>((lease) => {
    if (this.#closed) return;
    lease.home.bytes.fill(0, lease.start, lease.end);
    this.#giveBack(lease);
  });

  constructor(source: ChunkSource) {
    this.#source = source;
  }

  allocate(size: number, options: DmaAllocateOptions = {}): DmaBuffer {
    if (this.#closed) throw new Error('DMA allocator used after close');
    const align = options.align ?? 64;
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new RangeError(`DMA buffer size must be a positive integer, got ${size}`);
    if (!Number.isSafeInteger(align) || align <= 0 || (align & (align - 1)) !== 0 || align > MIB2)
      throw new RangeError(`DMA alignment must be a power of two up to 2 MiB, got ${align}`);
    if (size > this.#source.maxBuffer)
      throw new RangeError(`DMA buffer of ${size} bytes exceeds this platform's ${this.#source.maxBuffer}`);
    const length = roundUp(size, 64); // whole cache lines: no two buffers share one
    let lease: Lease | undefined;
    for (const home of this.#chunks) {
      lease = this.#carve(home, length, align);
      if (lease) break;
    }
    if (!lease) {
      const chunk = this.#source.allocate(Math.max(this.#source.chunkSize, roundUp(length + align, PAGE)));
      const home: PoolChunk = {
        chunk,
        bytes: new Uint8Array(chunk.window.buffer()),
        free: [{ start: 0, end: chunk.size }],
      };
      this.#chunks.push(home);
      lease = this.#carve(home, length, align);
      if (!lease) throw new RangeError(`DMA chunk too small for ${size} bytes aligned to ${align}`);
    }
    lease.home.bytes.fill(0, lease.start, lease.end);
    const memory = lease.home.chunk.window.view(lease.start, size);
    this.#leaked.register(memory, lease, lease);
    return new PooledDmaBuffer(this, lease, size, memory);
  }

  /** Called by a buffer's free(): cut off every view of it, then reuse its range. */
  release(lease: Lease, memory: ArrayBuffer): void {
    this.#leaked.unregister(lease);
    if (this.#closed) return; // closing unmapped the chunk and detached the views already
    detachArrayBuffer(memory);
    this.#giveBack(lease);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const home of this.#chunks) home.chunk.release();
    this.#chunks.length = 0;
  }

  #carve(home: PoolChunk, length: number, align: number): Lease | undefined {
    const alignN = BigInt(align);
    for (let i = 0; i < home.free.length; i++) {
      const range = home.free[i]!;
      const bus = home.chunk.busAddress + BigInt(range.start);
      const start = range.start + Number((alignN - (bus % alignN)) % alignN);
      const end = start + length;
      if (end > range.end) continue;
      const pieces: Range[] = [];
      if (start > range.start) pieces.push({ start: range.start, end: start });
      if (end < range.end) pieces.push({ start: end, end: range.end });
      home.free.splice(i, 1, ...pieces);
      return { home, start, end };
    }
    return undefined;
  }

  #giveBack(lease: Lease): void {
    const free = lease.home.free;
    let i = 0;
    while (i < free.length && free[i]!.start < lease.start) i++;
    free.splice(i, 0, { start: lease.start, end: lease.end });
    // coalesce with the neighbours
    if (i + 1 < free.length && free[i]!.end === free[i + 1]!.start) {
      free[i]!.end = free[i + 1]!.end;
      free.splice(i + 1, 1);
    }
    if (i > 0 && free[i - 1]!.end === free[i]!.start) {
      free[i - 1]!.end = free[i]!.end;
      free.splice(i, 1);
    }
  }
}

/** A pool of plain shared memory with synthetic bus addresses (tests, out-of-process models). */
export function memfdDmaAllocator(options?: { busBase?: bigint; chunkSize?: number }): DmaPool {
  return new DmaPool(memfdChunks(options));
}

/** An allocator for when the platform has no DMA (sysfs mode): every allocate throws. */
export function noDma(reason: string, makeError: (message: string) => Error): DmaAllocator {
  return {
    allocate() {
      throw makeError(`no DMA memory: ${reason}`);
    },
    close() {},
  };
}
