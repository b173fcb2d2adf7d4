/**
 * The broker protocol (docs/protocol.md): one fixed-length 56-byte frame header
 * followed by at most four byte fields whose lengths the header gives. No
 * pointers, no nested variable-length structures, no version negotiation: the
 * client's first frame is a HELLO carrying the one protocol identifier, which the
 * broker checks. Multi-byte integers are big-endian. Key material travels in
 * fixed layouts (every component padded to one length). The only JSON is the
 * capability list in HELLO and CAPS frames (not on the hot path).
 *
 * This module is imported by the `broker:` client driver and by the broker
 * (server/); it holds no I/O.
 */

import {
  type Capability,
  type EcCurveName,
  EcPrivateKeyMaterial,
  type EcPublicKeyMaterial,
  type HashName,
  type KeyPairMaterial,
  type OkpCurveName,
  OkpPrivateKeyMaterial,
  type OkpPublicKeyMaterial,
  PRIMITIVE_OPS,
  type PrimitiveOp,
  type PrimitiveRequest,
  type PrimitiveValue,
  type PrivateKeyMaterial,
  type PublicKeyMaterial,
  RsaPrivateKeyMaterial,
  type RsaPublicKeyMaterial,
  type Witness,
} from '../../core/driver/index.js';
import { bigintToBytes, bytesToBigint } from '../../core/encoding/bytes.js';

export const MAGIC = 0x504b4246; // "PKBF"
export const HEADER_BYTES = 56;
/** The most payload bytes (all four fields together) one frame may carry. */
export const MAX_PAYLOAD = 256 * 1024;
/** Checked once, in the client's HELLO. */
export const PROTOCOL_ID = 'pkaccel-broker-frames-1';
export const HANDLE_BYTES = 16;
/** Longest error message carried in a frame. */
export const MAX_MESSAGE = 1024;

/** Frame types (byte 4). */
export const FrameType = {
  hello: 1,
  caps: 2,
  request: 3,
  completion: 4,
  error: 6,
} as const;

/** Operations (byte 5): the primitives, then the key-store operations. */
export const OPS: readonly PrimitiveOp[] = PRIMITIVE_OPS;
export const KeyOp = { import: 32, open: 33, destroy: 34, generate: 35, count: 36, stats: 37 } as const;
/** The highest operation code (the broker refuses codes above it). */
export const LAST_OP = KeyOp.stats;
/** stats request flags (param): run the broker's GC first (only when it runs with --expose-gc). */
export const STATS_GC = 0x01;

/** One client connection in a STATS reply (docs/protocol.md, "Stats"). */
export interface BrokerClientStats {
  readonly id: number;
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
  readonly submitted: number;
  readonly completed: number;
  readonly failed: number;
  readonly waiting: number;
  readonly inFlight: number;
  /** Session keys its process holds in the broker (imported, generated, opened by name). */
  readonly keysHeld: number;
  /** Socket reads from it and the frames they carried. */
  readonly reads: number;
  readonly framesIn: number;
  /** Socket writes to it and the frames they carried (completions are gathered per tick into one write). */
  readonly writes: number;
  readonly framesOut: number;
}

/** One of the broker's devices in a STATS reply: the broker's job-queue counters for it. */
export interface BrokerDeviceStats {
  readonly id: string;
  readonly driver: string;
  readonly state: string;
  readonly inService: boolean;
  readonly completed: number;
  readonly failed: number;
  readonly inFlight: number;
  /** Completions per second since the previous STATS request. */
  readonly opsPerSecond: number;
}

/**
 * The reply to a STATS request (JSON in field 1: a control frame, off the hot path).
 * A client sees every connection when its uid is the broker's or root's, else only
 * the connections of its own uid.
 */
export interface BrokerStats {
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Whether the GC ran before the memory figures (asked with STATS_GC, and --expose-gc). */
  readonly gcRan: boolean;
  readonly sessionKeys: number;
  readonly namedKeys: readonly string[];
  readonly inFlight: number;
  readonly clients: readonly BrokerClientStats[];
  readonly devices: readonly BrokerDeviceStats[];
}

/** flags (byte 6). */
export const Flag = {
  /** The request's private key is the broker-held key named by the handle field. */
  held: 0x01,
  /** A prehashed message travels in field 3. */
  message: 0x02,
  /** ec-mul: a point travels in field 2 (else scalar·G). */
  point: 0x04,
  /** ec-mul: the scalar is field 1 (a bigint), not a key. */
  scalar: 0x08,
  /** ecdsa-verify witness: the point at infinity. */
  infinity: 0x10,
  /**
   * COMPLETION: the broker's job queue settled this job on a reference device (its
   * node:crypto provider) and its own gate checked it there; the client's gate gives it
   * the checks a reference device gets in process (docs/broker.md, "Integrity through
   * the broker"). Never set on what a card computed.
   */
  reference: 0x20,
} as const;

