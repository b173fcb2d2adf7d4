/**
 * core/encoding/bytes handOverCopy: a driver's fresh copy of a result, handed over —
 * ownedBuffer returns its own buffer once, and what anyone makes of it (slices,
 * subarrays, maps) is theirs, not handed over.
 */

import { describe, expect, it } from 'vitest';
import { handOverCopy, ownedBuffer } from '../../core/encoding/bytes.js';

const source = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 7 + 1) & 0xff);

describe('handOverCopy', () => {
  it('copies the range into an array of its own', () => {
    const from = source(600);
    const copy = handOverCopy(from, 100, 356);
    expect(copy).toBeInstanceOf(Uint8Array);
    expect(copy.length).toBe(256);
    expect(copy.byteOffset).toBe(0);
    expect(copy.buffer.byteLength).toBe(256);
    expect(Array.from(copy)).toEqual(Array.from(from.subarray(100, 356)));
    from.fill(0); // the source is the driver's to reuse
    expect(copy[0]).toBe((100 * 7 + 1) & 0xff);
  });

  it('is taken by ownedBuffer without a copy, once', () => {
    for (const length of [256, 64, 1]) {
      const copy = handOverCopy(source(length + 8), 8, 8 + length);
      const first = ownedBuffer(copy);
      expect(first).toBe(copy.buffer);
      expect(first.byteLength).toBe(length);
      const second = ownedBuffer(copy);
      expect(second).not.toBe(first);
      expect(new Uint8Array(second)).toEqual(new Uint8Array(first));
    }
  });

  it('gives plain arrays to whoever slices or maps it: those are copied by ownedBuffer', () => {
    const copy = handOverCopy(source(300), 0, 256);
    for (const made of [copy.slice(), copy.slice(0, 256), copy.map((x) => x), copy.filter(() => true)]) {
      expect(made.constructor).toBe(Uint8Array);
      expect(made.buffer.byteLength).toBe(256);
      expect(ownedBuffer(made)).not.toBe(made.buffer);
    }
    // A view of its buffer does not cover it as taken (and is not marked): copied.
    const view = copy.subarray(0, 256);
    expect(ownedBuffer(view)).not.toBe(copy.buffer);
    // The copy itself is still handed over.
    expect(ownedBuffer(copy)).toBe(copy.buffer);
  });

  it('copies any other array, and a copy out of a SharedArrayBuffer is its own', () => {
    const plain = new Uint8Array(300);
    expect(ownedBuffer(plain)).not.toBe(plain.buffer);
    const shared = new Uint8Array(new SharedArrayBuffer(8)).fill(5);
    const out = ownedBuffer(handOverCopy(shared, 0, 8));
    expect(out).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(out)]).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
  });
});
