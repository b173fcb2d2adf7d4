/**
 * One RPC message: `u32 call id`, the signature as a byte array, then the fields.
 * `parseRequest` checks the call's signature against the call table; `Args`
 * reads the arguments and `Reply` writes the reply fields, each checking every
 * field against the signature (a handler that reads or writes out of order is a
 * bug caught here, not a desynchronised stream) and `Args.end` refuses trailing
 * bytes.
 */

import { type CallSpec, ERROR_CALL, servedCall, signatureParts } from './calls.js';
import {
  type BufferSize,
  type PresentBytes,
  type RpcAttribute,
  RpcFormatError,
  RpcReader,
  RpcWriter,
} from './codec.js';

/** A mechanism (`M`): the type and the parameter, decoded for the mechanisms this token uses. */
export type Mechanism =
  | {
      readonly type: number;
      /** A parameter carried as a byte array (NULL for the parameterless mechanisms). */
      readonly kind: 'bytes';
      readonly param: Uint8Array | null;
    }
  | {
      readonly type: number;
      readonly kind: 'pss';
      readonly hashAlg: number;
      readonly mgf: number;
      readonly sLen: number;
    }
  | {
      readonly type: number;
      readonly kind: 'oaep';
      readonly hashAlg: number;
      readonly mgf: number;
      readonly source: number;
      readonly sourceData: Uint8Array | null;
    }
  /** A mechanism whose parameter this server does not decode (skipped; answered MECHANISM_INVALID). */
  | { readonly type: number; readonly kind: 'other' };

/** Mechanisms whose parameter is CK_RSA_PKCS_PSS_PARAMS on the wire (0.26's serializer list). */
const PSS_PARAMS = new Set([0x0d, 0x0e, 0x43, 0x44, 0x45, 0x47]);
const OAEP = 0x09;
/**
 * Mechanisms this token serves without a parameter: p11-kit sends their (NULL)
 * parameter as a byte array. Any other mechanism's parameter is skipped unread.
 */
const PARAMETERLESS = new Set([
  0x1, 0x3, 0x6, 0x40, 0x41, 0x42, 0x46, 0x1041, 0x1042, 0x1043, 0x1044, 0x1045, 0x1046,
]);

/** How each request field is read: `fy`/`fu` carry the caller's buffer size (0: a size query). */
const READERS = {
  u: (r: RpcReader): number => r.ulong(),
  y: (r: RpcReader): number => r.byte(),
  ay: (r: RpcReader): PresentBytes => r.presentBytes(),
  fy: (r: RpcReader): BufferSize => r.u32(),
  fu: (r: RpcReader): BufferSize => r.u32(),
  fA: (r: RpcReader): { type: number; length: number }[] => r.attributeBuffer(),
  aA: (r: RpcReader): RpcAttribute[] => r.attributeArray(),
} as const;

/** How each reply field is written; `s` is a space-padded field of exactly `size` bytes. */
const WRITERS = {
  u: (w: RpcWriter, v: number | bigint) => w.u64(v),
  ay: (w: RpcWriter, v: PresentBytes) => w.presentBytes(v),
  v: (w: RpcWriter, major: number, minor: number) => w.version(major, minor),
  s: (w: RpcWriter, text: string, size: number) => w.paddedString(text, size),
  au: (w: RpcWriter, v: readonly number[] | { readonly length: number; readonly only: 'length' }) =>
    w.ulongArray(v),
  aA: (w: RpcWriter, list: readonly RpcAttribute[]) => w.attributeArray(list),
} as const;

type Tail<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;

/** Each signature's parts, split once (a request and a reply check theirs on every call). */
const PARTS = new Map<string, readonly string[]>();

class Parts {
  #i = 0;
  readonly #parts: readonly string[];
  constructor(
    readonly call: CallSpec,
    signature: string,
  ) {
    let parts = PARTS.get(signature);
    if (parts === undefined) {
      parts = signatureParts(signature);
      PARTS.set(signature, parts);
    }
    this.#parts = parts;
  }
  take(part: string): void {
    const expected = this.#parts[this.#i];
    if (expected !== part)
      throw new Error(`${this.call.name}: field ${this.#i} is "${expected ?? '(none)'}", not "${part}"`);
    this.#i++;
  }
  get complete(): boolean {
    return this.#i === this.#parts.length;
  }
}

