/**
 * p11-kit's RPC message encoding (p11-kit/rpc-message.c), big-endian: the field
 * codec of one message body. A reader that runs past the end, or a length that
 * cannot be right, throws RpcFormatError: the caller closes that connection.
 *
 * CK_ULONG travels as u64. Values a JavaScript number cannot hold exactly (above
 * 2^53) are never valid handles, lengths or mechanism numbers here, so `ulong()`
 * returns them as -1, which matches nothing.
 */

import { attributeValueType } from './attribute-types.js';

/** The frame or message could not be parsed: the connection is closed. */
export class RpcFormatError extends Error {
  override readonly name = 'RpcFormatError';
}

/** A byte array field's NULL (p11_rpc_buffer_add_byte_array with no data). */
const NULL_LENGTH = 0xffff_ffff;
/** p11-kit refuses byte arrays this long or longer. */
const MAX_ARRAY = 0x7fff_ffff;

/** One attribute of an `aA` array: `value` undefined when the client sent it invalid (length −1). */
export interface RpcAttribute {
  readonly type: number;
  /** The client's C length (8 for a CK_ULONG, 1 for a CK_BBOOL, bytes for arrays). */
  readonly length: number;
  readonly value?: AttributeValue;
}

/** An attribute value, by p11-kit's value type of the attribute. */
export type AttributeValue =
  | { readonly kind: 'byte'; readonly value: number }
  | { readonly kind: 'ulong'; readonly value: number }
  | { readonly kind: 'bytes'; readonly value: Uint8Array | null }
  | { readonly kind: 'attributes'; readonly value: readonly RpcAttribute[] }
  | { readonly kind: 'mechanisms'; readonly value: readonly number[] | null };

/** A request buffer field (`fy`/`fu`): the caller's buffer size; 0 asks for the length. */
export type BufferSize = number;

/** An `ay` field: present data, or only a length (a size-query answer, or the client's NULL). */
export type PresentBytes = { readonly data: Uint8Array } | { readonly data: null; readonly length: number };

/** Reads the fields of one message body in order. */
export class RpcReader {
  #at = 0;
  readonly #view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get offset(): number {
    return this.#at;
  }
  get remaining(): number {
    return this.bytes.length - this.#at;
  }
  #need(n: number): number {
    if (n > this.remaining)
      throw new RpcFormatError(`message ends ${n - this.remaining} bytes early at offset ${this.#at}`);
    const at = this.#at;
    this.#at += n;
    return at;
  }
  byte(): number {
    return this.#view.getUint8(this.#need(1));
  }
  u32(): number {
    return this.#view.getUint32(this.#need(4));
  }
  u64(): bigint {
    return this.#view.getBigUint64(this.#need(8));
  }
  /** A CK_ULONG (u64) as a number; -1 if it does not fit exactly. */
  ulong(): number {
    const at = this.#need(8);
    const high = this.#view.getUint32(at);
    // Above 0x1fffff in the high half the value is beyond 2^53 - 1 (read without a bigint).
    return high > 0x1f_ffff ? -1 : high * 0x1_0000_0000 + this.#view.getUint32(at + 4);
  }
  /** Skip `n` bytes (the parameter of a mechanism this server does not decode). */
  skip(n: number): void {
    this.#need(n);
  }
  /** u32 length + bytes; NULL is length 0xFFFFFFFF. */
  byteArray(): Uint8Array | null {
    const length = this.u32();
    if (length === NULL_LENGTH) return null;
    if (length >= MAX_ARRAY) throw new RpcFormatError(`byte array of ${length} bytes`);
    const at = this.#need(length);
    return this.bytes.subarray(at, at + length);
  }
  /** `ay`: u8 present, u32 length, the bytes only if present. */
  presentBytes(): PresentBytes {
    const present = this.byte();
    if (present > 1) throw new RpcFormatError(`presence byte ${present}`);
    if (present === 0) return { data: null, length: this.u32() };
    const data = this.byteArray();
    if (data === null) throw new RpcFormatError('present byte array with a NULL length');
    return { data };
  }
  /** `v`: CK_VERSION. */
  version(): { major: number; minor: number } {
    return { major: this.byte(), minor: this.byte() };
  }
  /** `s`/`z`: a string field (u32 length + bytes), as latin1. */
  string(): string {
    const bytes = this.byteArray();
    return bytes === null ? '' : Buffer.from(bytes).toString('latin1');
  }
  /** `au`: u8 present, u32 count, then count u64s only if present. */
  ulongArray(): number[] | { length: number } {
    const present = this.byte();
    if (present > 1) throw new RpcFormatError(`presence byte ${present}`);
    const count = this.u32();
    if (present === 0) return { length: count };
    if (count > this.remaining / 8) throw new RpcFormatError(`${count} ulongs in a short message`);
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(this.ulong());
    return out;
  }
  /** `fA`: u32 n, then n × (u32 type, u32 buffer length). */
  attributeBuffer(): { type: number; length: number }[] {
    const count = this.u32();
    if (count > this.remaining / 8) throw new RpcFormatError(`${count} attributes in a short message`);
    const out: { type: number; length: number }[] = [];
    for (let i = 0; i < count; i++) out.push({ type: this.u32(), length: this.u32() });
    return out;
  }
  /** `aA`: u32 n, then n attributes (type, validity, C length, value by the type's table). */
  attributeArray(depth = 0): RpcAttribute[] {
    if (depth > 4) throw new RpcFormatError('attribute templates nested too deep');
    const count = this.u32();
    // Each attribute takes at least 5 bytes (type + validity).
    if (count > this.remaining / 5) throw new RpcFormatError(`${count} attributes in a short message`);
    const out: RpcAttribute[] = [];
    for (let i = 0; i < count; i++) out.push(this.#attribute(depth));
    return out;
  }
  #attribute(depth: number): RpcAttribute {
    const type = this.u32();
    const valid = this.byte();
    if (valid > 1) throw new RpcFormatError(`attribute validity byte ${valid}`);
    if (valid === 0) return { type, length: -1 };
    const length = this.u32();
    const value = this.#value(type, depth);
    return { type, length, value };
  }
  #value(type: number, depth: number): AttributeValue {
    switch (attributeValueType(type)) {
      case 'byte':
        return { kind: 'byte', value: this.byte() };
      case 'ulong':
        return { kind: 'ulong', value: this.ulong() };
      case 'attributes':
        return { kind: 'attributes', value: this.attributeArray(depth + 1) };
      case 'mechanisms': {
        const count = this.u32();
        if (count === NULL_LENGTH) return { kind: 'mechanisms', value: null };
        if (count > this.remaining / 8) throw new RpcFormatError(`${count} mechanisms in a short message`);
        const list: number[] = [];
        for (let i = 0; i < count; i++) list.push(this.ulong());
        return { kind: 'mechanisms', value: list };
      }
      case 'date': {
        const date = this.byteArray();
        if (date !== null && date.length !== 0 && date.length !== 8)
          throw new RpcFormatError(`a date of ${date.length} bytes`);
        return { kind: 'bytes', value: date };
      }
      default:
        return { kind: 'bytes', value: this.byteArray() };
    }
  }
}

