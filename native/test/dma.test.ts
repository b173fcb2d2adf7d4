import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DmaPool,
  hugepageChunks,
  mapFd,
  memfdDmaAllocator,
  PooledDmaBuffer,
  physicalAddress,
} from '../lib/index.js';
import { isRoot, requireAddon } from './helpers.js';

beforeAll(requireAddon);

function fdRange(buffer: unknown): { fd: number; offset: number } {
  if (!(buffer instanceof PooledDmaBuffer) || buffer.fdRange === undefined)
    throw new Error('not a memfd buffer');
  return buffer.fdRange;
}

describe('memfd DMA buffers', () => {
  it('are visible through a second mapping of the same memory, both ways', () => {
    const dma = memfdDmaAllocator();
    const buffer = dma.allocate(300);
    const { fd, offset } = fdRange(buffer);
    const second = mapFd(fd, { offset, size: 300 });
    buffer.bytes.set([1, 2, 3, 4], 0);
    buffer.bytes[299] = 0x5a;
    expect(second.read32(0)).toBe(0x04030201);
    expect(second.read8(299)).toBe(0x5a);
    second.write32(8, 0xa1b2c3d4);
    expect([...buffer.bytes.subarray(8, 12)]).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
    // and through the fd's file, as another process would see it
    expect(readFileSync(`/proc/self/fd/${fd}`).readUInt32LE(offset)).toBe(0x04030201);
    second.close();
    dma.close();
  });

  it('hands out zeroed, aligned, non-overlapping buffers with distinct bus addresses', () => {
    const dma = memfdDmaAllocator({ chunkSize: 64 * 1024 });
    const buffers = [
      dma.allocate(100),
      dma.allocate(64, { align: 4096 }),
      dma.allocate(1),
      dma.allocate(70000),
    ];
    expect(buffers[1]!.busAddress % 4096n).toBe(0n);
    for (const b of buffers) {
      expect(b.busAddress % 64n).toBe(0n);
      expect(b.bytes.every((x) => x === 0)).toBe(true);
      b.bytes.fill(0xee);
    }
    const spans = buffers.map((b) => [b.busAddress, b.busAddress + BigInt(b.size)] as const);
    for (let i = 0; i < spans.length; i++)
      for (let j = i + 1; j < spans.length; j++)
        expect(spans[i]![1] <= spans[j]![0] || spans[j]![1] <= spans[i]![0]).toBe(true);
    // a freed range is reused, and comes back zero-filled
    const first = buffers[0]!;
    const bus = first.busAddress;
    first.free();
    const again = dma.allocate(100);
    expect(again.busAddress).toBe(bus);
    expect(again.bytes.every((x) => x === 0)).toBe(true);
    dma.close();
  });

  it('zero() zeroes the buffer and nothing around it', () => {
    const dma = memfdDmaAllocator();
    const a = dma.allocate(128);
    const b = dma.allocate(128);
    a.bytes.fill(0x11);
    b.bytes.fill(0x22);
    a.zero();
    expect(a.bytes.every((x) => x === 0)).toBe(true);
    expect(b.bytes.every((x) => x === 0x22)).toBe(true);
    dma.close();
  });

  it('makes a second free an Error, and bytes after free an Error', () => {
    const dma = memfdDmaAllocator();
    const buffer = dma.allocate(64);
    buffer.free();
    expect(() => buffer.free()).toThrow(/freed twice/);
    expect(() => buffer.bytes).toThrow(/after free/);
    expect(() => buffer.zero()).toThrow(/after free/);
    dma.close();
  });

  it('rejects bad sizes and alignments with a RangeError', () => {
    const dma = memfdDmaAllocator();
    for (const size of [0, -1, 1.5, Number.NaN, 2 ** 60])
      expect(() => dma.allocate(size), String(size)).toThrow(RangeError);
    for (const align of [0, 3, -64, 2 ** 30])
      expect(() => dma.allocate(64, { align }), String(align)).toThrow(RangeError);
    dma.close();
  });

  it('detaches every view when the allocator closes, and refuses to allocate afterwards', () => {
    const dma = memfdDmaAllocator();
    const buffer = dma.allocate(64);
    const view = buffer.bytes;
    dma.close();
    expect(view.length).toBe(0);
    expect(() => dma.allocate(64)).toThrow(/after close/);
    buffer.free(); // the allocator already took it back: the first free is not an error
    expect(() => buffer.free()).toThrow(/freed twice/);
  });
});

describe('hugepage DMA with pagemap bus addresses (UIO mode)', () => {
  it('gives a locked page a physical address (pagemap)', (ctx) => {
    if (!isRoot) {
      ctx.skip('pagemap reports frame numbers only to root (CAP_SYS_ADMIN); not root here');
      return;
    }
    const dma = memfdDmaAllocator();
    const buffer = dma.allocate(64);
    const { fd, offset } = fdRange(buffer);
    const window = mapFd(fd, { offset, size: 64, lock: true, populate: true });
    const phys = physicalAddress(window.address());
    expect(phys).toBeGreaterThan(0n);
    expect(phys % 4096n).toBe(window.address() % 4096n); // same offset within the page
    window.close();
    dma.close();
  });

  it('allocates from a 2 MiB hugepage', (ctx) => {
    const reserved = Number(readFileSync('/proc/sys/vm/nr_hugepages', 'utf8').trim());
    if (reserved === 0 || !isRoot) {
      ctx.skip(
        `needs reserved 2 MiB hugepages and root (nr_hugepages=${reserved}, root=${isRoot}): ` +
          'echo 4 > /proc/sys/vm/nr_hugepages to run it',
      );
      return;
    }
    const dma = new DmaPool(hugepageChunks());
    const buffer = dma.allocate(4096, { align: 4096 });
    expect(buffer.busAddress % 4096n).toBe(0n);
    buffer.bytes[0] = 1;
    expect(() => dma.allocate(4 * 1024 * 1024)).toThrow(RangeError);
    dma.close();
  });
});