/** The arguments of one request, read in signature order. */
export class Args {
  readonly #parts: Parts;
  constructor(
    readonly call: CallSpec,
    readonly reader: RpcReader,
  ) {
    this.#parts = new Parts(call, call.request);
  }
  /** The next field, which must be `part` of the call's signature (mechanisms: `mechanism`). */
  read<P extends keyof typeof READERS>(part: P): ReturnType<(typeof READERS)[P]> {
    this.#parts.take(part);
    return READERS[part](this.reader) as ReturnType<(typeof READERS)[P]>;
  }
  /**
   * `M`. `trailing` is how many bytes the fields after it take (8 for the key
   * handle of `uMu`): a parameter this server does not decode is skipped up to
   * them, so an unknown mechanism is an error reply, not a lost connection.
   */
  mechanism(trailing: number): Mechanism {
    this.#parts.take('M');
    const r = this.reader;
    const type = r.u32();
    // p11-kit's "NULL mechanism": the type 0 with no parameter at all.
    if (type === 0) return { type, kind: 'bytes', param: null };
    if (PSS_PARAMS.has(type))
      return { type, kind: 'pss', hashAlg: r.ulong(), mgf: r.ulong(), sLen: r.ulong() };
    if (type === OAEP)
      return {
        type,
        kind: 'oaep',
        hashAlg: r.ulong(),
        mgf: r.ulong(),
        source: r.ulong(),
        sourceData: r.byteArray(),
      };
    if (PARAMETERLESS.has(type)) return { type, kind: 'bytes', param: r.byteArray() };
    if (r.remaining < trailing) throw new RpcFormatError('mechanism parameter runs past the message');
    r.skip(r.remaining - trailing);
    return { type, kind: 'other' };
  }
  /** Every field read and nothing left over. */
  end(): void {
    if (!this.#parts.complete) throw new Error(`${this.call.name}: not every argument was read`);
    if (this.reader.remaining !== 0)
      throw new RpcFormatError(`${this.call.name}: ${this.reader.remaining} bytes after the last argument`);
  }
}

/** A parsed request: a served call with its arguments, or an unserved call id. */
export type Request = { readonly call: CallSpec; readonly args: Args } | { readonly unserved: number };

/** Parse a request body's call id and signature (checked against the call table). */
export function parseRequest(body: Uint8Array): Request {
  const reader = new RpcReader(body);
  const id = reader.u32();
  const call = servedCall(id);
  if (call === undefined) return { unserved: id };
  const signature = reader.byteArray();
  if (
    signature === null ||
    !Buffer.from(signature.buffer, signature.byteOffset, signature.length).equals(
      signatureBytes(call.request),
    )
  ) {
    const text = signature === null ? '' : Buffer.from(signature).toString('latin1');
    throw new RpcFormatError(`${call.name}: signature "${text}", expected "${call.request}"`);
  }
  return { call, args: new Args(call, reader) };
}

/** Each signature's bytes, made once (every request is checked against one, every reply starts with one). */
const SIGNATURE_BYTES = new Map<string, Buffer>();
function signatureBytes(signature: string): Buffer {
  let bytes = SIGNATURE_BYTES.get(signature);
  if (bytes === undefined) {
    bytes = Buffer.from(signature, 'latin1');
    SIGNATURE_BYTES.set(signature, bytes);
  }
  return bytes;
}

/** Room for the largest common reply (an RSA-4096 signature: 527 bytes) without growing the buffer. */
const REPLY_CAPACITY = 640;

/** The reply to one call, written in its reply signature's order. */
export class Reply {
  readonly #parts: Parts;
  readonly #w = new RpcWriter(REPLY_CAPACITY);
  constructor(readonly call: CallSpec) {
    this.#parts = new Parts(call, call.reply);
    this.#w.u32(call.id).byteArray(signatureBytes(call.reply));
  }
  /** Write the next field, which must be `part` of the reply signature. */
  put<P extends keyof typeof WRITERS>(part: P, ...values: Tail<Parameters<(typeof WRITERS)[P]>>): this {
    this.#parts.take(part);
    (WRITERS[part] as (w: RpcWriter, ...v: unknown[]) => void)(this.#w, ...values);
    return this;
  }
  body(): Uint8Array {
    if (!this.#parts.complete) throw new Error(`${this.call.name}: reply incomplete`);
    return this.#w.bytes();
  }
}

/** An error reply: call id 0, signature `u`, the CK_RV. */
export function errorReply(rv: number): Uint8Array {
  return new Reply(ERROR_CALL).put('u', rv).body();
}
