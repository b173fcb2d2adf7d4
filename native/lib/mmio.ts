/**
 * A mapped window (a BAR, a VFIO region, a file or memfd standing in for one) as
 * the Mmio contract: every access goes through the addon, which checks bounds and
 * alignment and makes exactly one load or store of the stated width.
 *
 * Why not a DataView over the mapping: V8 may split a DataView access into byte
 * loads (its generic builtin does), merge or drop repeated loads of the same
 * address in optimised code (it assumes nobody else writes an ArrayBuffer), and
 * it never fences. Device registers need one access of the exact width per call,
 * every time (a read can clear a status bit). So the register path pays a napi
 * call; `buffer()` exposes the bytes zero-copy only for plain memory (DMA buffers).
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { addon } from './addon.js';
import type { Mmio } from './contracts.js';

export interface MapOptions {
  /** Byte offset of the window in the file (default 0; need not be page-aligned). */
  readonly offset?: number;
  /** Window size in bytes (default: the file's size minus offset). */
  readonly size?: number;
  /** Map for writing too (default true). */
  readonly writable?: boolean;
  /** Pin the pages (mlock): DMA memory (default false). */
  readonly lock?: boolean;
  /** Fault every page in now (default false). */
  readonly populate?: boolean;
}

const unmapLeaked = new FinalizationRegistry<number>((handle) => {
  addon().unmap(handle);
});

export class MappedWindow implements Mmio {
  readonly size: number;
  readonly #handle: number;
  #closed = false;

  /** Takes ownership of a region handle from the addon's mapFd. */
  constructor(handle: number, size: number) {
    this.#handle = handle;
    this.size = size;
    unmapLeaked.register(this, handle, this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  read8(offset: number): number {
    return addon().read8(this.#handle, offset);
  }
  read16(offset: number): number {
    return addon().read16(this.#handle, offset);
  }
  read32(offset: number): number {
    return addon().read32(this.#handle, offset);
  }
  read64(offset: number): bigint {
    return addon().read64(this.#handle, offset);
  }
  write8(offset: number, value: number): void {
    addon().write8(this.#handle, offset, value);
  }
  write16(offset: number, value: number): void {
    addon().write16(this.#handle, offset, value);
  }
  write32(offset: number, value: number): void {
    addon().write32(this.#handle, offset, value);
  }
  write64(offset: number, value: bigint): void {
    addon().write64(this.#handle, offset, value);
  }
  readBlock(offset: number, target: Uint8Array): void {
    addon().readBlock(this.#handle, offset, target);
  }
  writeBlock(offset: number, source: Uint8Array): void {
    addon().writeBlock(this.#handle, offset, source);
  }
  barrier(): void {
    addon().barrier();
  }

  /**
   * The window's bytes as an ArrayBuffer, zero-copy, detached when the window closes.
   * For plain memory only (DMA buffers, test files): see the module comment.
   */
  buffer(): ArrayBuffer {
    return addon().buffer(this.#handle);
  }

  /**
   * A new ArrayBuffer over `length` bytes at `offset`, zero-copy, detached when the
   * window closes or by detachArrayBuffer(). The DMA pool makes one per buffer.
   */
  view(offset: number, length: number): ArrayBuffer {
    return addon().view(this.#handle, offset, length);
  }

  /**
   * True once an access raised SIGBUS (the mapped file shrank under us, or the
   * device's memory went away): every register access then throws an Error with
   * code ERR_PCIE_MMIO_GONE, and reads through buffer() views return zeros.
   */
  get broken(): boolean {
    return !this.#closed && addon().regionBroken(this.#handle);
  }

  /** The virtual address of byte 0 (for /proc/self/pagemap). */
  address(): bigint {
    return addon().address(this.#handle);
  }

  /** The addon's handle, for VFIO DMA mapping. */
  get handle(): number {
    if (this.#closed) throw new Error('mapping used after close');
    return this.#handle;
  }

  /** Unmap. A second close throws: it means two owners think they hold the window. */
  close(): void {
    if (this.#closed) throw new Error('mapping closed twice');
    this.#closed = true;
    unmapLeaked.unregister(this);
    addon().unmap(this.#handle);
  }
}

/**
 * Detach an ArrayBuffer made by MappedWindow.buffer()/view(): every typed array over
 * it becomes empty (length 0), so no reference to it can reach the memory any more.
 */
export function detachArrayBuffer(arrayBuffer: ArrayBuffer): boolean {
  return addon().detach(arrayBuffer);
}

function flagsOf(options: MapOptions): number {
  return (options.writable === false ? 0 : 1) | (options.lock ? 2 : 0) | (options.populate ? 4 : 0);
}

/** Map a window of an open file descriptor; the caller keeps (and may close) the fd. */
export function mapFd(fd: number, options: MapOptions = {}): MappedWindow {
  const offset = options.offset ?? 0;
  const size = options.size ?? fstatSync(fd).size - offset;
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new RangeError(`cannot map ${size} bytes at offset ${offset} of fd ${fd}`);
  const handle = addon().mapFd(fd, offset, size, flagsOf(options));
  return new MappedWindow(handle, size);
}

/** Map a window of a file (a sysfs resourceN, a test's stand-in BAR). */
export function mapFile(path: string, options: MapOptions = {}): MappedWindow {
  const fd = openSync(path, options.writable === false ? 'r' : 'r+');
  try {
    return mapFd(fd, options);
  } finally {
    closeSync(fd);
  }
}
