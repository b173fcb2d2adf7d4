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
import { TAG } from '../encoding/der.js';

// The writer is ground floor (core/encoding/der.ts, shared with the drivers); re-exported for key-formats' users.
export {
  DER_NULL,
  derBitString,
  derElement,
  derOctetString,
  derOid,
  derSequence,
  derUnsignedInteger,
  TAG,
} from '../encoding/der.js';

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

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
