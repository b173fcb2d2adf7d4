/**
 * Byte-string helpers every layer uses: big-endian bigint ↔ bytes as every
 * device boundary needs them, concatenation, constant-time comparison, hex.
 * Ground floor: imports only core/driver/errors.
 */

import { InvalidInputError } from '../driver/errors.js';

/** a XOR b into a new array (equal lengths). */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The parts one after another in a new array. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Equality whose running time depends only on the lengths, not on where the first difference is. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * A copy made by handOverCopy: the mark is its class and a field in the object, not an entry in a
 * WeakSet (256 bytes copied, marked and taken: 652-712 ns of main thread against 877-1376 with a
 * WeakSet's add and delete, 1,020 alive). Its slices, subarrays and maps are plain Uint8Arrays
 * (species): what someone makes of it is theirs.
 */
class HandedOverCopy extends Uint8Array {
  static get [Symbol.species](): Uint8ArrayConstructor {
    return Uint8Array;
  }

  /** Not yet taken by ownedBuffer. */
  #given = true;

  /** The copy's own buffer, once (it covers it exactly: made by the constructor); undefined for anything else. */
  static take(bytes: Uint8Array): ArrayBuffer | undefined {
    if (!(#given in bytes) || !bytes.#given) return undefined;
    bytes.#given = false;
    return bytes.buffer as ArrayBuffer;
  }
}

/**
 * A copy of `source[start, end)` in an array of its own, handed over: its maker (a driver copying a
 * result out of its DMA area) keeps no reference to it and never writes it again, so subtle may
 * return its buffer as the caller's ArrayBuffer. Above 64 bytes its buffer is off V8's heap from the
 * start, and ownedBuffer returns it with no copy; at 64 bytes or fewer the bytes live on V8's
 * heap until the taker reads `.buffer`.
 */
export function handOverCopy(source: Uint8Array, start: number, end: number): Uint8Array {
  const out = new HandedOverCopy(end - start);
  out.set(source.subarray(start, end));
  return out;
}

/**
 * The bytes as an ArrayBuffer of exactly their length that nobody else holds: a handOverCopy's own
 * buffer (no copy: the RSA-2048 signature's 256 bytes were the third off-heap allocation of every
 * sign), else a fresh copy. A copy is taken once: a second call on it copies, so two callers never
 * share one buffer.
 */
export function ownedBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = HandedOverCopy.take(bytes);
  if (copy !== undefined) return copy;
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

/** Four lowercase hex digits (PCI vendor and device ids). */
export function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** Lowercase hex of the bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The bytes of a hex string (even length; no prefix). */
export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * The unsigned big-endian bytes of `value`, left-padded with zeros to exactly `length` bytes.
 *
 * @category Driver contracts
 */
export function bigintToBytes(value: bigint, length: number): Uint8Array {
  if (value < 0n) throw new InvalidInputError('cannot encode a negative integer');
  const out = new Uint8Array(length);
  if (value === 0n) return out;
  // Through hex, in native code: shifting a bigint a byte at a time makes a new bigint per byte
  // (quadratic in the length: 64 kB of garbage for one 2048-bit value).
  const hex = value.toString(16);
  const bytes = (hex.length + 1) >> 1;
  if (bytes > length) throw new InvalidInputError(`integer does not fit in ${length} bytes`);
  out.set(Buffer.from(hex.length & 1 ? `0${hex}` : hex, 'hex'), length - bytes);
  return out;
}

/**
 * The unsigned big-endian integer in `bytes` (empty = 0).
 *
 * @category Driver contracts
 */
export function bytesToBigint(bytes: Uint8Array): bigint {
  const length = bytes.length;
  // A field element or a scalar (up to 64 bytes, a whole number of 64-bit words: every gated
  // ECDSA verify converts two): eight bytes at a time, 0.22 against 0.36 µs through hex for 32
  // bytes. Longer values through hex, in native code (a shift per word grows with the length).
  if (length <= 64 && (length & 7) === 0 && length > 0) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, length);
    let value = view.getBigUint64(0);
    for (let i = 8; i < length; i += 8) value = (value << 64n) | view.getBigUint64(i);
    return value;
  }
  return length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`);
}

/**
 * The unsigned big-endian integer in the `length` bytes of `bytes` from `at`, read six bytes
 * (48 bits, exact in a Number) at a time: no subarray, no DataView and so no `.buffer`. A small
 * typed array made by copying (a signature `subtle` copied, a result a driver sliced: 64 bytes
 * or less) keeps its bytes on V8's heap until something asks for its buffer, which then moves
 * them into a new ArrayBuffer; bytesToBigint's DataView asks. For a scalar of such an array this
 * costs 0.31 against 0.55-0.94 us (32 bytes, a micro-probe at load 9-12); for bytes already in
 * an ArrayBuffer bytesToBigint is quicker (0.23 against 0.31 us).
 */
export function bytesToBigintAt(bytes: Uint8Array, at: number, length: number): bigint {
  let value = 0n;
  let i = at;
  const end = at + length;
  const head = length % 6;
  if (head > 0) {
    let word = 0;
    for (; i < at + head; i++) word = word * 256 + bytes[i]!;
    value = BigInt(word);
  }
  for (; i < end; i += 6) {
    const word =
      bytes[i]! * 0x10000000000 +
      bytes[i + 1]! * 0x100000000 +
      bytes[i + 2]! * 0x1000000 +
      ((bytes[i + 3]! << 16) | (bytes[i + 4]! << 8) | bytes[i + 5]!);
    value = (value << 48n) | BigInt(word);
  }
  return value;
}

/**
 * Byte length needed for the unsigned value (at least 1).
 *
 * @category Driver contracts
 */
export function byteLength(value: bigint): number {
  return Math.max(1, Math.ceil(value.toString(16).length / 2));
}
