/**
 * The messages between the calling thread and the pool workers.
 *
 * Keys cross once per worker: a request names its keys by number, and a batch
 * carries the material of the keys that worker has not seen yet (each worker
 * builds and caches its own OpenSSL objects).
 *
 * Requests and results travel packed: a batch is one table of fixed-size
 * records (a Uint32Array) and one byte area holding every byte field, both
 * transferred, not cloned. Structured-cloning one object per job (with a cloned
 * buffer per byte field) was the calling thread's largest cost in RSA
 * verification (~28% of its time in postMessage). Requests with bigint operands
 * (ec-mul) are rare and travel as cloned objects beside the table.
 */

import type { HashName, PrimitiveValue } from '../../core/driver/index.js';
import { PRIMITIVE_OPS } from '../../core/driver/primitives.js';
import type { WireError } from './errors.js';
import type { SyncRequest } from './requests.js';

/** A request with its key objects replaced by key numbers (the cloned form, for ec-mul). */
export type WireRequest = Readonly<Record<string, unknown>> & { readonly op: SyncRequest['op'] };

export interface BatchMessage {
  readonly type: 'batch';
  /** Keys this worker has not seen: [key number, material]. */
  readonly keys: (readonly [number, object])[];
  /** RECORD words per packed job (see PackedBatch). */
  readonly table: ArrayBuffer;
  readonly count: number;
  readonly bytes: ArrayBuffer;
  /** Jobs that do not pack: [sequence number, request]. */
  readonly others: (readonly [number, WireRequest])[];
}

export interface ForgetMessage {
  readonly type: 'forget';
  readonly keys: readonly number[];
}

export type ToWorker = BatchMessage | ForgetMessage;

/** Outcome kinds of a packed result record. */
export const ResultKind = { bytes: 0, true: 1, false: 2, error: 3, value: 4 } as const;

/**
 * Results: per job [sequence number, kind, offset, length] in `table`; a byte
 * result is `bytes[offset, offset+length)`, an error is `errors[offset]`, any
 * other value (an EC point) is `values[offset]`.
 */
export interface ResultsMessage {
  readonly table: ArrayBuffer;
  readonly count: number;
  readonly bytes: ArrayBuffer;
  readonly errors: readonly WireError[];
  readonly values: readonly PrimitiveValue[];
}

export const RESULT_WORDS = 4;

/** Ops that pack: every primitive but ec-mul and keygen, in PRIMITIVE_OPS order; the index is the op's code in the table. */
type PackedOp = Exclude<SyncRequest['op'], 'ec-mul'>;
const PACKED_OPS: readonly PackedOp[] = PRIMITIVE_OPS.filter(
  (op): op is PackedOp => op !== 'ec-mul' && op !== 'keygen',
);
const OP_CODE = new Map<string, number>(PACKED_OPS.map((op, i) => [op, i]));