/** Builds one message body; grows as needed. */
export class RpcWriter {
  // A Buffer from Node's pool (small ones share a slab): a reply per call each allocating its own
  // ArrayBuffer and DataView was most of this codec's cost per signature.
  #buf: Buffer;
  #at = 0;
  /** `capacity`: the bytes expected (the buffer doubles when they are exceeded). */
  constructor(capacity = 256) {
    this.#buf = Buffer.allocUnsafe(capacity);
  }
  #room(n: number): number {
    if (this.#at + n > this.#buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
      this.#buf.copy(next, 0, 0, this.#at);
      this.#buf = next;
    }
    const at = this.#at;
    this.#at += n;
    return at;
  }
  get length(): number {
    return this.#at;
  }
  byte(v: number): this {
    const at = this.#room(1);
    this.#buf[at] = v;
    return this;
  }
  u32(v: number): this {
    const at = this.#room(4);
    this.#buf.writeUInt32BE(v >>> 0, at);
    return this;
  }
  u64(v: number | bigint): this {
    const at = this.#room(8);
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
      // Two u32 halves: no bigint per handle, length or flag word.
      this.#buf.writeUInt32BE(Math.floor(v / 0x1_0000_0000), at);
      this.#buf.writeUInt32BE(v >>> 0, at + 4);
    } else this.#buf.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v)), at);
    return this;
  }
  raw(bytes: Uint8Array): this {
    // #room may replace the buffer: take the offset first.
    const at = this.#room(bytes.length);
    this.#buf.set(bytes, at);
    return this;
  }
  /** u32 length + bytes; null is 0xFFFFFFFF. */
  byteArray(bytes: Uint8Array | null): this {
    if (bytes === null) return this.u32(NULL_LENGTH);
    return this.u32(bytes.length).raw(bytes);
  }
  /** `ay`: the data (present), or only `length` (the needed size, for a size query or a short buffer). */
  presentBytes(value: PresentBytes): this {
    if (value.data === null) return this.byte(0).u32(value.length);
    return this.byte(1).byteArray(value.data);
  }
  version(major: number, minor: number): this {
    return this.byte(major).byte(minor);
  }
  /** `s`: a fixed-length, space-padded CK_UTF8CHAR field (the client checks the length). */
  paddedString(text: string, size: number): this {
    const out = Buffer.alloc(size, 0x20);
    const bytes = Buffer.from(text, 'utf8');
    // Cut on a character boundary so a multi-byte character is never split.
    let n = Math.min(bytes.length, size);
    while (n > 0 && n < bytes.length && (bytes[n]! & 0xc0) === 0x80) n--;
    bytes.copy(out, 0, 0, n);
    return this.byteArray(out);
  }
  /** `au`: the list (present), or only its length (size query / short buffer). */
  ulongArray(value: readonly number[] | { readonly length: number; readonly only: 'length' }): this {
    if (!Array.isArray(value)) return this.byte(0).u32(value.length);
    this.byte(1).u32(value.length);
    for (const v of value as readonly number[]) this.u64(v);
    return this;
  }
  /** One `aA` attribute as a client reads it (see attributes.ts for which values go here). */
  attribute(a: RpcAttribute): this {
    this.u32(a.type);
    if (a.value === undefined) return this.byte(0);
    this.byte(1).u32(a.length);
    const v = a.value;
    switch (v.kind) {
      case 'byte':
        return this.byte(v.value);
      case 'ulong':
        return this.u64(v.value);
      case 'bytes':
        return this.byteArray(v.value);
      case 'attributes':
        this.u32(v.value.length);
        for (const inner of v.value) this.attribute(inner);
        return this;
      case 'mechanisms':
        if (v.value === null) return this.u32(NULL_LENGTH);
        this.u32(v.value.length);
        for (const m of v.value) this.u64(m);
        return this;
    }
  }
  attributeArray(list: readonly RpcAttribute[]): this {
    this.u32(list.length);
    for (const a of list) this.attribute(a);
    return this;
  }
  /** The bytes written (a copy-free view). */
  bytes(): Uint8Array {
    // A plain Uint8Array (not a Buffer) over the bytes: readers of it hand out plain subarrays.
    return new Uint8Array(this.#buf.buffer, this.#buf.byteOffset, this.#at);
  }
}
