/**
 * A minimal DER reader and writer: just the ASN.1 types key containers use
 * (SEQUENCE, INTEGER, OCTET STRING, BIT STRING, OBJECT IDENTIFIER, NULL).
 * node:crypto's KeyObject parses most containers for us; we need our own
 * codec only where it cannot help: multi-prime RSA private keys (otherPrimeInfos)
 * and wrapping raw public points into SubjectPublicKeyInfo.
 *
 * The reader is strict DER: definite lengths in minimal form, no trailing bytes.
 */

import { InvalidKeyError } from '../driver/errors.js';
import { concat } from '../encoding/bytes.js';

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
} as const;

/** One decoded element: its tag and the bytes of its contents. */
export interface DerElement {
  readonly tag: number;
  readonly contents: Uint8Array;
}

/** Reads consecutive elements out of a byte string. */
export class DerReader {
  #offset = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.#offset >= this.bytes.length;
  }

  /** The tag of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.bytes[this.#offset];
  }

  read(expectedTag: number): DerElement {
    const tag = this.bytes[this.#offset];
    if (tag === undefined) throw this.#fail('unexpected end of data');
    if (tag !== expectedTag) throw this.#fail(`expected tag 0x${hex(expectedTag)}, found 0x${hex(tag)}`);
    let pos = this.#offset + 1;
    const first = this.bytes[pos++];
    if (first === undefined) throw this.#fail('truncated length');
    let length = first;
    if (first & 0x80) {
      const count = first & 0x7f;
      if (count === 0 || count > 4) throw this.#fail('unsupported length encoding');
      length = 0;
      for (let i = 0; i < count; i++) {
        const b = this.bytes[pos++];
        if (b === undefined) throw this.#fail('truncated length');
        length = length * 256 + b;
      }
      if (length < 0x80 || (count > 1 && length < 1 << (8 * (count - 1))))
        throw this.#fail('non-minimal length');
    }
    if (pos + length > this.bytes.length) throw this.#fail('length past the end of data');
    this.#offset = pos + length;
    return { tag, contents: this.bytes.subarray(pos, pos + length) };
  }

  /** A non-negative INTEGER as bigint (rejects negative and non-minimal encodings). */
  readUnsignedInteger(): bigint {
    const { contents } = this.read(TAG.integer);
    if (contents.length === 0) throw this.#fail('empty INTEGER');
    if (contents[0]! & 0x80) throw this.#fail('negative INTEGER where a non-negative one is required');
    if (contents.length > 1 && contents[0] === 0 && !(contents[1]! & 0x80))
      throw this.#fail('non-minimal INTEGER');
    let v = 0n;
    for (const b of contents) v = (v << 8n) | BigInt(b);
    return v;
  }

  readSequence(what: string): DerReader {
    return new DerReader(this.read(TAG.sequence).contents, what);
  }

  /** Throws unless every byte was consumed. */
  end(): void {
    if (!this.done) throw this.#fail('trailing data');
  }

  #fail(problem: string): InvalidKeyError {
    return new InvalidKeyError(`malformed ${this.what}: ${problem}`);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encode one element from its tag and contents. */
export function derElement(tag: number, contents: Uint8Array): Uint8Array {
  const length = encodeLength(contents.length);
  const out = new Uint8Array(1 + length.length + contents.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(contents, 1 + length.length);
  return out;
}

export function derSequence(...children: Uint8Array[]): Uint8Array {
  return derElement(TAG.sequence, concat(...children));
}

/** A non-negative INTEGER in minimal form. */
export function derUnsignedInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('derUnsignedInteger takes a non-negative value');
  let hexText = value.toString(16);
  if (hexText.length % 2) hexText = `0${hexText}`;
  let bytes: Uint8Array = Uint8Array.from(Buffer.from(hexText, 'hex'));
  if (bytes[0]! & 0x80) bytes = concat(Uint8Array.of(0), bytes);
  return derElement(TAG.integer, bytes);
}

export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derElement(TAG.octetString, bytes);
}

/** A BIT STRING with no unused bits. */
export function derBitString(bytes: Uint8Array): Uint8Array {
  return derElement(TAG.bitString, concat(Uint8Array.of(0), bytes));
}

export const DER_NULL = Uint8Array.of(TAG.null, 0);

/** An OBJECT IDENTIFIER from its dotted form. */
export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const first = arcs[0]! * 40n + arcs[1]!;
  const out: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    out.push(...groups);
  }
  return derElement(TAG.oid, Uint8Array.from(out));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