export const ERROR_CODES = [
  'unsupported',
  'invalid-key',
  'invalid-input',
  'device-error',
  'timeout',
  'queue-full',
  'device-gone',
  'aborted',
  'not-extractable',
] as const;
export type WireErrorCode = (typeof ERROR_CODES)[number];

const CURVES: readonly (EcCurveName | OkpCurveName)[] = ['P-256', 'P-384', 'P-521', 'Ed25519', 'X25519'];
const FIELD: Readonly<Record<EcCurveName, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const HASHES: readonly HashName[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
const SCHEMES = ['pkcs1-v1_5', 'pss', 'oaep'] as const;
/** Key layout codes (byte 28). */
export const KeyKind = {
  none: 0,
  rsaPublic: 1,
  rsaPrivate: 2,
  ecPublic: 3,
  ecPrivate: 4,
  okpPublic: 5,
  okpPrivate: 6,
} as const;
const WITNESS = { 'ecdsa-verify': 1, 'rsa-verify': 2, 'ecdh-point': 3 } as const;

/** A frame header and its four fields (views into the read buffer: copy what you keep). */
export interface Frame {
  type: number;
  op: number;
  flags: number;
  status: number;
  tag: number;
  handle: Uint8Array;
  keyKind: number;
  curve: number;
  scheme: number;
  hash: number;
  mgfHash: number;
  msgHash: number;
  witness: number;
  param: number;
  fields: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const EMPTY = new Uint8Array(0);
const ZERO_HANDLE = new Uint8Array(HANDLE_BYTES);

export function emptyFrame(type: number): Frame {
  return {
    type,
    op: 0,
    flags: 0,
    status: 0,
    tag: 0,
    handle: ZERO_HANDLE,
    keyKind: 0,
    curve: 0,
    scheme: 0,
    hash: 0,
    mgfHash: 0,
    msgHash: 0,
    witness: 0,
    param: 0,
    fields: [EMPTY, EMPTY, EMPTY, EMPTY],
  };
}

/** The encoded length of a frame. */
export function frameBytes(frame: Frame): number {
  const f = frame.fields;
  return HEADER_BYTES + f[0].length + f[1].length + f[2].length + f[3].length;
}

/** Big-endian u32 at `at` of `out`. */
function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

/**
 * Write `frame` at `offset` of `out` (which has room); returns the offset after it.
 * Byte stores rather than a DataView per frame, and no `set` call for an empty field or
 * the 16-byte handle: every frame of both directions passes here (a completion has two
 * or three empty fields), and those calls were most of its cost (an interleaved probe:
 * about 2x faster).
 */
export function writeFrame(frame: Frame, out: Uint8Array, offset: number): number {
  const o = offset;
  putU32(out, o, MAGIC);
  out[o + 4] = frame.type;
  out[o + 5] = frame.op;
  out[o + 6] = frame.flags;
  out[o + 7] = frame.status;
  putU32(out, o + 8, frame.tag);
  const handle = frame.handle.length === HANDLE_BYTES ? frame.handle : ZERO_HANDLE;
  for (let i = 0; i < HANDLE_BYTES; i++) out[o + 12 + i] = handle[i]!;
  out[o + 28] = frame.keyKind;
  out[o + 29] = frame.curve;
  out[o + 30] = frame.scheme;
  out[o + 31] = frame.hash;
  out[o + 32] = frame.mgfHash;
  out[o + 33] = frame.msgHash;
  out[o + 34] = frame.witness;
  out[o + 35] = 0;
  putU32(out, o + 36, frame.param);
  let at = o + HEADER_BYTES;
  const fields = frame.fields;
  for (let i = 0; i < 4; i++) {
    const field = fields[i]!;
    const n = field.length;
    putU32(out, o + 40 + 4 * i, n);
    if (n > 0) {
      out.set(field, at);
      at += n;
    }
  }
  return at;
}

/** Whether the frame carries a private key in field 0 (key layouts 2, 4, 6). */
function carriesPrivateKey(f: Frame): boolean {
  return (
    f.keyKind === KeyKind.rsaPrivate || f.keyKind === KeyKind.ecPrivate || f.keyKind === KeyKind.okpPrivate
  );
}

/**
 * Encode frames into one buffer (one write per tick). writeFrame stores every byte, so
 * the buffer needs no zeroing: frames without a private key go into node's pooled
 * `Buffer.allocUnsafe` (a new zeroed ArrayBuffer per write cost several times the
 * encoding of a small batch); a batch with a private key gets an ArrayBuffer of its
 * own, which the writer zeroes once the socket has taken it, and which no other
 * buffer shares.
 */
export function encodeFrames(frames: readonly Frame[]): Uint8Array {
  let total = 0;
  let secret = false;
  for (const f of frames) {
    total += frameBytes(f);
    if (carriesPrivateKey(f)) secret = true;
  }
  const out = secret ? new Uint8Array(total) : Buffer.allocUnsafe(total);
  let at = 0;
  for (const f of frames) at = writeFrame(f, out, at);
  return out;
}

/**
 * Splits a byte stream into frames. `push` bytes as they arrive; it returns the
 * complete frames and throws ProtocolError on a bad magic, an unknown type or a
 * payload over MAX_PAYLOAD — the caller then closes the connection.
 *
 * No copy per field: a frame's handle and fields are views into `chunk` when the
 * chunk holds whole frames (a socket's data buffers are never reused, so the
 * reader keeps them), or into one copy of the completed frames when a frame
 * straddled chunks. The caller must not overwrite a chunk it pushed.
 */
export class FrameReader {
  #buffer: Uint8Array = new Uint8Array(0);
  #length = 0;

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    if (this.#length === 0) {
      const used = parseFrames(chunk, chunk.length, frames);
      if (used < chunk.length) this.#append(chunk.subarray(used));
      return frames;
    }
    this.#append(chunk);
    const buf = this.#buffer;
    const end = completeBytes(buf, this.#length);
    if (end === 0) return frames;
    parseFrames(buf.slice(0, end), end, frames);
    buf.copyWithin(0, end, this.#length);
    // Zero what moved down: the stream may carry private keys.
    buf.fill(0, this.#length - end, this.#length);
    this.#length -= end;
    return frames;
  }

  #append(chunk: Uint8Array): void {
    const need = this.#length + chunk.length;
    if (need > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(need, this.#buffer.length * 2, 4096));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer.fill(0);
      this.#buffer = grown;
    }
    this.#buffer.set(chunk, this.#length);
    this.#length = need;
  }

  /** Zero and drop what is buffered. */
  clear(): void {
    this.#buffer.fill(0);
    this.#buffer = new Uint8Array(0);
    this.#length = 0;
  }
}

/** The payload length of the header at `at`, after checking it (ProtocolError). */
function checkedPayload(view: DataView, at: number): number {
  if (view.getUint32(at) !== MAGIC) throw new ProtocolError('bad magic');
  const type = view.getUint8(at + 4);
  if (type !== 1 && type !== 2 && type !== 3 && type !== 4 && type !== 6)
    throw new ProtocolError(`unknown frame type ${type}`);
  if (view.getUint8(at + 35) !== 0) throw new ProtocolError('reserved byte not zero');
  const payload =
    view.getUint32(at + 40) + view.getUint32(at + 44) + view.getUint32(at + 48) + view.getUint32(at + 52);
  if (payload > MAX_PAYLOAD) throw new ProtocolError(`payload of ${payload} bytes over ${MAX_PAYLOAD}`);
  return payload;
}

/** How many of the first `length` bytes of `buf` are whole frames. */
function completeBytes(buf: Uint8Array, length: number): number {
  const view = new DataView(buf.buffer, buf.byteOffset, length);
  let at = 0;
  while (length - at >= HEADER_BYTES) {
    const next = at + HEADER_BYTES + checkedPayload(view, at);
    if (next > length) break;
    at = next;
  }
  return at;
}

function fieldAt(src: Uint8Array, from: number, to: number): Uint8Array {
  return from === to ? EMPTY : src.subarray(from, to);
}

/** Append the whole frames at the start of `src` to `frames` (views into `src`); returns the bytes used. */
function parseFrames(src: Uint8Array, length: number, frames: Frame[]): number {
  const view = new DataView(src.buffer, src.byteOffset, length);
  let at = 0;
  while (length - at >= HEADER_BYTES) {
    const payload = checkedPayload(view, at);
    if (length - at < HEADER_BYTES + payload) break;
    const p0 = at + HEADER_BYTES;
    const p1 = p0 + view.getUint32(at + 40);
    const p2 = p1 + view.getUint32(at + 44);
    const p3 = p2 + view.getUint32(at + 48);
    const p4 = p3 + view.getUint32(at + 52);
    frames.push({
      type: view.getUint8(at + 4),
      op: view.getUint8(at + 5),
      flags: view.getUint8(at + 6),
      status: view.getUint8(at + 7),
      tag: view.getUint32(at + 8),
      handle: src.subarray(at + 12, at + 28),
      keyKind: view.getUint8(at + 28),
      curve: view.getUint8(at + 29),
      scheme: view.getUint8(at + 30),
      hash: view.getUint8(at + 31),
      mgfHash: view.getUint8(at + 32),
      msgHash: view.getUint8(at + 33),
      witness: view.getUint8(at + 34),
      param: view.getUint32(at + 36),
      fields: [fieldAt(src, p0, p1), fieldAt(src, p1, p2), fieldAt(src, p2, p3), fieldAt(src, p3, p4)],
    });
    at = p4;
  }
  return at;
}

// ---- codes ----

function code<T>(list: readonly T[], value: T, what: string): number {
  const i = list.indexOf(value);
  if (i < 0) throw new ProtocolError(`no wire code for ${what} ${String(value)}`);
  return i + 1;
}
function fromCode<T>(list: readonly T[], c: number, what: string): T {
  const v = list[c - 1];
  if (v === undefined) throw new ProtocolError(`unknown ${what} code ${c}`);
  return v;
}
function ecCurve(c: number): EcCurveName {
  const curve = fromCode(CURVES, c, 'curve');
  if (curve === 'Ed25519' || curve === 'X25519')
    throw new ProtocolError(`${curve} is not a Weierstrass curve`);
  return curve;
}
function okpCurve(c: number): OkpCurveName {
  const curve = fromCode(CURVES, c, 'curve');
  if (curve !== 'Ed25519' && curve !== 'X25519') throw new ProtocolError(`${curve} is not an OKP curve`);
  return curve;
}
export function opCode(op: PrimitiveOp): number {
  return code(OPS, op, 'operation');
}
export function opOf(c: number): PrimitiveOp {
  return fromCode(OPS, c, 'operation');
}

// ---- keys: fixed layouts ----

function byteLen(n: bigint): number {
  return Math.max(1, Math.ceil(n.toString(16).length / 2));
}
function put(out: Uint8Array, at: number, v: bigint, len: number): void {
  out.set(bigintToBytes(v, len), at);
}

/**
 * Encodings of keys already sent, by key object (a key's identity is stable for its
 * life, core/driver/keys.ts): a key is encoded once, not per request. Each frame gets
 * the cached bytes by reference; `encodeFrames` copies them into the write buffer.
 */
const encoded = new WeakMap<object, { keyKind: number; curve: number; bytes: Uint8Array }>();

/** Encode a key into field 0 (cached per key object); sets keyKind and curve. */
export function encodeKey(frame: Frame, key: PublicKeyMaterial | PrivateKeyMaterial): void {
  const hit = encoded.get(key);
  if (hit !== undefined) {
    frame.keyKind = hit.keyKind;
    frame.curve = hit.curve;
    frame.fields[0] = hit.bytes;
    return;
  }
  encodeKeyOnce(frame, key);
  encoded.set(key, { keyKind: frame.keyKind, curve: frame.curve, bytes: frame.fields[0] });
}

/** Encode a key without the cache (key import: the caller zeroes the bytes afterwards). */
export function encodeKeyOnce(frame: Frame, key: PublicKeyMaterial | PrivateKeyMaterial): void {
  const { keyKind, curve, bytes } = keyLayout(key);
  frame.keyKind = keyKind;
  if (curve !== undefined) frame.curve = code(CURVES, curve, 'curve');
  frame.fields[0] = bytes;
}

interface KeyLayout {
  readonly keyKind: number;
  readonly curve: EcCurveName | OkpCurveName | undefined;
  readonly bytes: Uint8Array;
}

function keyLayout(key: PublicKeyMaterial | PrivateKeyMaterial): KeyLayout {
  switch (key.kind) {
    case 'rsa-public':
      return layout(KeyKind.rsaPublic, undefined, fixed([key.n, key.e], byteLen(key.n)));
    case 'rsa-private':
      if (key.otherPrimes.length > 0)
        throw new ProtocolError('multi-prime RSA keys do not travel to a broker');
      return layout(
        KeyKind.rsaPrivate,
        undefined,
        fixed([key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qi], byteLen(key.n)),
      );
    case 'ec-public':
      return layout(KeyKind.ecPublic, key.curve, fixed([key.x, key.y], FIELD[key.curve]));
    case 'ec-private': {
      const { x, y } = key.publicKey;
      return layout(KeyKind.ecPrivate, key.curve, fixed([key.d, x, y], FIELD[key.curve]));
    }
    case 'okp-public':
      return layout(KeyKind.okpPublic, key.curve, Uint8Array.from(key.x));
    case 'okp-private': {
      const out = new Uint8Array(64);
      out.set(key.d, 0);
      out.set(key.publicKey.x, 32);
      return layout(KeyKind.okpPrivate, key.curve, out);
    }
  }
}

/** Integers, each big-endian in `L` bytes, one after another (the fixed key layouts). */
function fixed(values: readonly bigint[], L: number): Uint8Array {
  const out = new Uint8Array(values.length * L);
  for (let i = 0; i < values.length; i++) put(out, i * L, values[i]!, L);
  return out;
}

function layout(
  keyKind: number,
  curve: EcCurveName | OkpCurveName | undefined,
  bytes: Uint8Array,
): KeyLayout {
  return { keyKind, curve, bytes };
}

/** Decode field 0 by keyKind/curve. */
export function decodeKey(frame: Frame): PublicKeyMaterial | PrivateKeyMaterial {
  const b = frame.fields[0];
  switch (frame.keyKind) {
    case KeyKind.rsaPublic: {
      if (b.length < 2 || b.length % 2 !== 0) throw new ProtocolError('bad RSA public key length');
      const L = b.length / 2;
      const n = bytesToBigint(b.subarray(0, L));
      const e = bytesToBigint(b.subarray(L));
      if (n === 0n || e === 0n) throw new ProtocolError('zero RSA key component');
      return { kind: 'rsa-public', n, e, bits: n.toString(2).length } satisfies RsaPublicKeyMaterial;
    }
    case KeyKind.rsaPrivate: {
      if (b.length < 8 || b.length % 8 !== 0) throw new ProtocolError('bad RSA private key length');
      const L = b.length / 8;
      const v = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => bytesToBigint(b.subarray(i * L, (i + 1) * L)));
      if (v[0] === 0n || v[1] === 0n) throw new ProtocolError('zero RSA key component');
      return new RsaPrivateKeyMaterial(v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!, v[6]!, v[7]!);
    }
    case KeyKind.ecPublic: {
      const curve = ecCurve(frame.curve);
      const F = FIELD[curve];
      if (b.length !== 2 * F) throw new ProtocolError('bad EC public key length');
      return ecPublic(curve, b, 0);
    }
    case KeyKind.ecPrivate: {
      const curve = ecCurve(frame.curve);
      const F = FIELD[curve];
      if (b.length !== 3 * F) throw new ProtocolError('bad EC private key length');
      return new EcPrivateKeyMaterial(curve, bytesToBigint(b.subarray(0, F)), ecPublic(curve, b, F));
    }
    case KeyKind.okpPublic: {
      const curve = okpCurve(frame.curve);
      if (b.length !== 32) throw new ProtocolError('bad OKP public key length');
      return { kind: 'okp-public', curve, x: Uint8Array.from(b) } satisfies OkpPublicKeyMaterial;
    }
    case KeyKind.okpPrivate: {
      const curve = okpCurve(frame.curve);
      if (b.length !== 64) throw new ProtocolError('bad OKP private key length');
      return new OkpPrivateKeyMaterial(curve, Uint8Array.from(b.subarray(0, 32)), {
        kind: 'okp-public',
        curve,
        x: Uint8Array.from(b.subarray(32)),
      });
    }
    default:
      throw new ProtocolError(`unknown key layout ${frame.keyKind}`);
  }
}

function ecPublic(curve: EcCurveName, b: Uint8Array, at: number): EcPublicKeyMaterial {
  const F = FIELD[curve];
  return {
    kind: 'ec-public',
    curve,
    x: bytesToBigint(b.subarray(at, at + F)),
    y: bytesToBigint(b.subarray(at + F, at + 2 * F)),
  };
}

/** The public half of a key, encoded (for held-key replies). */
export function publicOf(key: PrivateKeyMaterial): PublicKeyMaterial {
  return key.publicKey;
}

// ---- requests ----

/**
 * Encode a primitive request. `handleOf` returns the broker handle of a held key
 * (then no key material travels), or undefined for inline material.
 */
export function encodeRequest(
  tag: number,
  request: PrimitiveRequest,
  handleOf: (key: PrivateKeyMaterial) => Uint8Array | undefined,
): Frame {
  const f = emptyFrame(FrameType.request);
  f.tag = tag;
  f.op = opCode(request.op);
  switch (request.op) {
    case 'rsa-public':
      encodeKey(f, request.key);
      f.fields[1] = request.input;
      break;
    case 'rsa-private':
      putPrivate(f, request.key, handleOf);
      f.fields[1] = request.input;
      break;
    case 'rsa-sign':
    case 'rsa-verify':
      if (request.op === 'rsa-sign') putPrivate(f, request.key, handleOf);
      else {
        encodeKey(f, request.key);
        f.fields[2] = request.signature;
      }
      putPadding(f, request.padding);
      f.fields[1] = request.digest;
      putMessage(f, request.message);
      break;
    case 'rsa-encrypt':
    case 'rsa-decrypt':
      if (request.op === 'rsa-encrypt') encodeKey(f, request.key);
      else putPrivate(f, request.key, handleOf);
      putPadding(f, request.padding);
      f.fields[1] = request.input;
      f.fields[2] = request.padding.label;
      break;
    case 'ecdsa-sign':
      putPrivate(f, request.key, handleOf);
      f.fields[1] = request.digest;
      putMessage(f, request.message);
      break;
    case 'ecdsa-verify':
    case 'eddsa-verify':
      encodeKey(f, request.key);
      f.fields[1] = request.op === 'ecdsa-verify' ? request.digest : request.message;
      f.fields[2] = request.signature;
      if (request.op === 'ecdsa-verify') putMessage(f, request.message);
      break;
    case 'ec-mul': {
      const F = FIELD[request.curve];
      if (typeof request.scalar === 'bigint') {
        f.flags |= Flag.scalar;
        f.fields[1] = bigintToBytes(request.scalar, F);
      } else putPrivate(f, request.scalar, handleOf);
      f.curve = code(CURVES, request.curve, 'curve');
      if (request.point !== undefined) {
        f.flags |= Flag.point;
        f.fields[2] = pointBytes(request.point, F);
      }
      break;
    }
    case 'ecdh':
    case 'eddsa-sign':
    case 'x25519':
      putPrivate(f, request.key, handleOf);
      f.curve = code(CURVES, request.key.curve, 'curve');
      if (request.op === 'ecdh') f.fields[2] = pointBytes(request.peer, FIELD[request.key.curve]);
      else if (request.op === 'eddsa-sign') f.fields[1] = request.message;
      else f.fields[2] = request.peer;
      break;
    case 'keygen':
      encodeKeygen(f, request.spec);
      break;
  }
  return f;
}

/** A private key: the broker's handle when it holds the key, else the key itself (field 0). */
function putPrivate(
  f: Frame,
  key: PrivateKeyMaterial,
  handleOf: (key: PrivateKeyMaterial) => Uint8Array | undefined,
): void {
  const handle = handleOf(key);
  if (handle !== undefined) {
    f.flags |= Flag.held;
    f.handle = handle;
  } else encodeKey(f, key);
}

/** The prehashed message, when there is one and it fits (optional: devices sign the digest). */
function putMessage(f: Frame, m: { hash: HashName; data: Uint8Array } | undefined): void {
  if (m === undefined || m.data.length > MAX_PAYLOAD / 2) return;
  f.flags |= Flag.message;
  f.msgHash = code(HASHES, m.hash, 'hash');
  f.fields[3] = m.data;
}

function putPadding(
  f: Frame,
  p: { scheme: string; hash: HashName; mgfHash?: HashName; saltLength?: number },
): void {
  f.scheme = code(SCHEMES, p.scheme as (typeof SCHEMES)[number], 'padding');
  f.hash = code(HASHES, p.hash, 'hash');
  if (p.mgfHash !== undefined) f.mgfHash = code(HASHES, p.mgfHash, 'hash');
  if (p.saltLength !== undefined) f.param = p.saltLength;
}

function pointBytes(point: { readonly x: bigint; readonly y: bigint }, F: number): Uint8Array {
  return fixed([point.x, point.y], F);
}

export function encodeKeygen(f: Frame, spec: Extract<PrimitiveRequest, { op: 'keygen' }>['spec']): void {
  if (spec.kind === 'rsa') {
    f.keyKind = KeyKind.rsaPrivate;
    f.param = spec.bits;
    f.fields[1] = bigintToBytes(spec.publicExponent, byteLen(spec.publicExponent));
  } else {
    f.keyKind = spec.kind === 'ec' ? KeyKind.ecPrivate : KeyKind.okpPrivate;
    f.curve = code(CURVES, spec.curve, 'curve');
  }
}

export function decodeKeygen(f: Frame): Extract<PrimitiveRequest, { op: 'keygen' }>['spec'] {
  if (f.keyKind === KeyKind.rsaPrivate)
    return { kind: 'rsa', bits: f.param, publicExponent: bytesToBigint(f.fields[1]) };
  if (f.keyKind === KeyKind.ecPrivate) return { kind: 'ec', curve: ecCurve(f.curve) };
  if (f.keyKind === KeyKind.okpPrivate) return { kind: 'okp', curve: okpCurve(f.curve) };
  throw new ProtocolError('bad keygen kind');
}

/**
 * Decode a request frame. `heldKey` resolves the handle of a held-key request
 * (throwing when it is unknown or not the caller's).
 */
export function decodeRequest(
  f: Frame,
  heldKey: (handle: Uint8Array) => PrivateKeyMaterial,
  keyOf: (f: Frame) => PublicKeyMaterial | PrivateKeyMaterial = decodeKey,
): PrimitiveRequest {
  const op = opOf(f.op);
  switch (op) {
    case 'rsa-public':
      return { op, key: typed(pub(f, keyOf), 'rsa-public'), input: f.fields[1] };
    case 'rsa-private':
      return { op, key: typed(priv(f, heldKey, keyOf), 'rsa-private'), input: f.fields[1] };
    case 'rsa-sign':
      return withMessage(f, {
        op,
        key: typed(priv(f, heldKey, keyOf), 'rsa-private'),
        padding: signPadding(f),
        digest: f.fields[1],
      });
    case 'rsa-verify':
      return withMessage(f, {
        op,
        key: typed(pub(f, keyOf), 'rsa-public'),
        padding: signPadding(f),
        digest: f.fields[1],
        signature: f.fields[2],
      });
    case 'rsa-encrypt':
      return { op, key: typed(pub(f, keyOf), 'rsa-public'), padding: oaep(f), input: f.fields[1] };
    case 'rsa-decrypt':
      return { op, key: typed(priv(f, heldKey, keyOf), 'rsa-private'), padding: oaep(f), input: f.fields[1] };
    case 'ecdsa-sign':
      return withMessage(f, { op, key: typed(priv(f, heldKey, keyOf), 'ec-private'), digest: f.fields[1] });
    case 'ecdsa-verify':
      return withMessage(f, {
        op,
        key: typed(pub(f, keyOf), 'ec-public'),
        digest: f.fields[1],
        signature: f.fields[2],
      });
    case 'ec-mul': {
      const curve = ecCurve(f.curve);
      let scalar: EcPrivateKeyMaterial | bigint;
      if (f.flags & Flag.scalar) {
        if (f.fields[1].length !== FIELD[curve]) throw new ProtocolError('bad scalar length');
        scalar = bytesToBigint(f.fields[1]);
      } else scalar = typed(priv(f, heldKey, keyOf), 'ec-private') as EcPrivateKeyMaterial;
      if (typeof scalar !== 'bigint' && scalar.curve !== curve) throw new ProtocolError('curve mismatch');
      return f.flags & Flag.point
        ? { op, curve, scalar, point: pointOf(curve, f.fields[2]) }
        : { op, curve, scalar };
    }
    case 'ecdh': {
      const key = typed(priv(f, heldKey, keyOf), 'ec-private') as EcPrivateKeyMaterial;
      const p = pointOf(key.curve, f.fields[2]);
      return { op, key, peer: { kind: 'ec-public', curve: key.curve, ...p } };
    }
    case 'eddsa-sign':
      return { op, key: typed(priv(f, heldKey, keyOf), 'okp-private'), message: f.fields[1] };
    case 'eddsa-verify':
      return { op, key: typed(pub(f, keyOf), 'okp-public'), message: f.fields[1], signature: f.fields[2] };
    case 'x25519':
      if (f.fields[2].length !== 32) throw new ProtocolError('bad X25519 peer length');
      return { op, key: typed(priv(f, heldKey, keyOf), 'okp-private'), peer: f.fields[2] };
    case 'keygen':
      return { op, spec: decodeKeygen(f) };
  }
}

function priv(
  f: Frame,
  heldKey: (handle: Uint8Array) => PrivateKeyMaterial,
  keyOf: (f: Frame) => PublicKeyMaterial | PrivateKeyMaterial,
): PrivateKeyMaterial {
  if (f.flags & Flag.held) return heldKey(f.handle);
  const k = keyOf(f);
  if (k.kind !== 'rsa-private' && k.kind !== 'ec-private' && k.kind !== 'okp-private')
    throw new ProtocolError('a private key was expected');
  return k;
}

function pub(f: Frame, keyOf: (f: Frame) => PublicKeyMaterial | PrivateKeyMaterial): PublicKeyMaterial {
  const k = keyOf(f);
  if (k.kind === 'rsa-private' || k.kind === 'ec-private' || k.kind === 'okp-private')
    throw new ProtocolError('a public key was expected');
  return k;
}

function typed(k: { kind: string }, kind: string): never {
  if (k.kind !== kind) throw new ProtocolError(`a ${kind} key was expected, not ${k.kind}`);
  return k as never;
}

function withMessage<T extends object>(f: Frame, r: T): T {
  if (!(f.flags & Flag.message)) return r;
  return { ...r, message: { hash: fromCode(HASHES, f.msgHash, 'hash'), data: f.fields[3] } };
}

function signPadding(f: Frame) {
  const scheme = fromCode(SCHEMES, f.scheme, 'padding');
  const hash = fromCode(HASHES, f.hash, 'hash');
  if (scheme === 'pkcs1-v1_5') return { scheme, hash } as const;
  if (scheme === 'pss')
    return { scheme, hash, mgfHash: fromCode(HASHES, f.mgfHash, 'hash'), saltLength: f.param } as const;
  throw new ProtocolError('oaep is not a signature padding');
}

function oaep(f: Frame) {
  if (fromCode(SCHEMES, f.scheme, 'padding') !== 'oaep') throw new ProtocolError('oaep expected');
  return {
    scheme: 'oaep',
    hash: fromCode(HASHES, f.hash, 'hash'),
    mgfHash: fromCode(HASHES, f.mgfHash, 'hash'),
    label: f.fields[2],
  } as const;
}

function pointOf(curve: EcCurveName, b: Uint8Array): { x: bigint; y: bigint } {
  const F = FIELD[curve];
  if (b.length !== 2 * F) throw new ProtocolError('bad point length');
  return { x: bytesToBigint(b.subarray(0, F)), y: bytesToBigint(b.subarray(F)) };
}

// ---- completions ----

/**
 * A COMPLETION with status 0. `reference`: the broker's queue ran the job on a reference
 * device (SubmitOptions.witness says so): Flag.reference.
 */
export function encodeOk(
  tag: number,
  op: PrimitiveOp,
  value: PrimitiveValue,
  witness: Witness | undefined,
  curveBytes?: number,
  reference = false,
): Frame {
  const f = emptyFrame(FrameType.completion);
  f.tag = tag;
  f.op = opCode(op);
  if (reference) f.flags = Flag.reference;
  if (typeof value === 'boolean') f.param = value ? 1 : 0;
  else if (value instanceof Uint8Array) f.fields[1] = value;
  else if ('x' in value && typeof value.x === 'bigint')
    f.fields[1] = pointBytes(value, curveBytes ?? byteLen(value.x));
  else encodeKey(f, (value as KeyPairMaterial).privateKey);
  if (witness !== undefined) {
    f.witness = WITNESS[witness.kind];
    if (witness.kind === 'ecdsa-verify') {
      if (witness.x === null) f.flags |= Flag.infinity;
      else f.fields[2] = witness.x;
    } else if (witness.kind === 'rsa-verify') f.fields[2] = witness.opened;
    else f.fields[2] = bigintToBytes(witness.y, byteLen(witness.y));
  }
  return f;
}

/** A COMPLETION with status 0: its value, the device's witness, and whether a reference device computed it. */
export function decodeOk(
  f: Frame,
  op: PrimitiveOp,
): { value: PrimitiveValue; witness?: Witness; reference: boolean } {
  let value: PrimitiveValue;
  switch (op) {
    case 'rsa-verify':
    case 'ecdsa-verify':
    case 'eddsa-verify':
      if (f.param > 1) throw new ProtocolError('bad verdict');
      value = f.param === 1;
      break;
    case 'ec-mul': {
      const b = f.fields[1];
      if (b.length === 0 || b.length % 2 !== 0) throw new ProtocolError('bad point length');
      const F = b.length / 2;
      value = { x: bytesToBigint(b.subarray(0, F)), y: bytesToBigint(b.subarray(F)) };
      break;
    }
    case 'keygen': {
      const k = decodeKey(f);
      if (k.kind === 'rsa-private') value = { kind: 'rsa', privateKey: k };
      else if (k.kind === 'ec-private') value = { kind: 'ec', privateKey: k };
      else if (k.kind === 'okp-private') value = { kind: 'okp', privateKey: k };
      else throw new ProtocolError('keygen returned a public key');
      break;
    }
    default:
      // A copy the caller owns: the field is a view into the socket's read Buffer, whose
      // slice() is another view (it would keep the whole chunk alive), not a copy.
      value = new Uint8Array(f.fields[1]);
  }
  let witness: Witness | undefined;
  if (f.witness === 1)
    witness = { kind: 'ecdsa-verify', x: f.flags & Flag.infinity ? null : new Uint8Array(f.fields[2]) };
  else if (f.witness === 2) witness = { kind: 'rsa-verify', opened: new Uint8Array(f.fields[2]) };
  else if (f.witness === 3) witness = { kind: 'ecdh-point', y: bytesToBigint(f.fields[2]) };
  else if (f.witness !== 0) throw new ProtocolError('unknown witness kind');
  const reference = (f.flags & Flag.reference) !== 0;
  return witness === undefined ? { value, reference } : { value, witness, reference };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function textField(text: string): Uint8Array {
  const bytes = encoder.encode(text);
  return bytes.length > MAX_MESSAGE ? bytes.subarray(0, MAX_MESSAGE) : bytes;
}
export function fieldText(bytes: Uint8Array): string {
  return decoder.decode(bytes.subarray(0, MAX_MESSAGE));
}

export function encodeFailure(tag: number, op: number, code: string, message: string): Frame {
  const f = emptyFrame(FrameType.completion);
  f.tag = tag;
  f.op = op;
  const i = ERROR_CODES.indexOf(code as WireErrorCode);
  f.status = i < 0 ? ERROR_CODES.indexOf('device-error') + 1 : i + 1;
  f.fields[1] = textField(message);
  return f;
}

export function failureOf(f: Frame): { code: WireErrorCode; message: string } {
  const code = ERROR_CODES[f.status - 1] ?? 'device-error';
  return { code, message: fieldText(f.fields[1]) };
}

/** A JSON field: control frames only (HELLO/CAPS capability lists, STATS replies), never the hot path. */
export function jsonField(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
export function fieldJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown;
  } catch (error) {
    throw new ProtocolError(`bad JSON field: ${(error as Error).message}`);
  }
}

/** The HELLO/CAPS capability list. */
export const encodeCapabilities: (caps: readonly Capability[]) => Uint8Array = jsonField;
export function decodeCapabilities(bytes: Uint8Array): Capability[] {
  const parsed = fieldJson(bytes);
  if (!Array.isArray(parsed)) throw new ProtocolError('capabilities are not a list');
  return parsed as Capability[];
}

/** A STATS reply's field 1. */
export function decodeStats(bytes: Uint8Array): BrokerStats {
  const parsed = fieldJson(bytes) as BrokerStats | null;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.clients))
    throw new ProtocolError('stats reply is not a stats object');
  return parsed;
}

export function helloFrame(): Frame {
  const f = emptyFrame(FrameType.hello);
  f.fields[1] = encoder.encode(PROTOCOL_ID);
  return f;
}

export function errorFrame(message: string): Frame {
  const f = emptyFrame(FrameType.error);
  f.fields[1] = textField(message);
  return f;
}

export function handleHex(handle: Uint8Array): string {
  return Buffer.from(handle.buffer, handle.byteOffset, handle.length).toString('hex');
}

/** Byte length of an ec-mul result coordinate for the request's curve (else undefined). */
export function pointBytesOf(request: PrimitiveRequest): number | undefined {
  return request.op === 'ec-mul' ? FIELD[request.curve] : undefined;
}