const HASHES: readonly HashName[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
const HASH_CODE = new Map<string, number>(HASHES.map((h, i) => [h, i]));
const SCHEMES = ['pkcs1-v1_5', 'pss', 'oaep'] as const;
const SCHEME_CODE = new Map<string, number>(SCHEMES.map((s, i) => [s, i]));
const NONE = 0xffffffff;

/** Words per packed job. */
export const RECORD = 14;
const F_SEQ = 0;
const F_OP = 1;
const F_KEY = 2;
const F_PEER = 3;
const F_HASH = 4;
const F_MGF = 5;
const F_SCHEME = 6;
const F_SALT = 7;
/** Three byte fields, each (offset, length): A at 8, B at 10, C at 12. */
const F_A = 8;
const F_B = 10;
const F_C = 12;

/**
 * Whether a request packs into the table: every op but ec-mul, with parameters
 * the table holds exactly (anything odd, such as an unknown hash name or a
 * negative salt length, travels cloned so the provider sees it as it was sent).
 */
export function packs(request: SyncRequest): boolean {
  if (!OP_CODE.has(request.op)) return false;
  if ('padding' in request) {
    const p = request.padding;
    if (!SCHEME_CODE.has(p.scheme) || !HASH_CODE.has(p.hash)) return false;
    if ('mgfHash' in p && !HASH_CODE.has(p.mgfHash)) return false;
    if ('saltLength' in p && !(Number.isInteger(p.saltLength) && p.saltLength >= 0 && p.saltLength < NONE))
      return false;
  }
  if ((request.op === 'ecdsa-sign' || request.op === 'ecdsa-verify') && request.message !== undefined)
    return HASH_CODE.has(request.message.hash);
  return true;
}

/** The byte fields of a packable request, as A, B, C. */
function byteFields(r: SyncRequest): readonly [Uint8Array?, Uint8Array?, Uint8Array?] {
  switch (r.op) {
    case 'rsa-public':
    case 'rsa-private':
      return [r.input];
    case 'rsa-encrypt':
    case 'rsa-decrypt':
      return [r.input, r.padding.label];
    case 'rsa-sign':
      return [r.digest];
    case 'rsa-verify':
      return [r.digest, r.signature];
    case 'ecdsa-sign':
      return [r.digest, undefined, r.message?.data];
    case 'ecdsa-verify':
      return [r.digest, r.signature, r.message?.data];
    case 'eddsa-sign':
      return [r.message];
    case 'eddsa-verify':
      return [r.message, r.signature];
    case 'x25519':
      return [r.peer];
    default:
      return [];
  }
}

/**
 * Packs the requests of one batch. `add` records a request (its keys already
 * numbered by the caller); `finish` lays out the table and the byte area.
 */
export class BatchPacker {
  readonly #seqs: number[] = [];
  readonly #requests: SyncRequest[] = [];
  readonly #keyNumbers: number[] = [];
  readonly #peerNumbers: number[] = [];
  #byteCount = 0;

  get size(): number {
    return this.#seqs.length;
  }

  add(seq: number, request: SyncRequest, key: number, peer: number): void {
    this.#seqs.push(seq);
    this.#requests.push(request);
    this.#keyNumbers.push(key);
    this.#peerNumbers.push(peer);
    for (const field of byteFields(request)) if (field !== undefined) this.#byteCount += field.length;
  }

  finish(): { table: ArrayBuffer; count: number; bytes: ArrayBuffer } {
    const count = this.#seqs.length;
    const table = new Uint32Array(count * RECORD);
    const bytes = new Uint8Array(this.#byteCount);
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const r = this.#requests[i]!;
      const at = i * RECORD;
      table[at + F_SEQ] = this.#seqs[i]!;
      table[at + F_OP] = OP_CODE.get(r.op)!;
      table[at + F_KEY] = this.#keyNumbers[i]!;
      table[at + F_PEER] = this.#peerNumbers[i]!;
      table[at + F_HASH] = NONE;
      table[at + F_MGF] = NONE;
      table[at + F_SCHEME] = NONE;
      if ('padding' in r) {
        const p = r.padding;
        table[at + F_SCHEME] = SCHEME_CODE.get(p.scheme)!;
        table[at + F_HASH] = HASH_CODE.get(p.hash)!;
        if ('mgfHash' in p) table[at + F_MGF] = HASH_CODE.get(p.mgfHash)!;
        if ('saltLength' in p) table[at + F_SALT] = p.saltLength;
      } else if ((r.op === 'ecdsa-sign' || r.op === 'ecdsa-verify') && r.message !== undefined) {
        table[at + F_HASH] = HASH_CODE.get(r.message.hash)!;
      }
      const fields = byteFields(r);
      for (let f = 0; f < 3; f++) {
        const field = fields[f];
        const slot = at + F_A + 2 * f;
        if (field === undefined) {
          table[slot] = NONE;
          continue;
        }
        bytes.set(field, offset);
        table[slot] = offset;
        table[slot + 1] = field.length;
        offset += field.length;
      }
    }
    this.#seqs.length = 0;
    this.#requests.length = 0;
    this.#keyNumbers.length = 0;
    this.#peerNumbers.length = 0;
    this.#byteCount = 0;
    return { table: table.buffer, count, bytes: bytes.buffer };
  }
}

/**
 * Hands each request of a packed batch to `job`, in order (byte fields are views
 * of the batch's byte area), or to `failed` when it cannot be rebuilt.
 */
export function unpackBatch(
  message: BatchMessage,
  keys: ReadonlyMap<number, object>,
  job: (seq: number, request: SyncRequest) => void,
  failed: (seq: number, op: string, error: unknown) => void,
): void {
  const table = new Uint32Array(message.table);
  const bytes = new Uint8Array(message.bytes);
  for (let i = 0; i < message.count; i++) {
    const seq = table[i * RECORD + F_SEQ]!;
    try {
      job(seq, unpackOne(table, bytes, i * RECORD, keys));
    } catch (error) {
      failed(seq, PACKED_OPS[table[i * RECORD + F_OP]!] ?? 'unknown', error);
    }
  }
}

function unpackOne(
  table: Uint32Array,
  bytes: Uint8Array,
  at: number,
  keys: ReadonlyMap<number, object>,
): SyncRequest {
  const keyOf = (n: number): object => {
    const material = keys.get(n);
    if (material === undefined) throw new Error(`key #${n} was never sent to this worker`);
    return material;
  };
  const field = (f: number): Uint8Array | undefined => {
    const off = table[at + f]!;
    return off === NONE ? undefined : bytes.subarray(off, off + table[at + f + 1]!);
  };
  const op: PackedOp = PACKED_OPS[table[at + F_OP]!]!;
  const hashCode = table[at + F_HASH]!;
  const hash = hashCode === NONE ? undefined : HASHES[hashCode]!;
  const mgfCode = table[at + F_MGF]!;
  const salt = table[at + F_SALT]!;
  const scheme = table[at + F_SCHEME]!;
  const padding =
    scheme === NONE
      ? undefined
      : SCHEMES[scheme] === 'pkcs1-v1_5'
        ? { scheme: 'pkcs1-v1_5', hash }
        : SCHEMES[scheme] === 'pss'
          ? {
              scheme: 'pss',
              hash,
              mgfHash: HASHES[mgfCode],
              saltLength: salt,
            }
          : { scheme: 'oaep', hash, mgfHash: HASHES[mgfCode], label: field(F_B) ?? new Uint8Array(0) };
  const a = field(F_A);
  const b = field(F_B);
  const c = field(F_C);
  let request: Record<string, unknown>;
  switch (op) {
    case 'rsa-public':
    case 'rsa-private':
    case 'rsa-encrypt':
    case 'rsa-decrypt':
      request = { op, key: keyOf(table[at + F_KEY]!), input: a, ...(padding ? { padding } : {}) };
      break;
    case 'rsa-sign':
      request = { op, key: keyOf(table[at + F_KEY]!), padding, digest: a };
      break;
    case 'rsa-verify':
      request = { op, key: keyOf(table[at + F_KEY]!), padding, digest: a, signature: b };
      break;
    case 'ecdsa-sign':
    case 'ecdsa-verify':
      request = {
        op,
        key: keyOf(table[at + F_KEY]!),
        digest: a,
        ...(b ? { signature: b } : {}),
        ...(c && hash ? { message: { hash, data: c } } : {}),
      };
      break;
    case 'ecdh':
      request = { op, key: keyOf(table[at + F_KEY]!), peer: keyOf(table[at + F_PEER]!) };
      break;
    case 'eddsa-sign':
      request = { op, key: keyOf(table[at + F_KEY]!), message: a };
      break;
    case 'eddsa-verify':
      request = { op, key: keyOf(table[at + F_KEY]!), message: a, signature: b };
      break;
    case 'x25519':
      request = { op, key: keyOf(table[at + F_KEY]!), peer: a };
      break;
  }
  return request as unknown as SyncRequest;
}

/** Fields of a request that may hold key material (the cloned form). */
const KEY_FIELDS = ['key', 'peer', 'scalar'] as const;

function isKey(value: unknown): value is object & { kind: string } {
  return typeof value === 'object' && value !== null && 'kind' in value;
}

/** The cloned form of a request that does not pack; `keyNumber` registers a key for the target worker. */
export function encodeRequest(request: SyncRequest, keyNumber: (material: object) => number): WireRequest {
  const out: Record<string, unknown> = { ...request };
  for (const field of KEY_FIELDS) {
    const value = out[field];
    if (isKey(value)) out[field] = keyNumber(value);
  }
  return out as WireRequest;
}

/** The request a worker runs: key numbers replaced by the material it holds. */
export function decodeRequest(wire: WireRequest, keys: ReadonlyMap<number, object>): SyncRequest {
  const out: Record<string, unknown> = { ...wire };
  for (const field of KEY_FIELDS) {
    const value = out[field];
    if (typeof value === 'number') {
      const material = keys.get(value);
      if (material === undefined) throw new Error(`key #${value} was never sent to this worker`);
      out[field] = material;
    }
  }
  return out as unknown as SyncRequest;
}

/** Collects a worker's results for one reply. */
export class ResultPacker {
  #table = new Uint32Array(64 * RESULT_WORDS);
  #bytes = new Uint8Array(4096);
  #count = 0;
  #byteCount = 0;
  #errors: WireError[] = [];
  #values: PrimitiveValue[] = [];

  get size(): number {
    return this.#count;
  }

  add(seq: number, value: PrimitiveValue): void {
    if (value instanceof Uint8Array) {
      const off = this.#byteCount;
      this.#reserveBytes(value.length);
      this.#bytes.set(value, off);
      this.#byteCount += value.length;
      this.#record(seq, ResultKind.bytes, off, value.length);
    } else if (value === true) this.#record(seq, ResultKind.true, 0, 0);
    else if (value === false) this.#record(seq, ResultKind.false, 0, 0);
    else {
      this.#values.push(value);
      this.#record(seq, ResultKind.value, this.#values.length - 1, 0);
    }
  }

  fail(seq: number, error: WireError): void {
    this.#errors.push(error);
    this.#record(seq, ResultKind.error, this.#errors.length - 1, 0);
  }

  /** The message for what was collected (its buffers to transfer), and a fresh start. */
  take(): ResultsMessage {
    const message: ResultsMessage = {
      table: this.#table.slice(0, this.#count * RESULT_WORDS).buffer,
      count: this.#count,
      bytes: this.#bytes.slice(0, this.#byteCount).buffer,
      errors: this.#errors,
      values: this.#values,
    };
    // Results may be shared secrets (ECDH, X25519): do not leave them in the reused buffer.
    this.#bytes.fill(0, 0, this.#byteCount);
    this.#count = 0;
    this.#byteCount = 0;
    this.#errors = [];
    this.#values = [];
    return message;
  }

  #record(seq: number, kind: number, off: number, len: number): void {
    if ((this.#count + 1) * RESULT_WORDS > this.#table.length) {
      const grown = new Uint32Array(this.#table.length * 2);
      grown.set(this.#table);
      this.#table = grown;
    }
    const at = this.#count * RESULT_WORDS;
    this.#table[at] = seq;
    this.#table[at + 1] = kind;
    this.#table[at + 2] = off;
    this.#table[at + 3] = len;
    this.#count++;
  }

  #reserveBytes(n: number): void {
    if (this.#byteCount + n <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#byteCount + n));
    grown.set(this.#bytes.subarray(0, this.#byteCount));
    this.#bytes = grown;
  }
}
