import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addon } from '../lib/addon.js';
import { type MappedWindow, mapFile } from '../lib/index.js';
import { requireAddon, tempDir } from './helpers.js';

const SIZE = 8192;
let tmp: { dir: string; cleanup(): void };
let barPath: string;

beforeAll(() => {
  requireAddon();
  tmp = tempDir('pcie-mmio-bar-');
  barPath = join(tmp.dir, 'bar0');
});
afterAll(() => tmp.cleanup());

function freshBar(): MappedWindow {
  writeFileSync(barPath, Buffer.alloc(SIZE));
  return mapFile(barPath);
}

describe('a file mapped as a BAR', () => {
  it('writes land at their offset with their width, little-endian', () => {
    const bar = freshBar();
    bar.write8(1, 0xab);
    bar.write16(2, 0x1234);
    bar.write32(4, 0xdeadbeef);
    bar.write64(8, 0x0102030405060708n);
    bar.write32(16, -1); // two's complement
    bar.write32(20, 2 ** 32 + 5); // modulo 2^32
    const bytes = readFileSync(barPath);
    expect([...bytes.subarray(0, 24)]).toEqual([
      0x00, 0xab, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0xff,
      0xff, 0xff, 0xff, 0x05, 0x00, 0x00, 0x00,
    ]);
    expect(bytes.subarray(24).every((b) => b === 0)).toBe(true);
    bar.close();
  });

  it('reads see bytes written to the file, at every width', () => {
    const bar = freshBar();
    const pattern = Buffer.alloc(SIZE);
    for (let i = 0; i < SIZE; i++) pattern[i] = (i * 37 + 11) & 0xff;
    writeFileSync(barPath, pattern);
    for (const offset of [0, 8, 4096, SIZE - 8]) {
      expect(bar.read8(offset + 3)).toBe(pattern.readUInt8(offset + 3));
      expect(bar.read16(offset + 2)).toBe(pattern.readUInt16LE(offset + 2));
      expect(bar.read32(offset + 4)).toBe(pattern.readUInt32LE(offset + 4));
      expect(bar.read64(offset)).toBe(pattern.readBigUInt64LE(offset));
    }
    bar.close();
  });

  it('copies blocks both ways, aligned and not', () => {
    const bar = freshBar();
    const block = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
    bar.writeBlock(128, block);
    bar.writeBlock(301, block.subarray(0, 7));
    const file = readFileSync(barPath);
    expect([...file.subarray(128, 192)]).toEqual([...block]);
    expect([...file.subarray(301, 308)]).toEqual([...block.subarray(0, 7)]);
    const back = new Uint8Array(64);
    bar.readBlock(128, back);
    expect(back).toEqual(block);
    const odd = new Uint8Array(7);
    bar.readBlock(301, odd);
    expect([...odd]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    bar.barrier();
    bar.close();
  });

  it('maps a window at an unaligned file offset', () => {
    const pattern = Buffer.alloc(SIZE);
    pattern.writeUInt32LE(0xcafef00d, 4096 + 104);
    writeFileSync(barPath, pattern);
    const window = mapFile(barPath, { offset: 4096 + 100, size: 64 });
    expect(window.size).toBe(64);
    expect(window.read32(4)).toBe(0xcafef00d);
    window.close();
  });

  it('rejects out-of-range and misaligned accesses with a RangeError', () => {
    const bar = freshBar();
    const bad: [string, () => unknown][] = [
      ['past the end', () => bar.read32(SIZE)],
      ['straddling the end', () => bar.read64(SIZE - 4)],
      ['negative', () => bar.read8(-1)],
      ['fractional', () => bar.read8(1.5)],
      ['NaN', () => bar.read16(Number.NaN)],
      ['infinite', () => bar.write8(Number.POSITIVE_INFINITY, 0)],
      ['huge', () => bar.write32(2 ** 60, 0)],
      ['unaligned 16', () => bar.read16(1)],
      ['unaligned 32', () => bar.write32(2, 0)],
      ['unaligned 64', () => bar.write64(4, 0n)],
      ['block past the end', () => bar.readBlock(SIZE - 2, new Uint8Array(4))],
      ['block at a negative offset', () => bar.writeBlock(-4, new Uint8Array(4))],
    ];
    for (const [what, access] of bad) expect(access, what).toThrow(RangeError);
    expect(() => bar.write64(0, 1 as unknown as bigint)).toThrow(TypeError);
    expect(() => bar.write32(0, 'x' as unknown as number)).toThrow(TypeError);
    // The addon itself called with (handle, offset) and no value: refused, nothing written.
    const raw = addon() as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(() => raw.write32!(bar.handle, 0)).toThrow(TypeError);
    expect(() => raw.write64!(bar.handle, 8)).toThrow(TypeError);
    expect(() => bar.readBlock(0, [1, 2] as unknown as Uint8Array)).toThrow(TypeError);
    expect(readFileSync(barPath).every((b) => b === 0)).toBe(true);
    bar.close();
  });

  it('refuses writes to a read-only mapping', () => {
    const bar = freshBar();
    bar.close();
    const ro = mapFile(barPath, { writable: false });
    expect(ro.read32(0)).toBe(0);
    expect(() => ro.write32(0, 1)).toThrow(/read-only/);
    expect(() => ro.writeBlock(0, new Uint8Array(4))).toThrow(/read-only/);
    ro.close();
  });

  it('refuses a window larger than the file (which would fault past its end)', () => {
    writeFileSync(barPath, Buffer.alloc(100));
    expect(() => mapFile(barPath, { size: 8192 })).toThrow(RangeError);
    expect(() => mapFile(barPath, { size: -1 })).toThrow(RangeError);
    expect(() => mapFile(barPath, { offset: 200, size: 4 })).toThrow(RangeError);
  });

  it('throws an Error on any use after close and on a second close', () => {
    const bar = freshBar();
    const buffer = bar.buffer();
    const view = new Uint8Array(buffer);
    bar.close();
    expect(() => bar.read32(0)).toThrow(/after close/);
    expect(() => bar.write8(0, 1)).toThrow(/after close/);
    expect(() => bar.readBlock(0, new Uint8Array(4))).toThrow(/after close/);
    expect(() => bar.buffer()).toThrow(/after close/);
    expect(() => bar.close()).toThrow(/closed twice/);
    // the zero-copy view was detached, not left pointing at unmapped memory
    expect(buffer.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(view[0]).toBeUndefined();
  });

  it('gives a stale handle no access to a later mapping in the same slot', () => {
    const first = freshBar();
    first.close();
    const second = freshBar();
    second.write32(0, 7);
    expect(() => first.read32(0)).toThrow(/after close/);
    expect(second.read32(0)).toBe(7);
    second.close();
  });
});
