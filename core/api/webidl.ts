/**
 * WebIDL conversions of `subtle`'s arguments, as a browser (and node) performs
 * them before a method runs: TypeError for a value of the wrong type, each
 * argument converted left to right, dictionary members read in WebIDL order
 * (base dictionary first, then the derived one), so a getter that throws
 * surfaces its own error at the point the spec reads it.
 */

import type { webcrypto } from 'node:crypto';
import { types } from 'node:util';
import type { Dictionary, Member, Params } from '../algorithms/suite.js';
import type { HashName } from '../driver/keys.js';
import { HASH_NAMES } from '../encoding/hashes.js';
import type { JsonWebKey, KeyFormat } from '../key-formats/index.js';
import { domError } from './dom-errors.js';
import { type CryptoKey, isCryptoKey, type KeyUsage } from './key-handle.js';

/**
 * An algorithm identifier as a caller passes it: a name, or an object with a `name` and parameters.
 *
 * @category WebCrypto
 */
export type AlgorithmIdentifier =
  | string
  | {
      /** The algorithm's name, matched case-insensitively (`'ecdsa'` is ECDSA). */
      readonly name: string;
    }
  | {
      /** The algorithm's name, matched case-insensitively; the other members are its parameters. */
      readonly name: string;
      readonly [member: string]: unknown;
    };

const USAGES: readonly KeyUsage[] = [
  'encrypt',
  'decrypt',
  'sign',
  'verify',
  'deriveKey',
  'deriveBits',
  'wrapKey',
  'unwrapKey',
];
const FORMATS: readonly KeyFormat[] = ['raw', 'spki', 'pkcs8', 'jwk'];
const HASH_SET: ReadonlySet<string> = new Set(HASH_NAMES);

/** ToString, as WebIDL's DOMString conversion does (a Symbol is a TypeError). */
export function domString(value: unknown, what: string): string {
  if (typeof value === 'symbol') throw new TypeError(`${what} cannot be converted to a string`);
  return String(value);
}

/** `(object or DOMString)`: an object is kept, anything else becomes its string. */
export function algorithmIdentifier(value: unknown): string | object {
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') return value as object;
  return domString(value, 'algorithm');
}

/** An algorithm's name: `Algorithm.name` (required DOMString) for an object, the string itself otherwise. */
export function algorithmName(algorithm: string | object): string {
  if (typeof algorithm === 'string') return algorithm;
  const name = (algorithm as { name?: unknown }).name;
  if (name === undefined) throw new TypeError('algorithm: the "name" member is required');
  return domString(name, 'algorithm.name');
}

/** A KeyFormat enum value. */
export function keyFormat(value: unknown): KeyFormat {
  const s = domString(value, 'format');
  const format = FORMATS.find((f) => f === s);
  if (!format) throw new TypeError(`"${s}" is not a valid KeyFormat`);
  return format;
}

/** `sequence<KeyUsage>`: any iterable of KeyUsage strings (duplicates dropped). */
export function keyUsages(value: unknown): KeyUsage[] {
  const iterator =
    typeof value === 'object' && value !== null
      ? (value as { [Symbol.iterator]?: unknown })[Symbol.iterator]
      : undefined;
  if (typeof iterator !== 'function') throw new TypeError('keyUsages must be a sequence (an iterable)');
  const out: KeyUsage[] = [];
  for (const item of value as Iterable<unknown>) {
    const u = domString(item, 'a key usage');
    if (!USAGES.includes(u as KeyUsage)) throw new TypeError(`"${u}" is not a valid KeyUsage`);
    if (!out.includes(u as KeyUsage)) out.push(u as KeyUsage);
  }
  return out;
}

/** WebIDL `boolean`. */
export function boolean(value: unknown): boolean {
  return Boolean(value);
}

/** The global SharedArrayBuffer, looked up once (undefined where a host leaves it out). */
const SharedBuffer: typeof SharedArrayBuffer | undefined = globalThis.SharedArrayBuffer;

function isSharedBuffer(value: unknown): boolean {
  return SharedBuffer !== undefined && value instanceof SharedBuffer;
}

/** Whether `value` is a BufferSource (an ArrayBuffer or a view on one, not on a SharedArrayBuffer). */
export function isBufferSource(value: unknown): boolean {
  return value instanceof ArrayBuffer || (ArrayBuffer.isView(value) && !isSharedBuffer(value.buffer));
}

/**
 * A BufferSource, copied into a fresh Uint8Array as WebCrypto does. A detached
 * buffer reads as empty (as node reads it); a SharedArrayBuffer or a view on one
 * is a TypeError (as node refuses it).
 */
export function bufferSource(value: unknown, what: string): Uint8Array {
  // A plain Uint8Array, the usual argument of every sign and verify, checked and copied first
  // (a third of this function's time went to the general tests below before it).
  if (value instanceof Uint8Array && value.constructor === Uint8Array) {
    if (isSharedBuffer(value.buffer)) throw new TypeError(`${what} is a view on a SharedArrayBuffer`);
    return value.byteLength === 0 ? new Uint8Array(0) : new Uint8Array(value);
  }
  if (value instanceof ArrayBuffer) {
    // A detached buffer has byteLength 0, and constructing a view on it would throw.
    if (value.byteLength === 0) return new Uint8Array(0);
    // Uint8Array#slice copies faster than ArrayBuffer#slice (no species lookup).
    return new Uint8Array(value).slice();
  }
  if (ArrayBuffer.isView(value)) {
    if (isSharedBuffer(value.buffer)) throw new TypeError(`${what} is a view on a SharedArrayBuffer`);
    if (value.byteLength === 0) return new Uint8Array(0);
    // A plain Uint8Array (the usual argument) copies in one step; other views through a byte view.
    if (value.constructor === Uint8Array) return new Uint8Array(value as Uint8Array);
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  }
  if (isSharedBuffer(value)) throw new TypeError(`${what} must not be a SharedArrayBuffer`);
  throw new TypeError(`${what} must be an ArrayBuffer or an ArrayBufferView`);
}

/** WebIDL `unsigned long` with [EnforceRange]: a finite number in 0…2³²−1 after truncation. */
export function enforcedUnsignedLong(value: unknown, what: string): number {
  if (typeof value === 'bigint' || typeof value === 'symbol') throw new TypeError(`${what} must be a number`);
  const n = Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`${what} must be a finite number`);
  const t = Math.trunc(n);
  if (t < 0 || t > 0xffffffff) throw new TypeError(`${what} is outside the range of an unsigned long`);
  return t === 0 ? 0 : t;
}

/** `optional unsigned long? length = null` (deriveBits): WebIDL's modulo conversion, no range check. */
export function optionalLength(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint' || typeof value === 'symbol') throw new TypeError('length must be a number');
  const n = Number(value);
  if (!Number.isFinite(n) || n === 0) return 0;
  const t = Math.trunc(n);
  return ((t % 2 ** 32) + 2 ** 32) % 2 ** 32;
}

/** A HashAlgorithmIdentifier normalised for "digest": one of pkaccel's hash names, else NotSupportedError. */
export function hashName(value: unknown): HashName {
  // The usual spelling ('SHA-256'): no conversion, no search.
  if (typeof value === 'string' && HASH_SET.has(value)) return value as HashName;
  const id = algorithmIdentifier(value);
  const name = algorithmName(id);
  const hash = HASH_NAMES.find((h) => h === name.toUpperCase());
  if (!hash) throw domError('NotSupportedError', `unsupported hash "${name}"`);
  return hash;
}

/**
 * The dictionary members of `dictionary`, read from `algorithm` in order and converted.
 *
 * Every `subtle` call converts one, nearly always with the same member values as the call
 * before (`{ name: 'ECDSA', hash: 'SHA-256' }`): each member is still read from the caller's
 * object, in order, every time (a getter runs as WebIDL says), but when every value read is a
 * primitive identical to the last conversion's, that conversion's result (frozen) is returned
 * instead of converting again. Converting a primitive runs no caller code and depends on the
 * value alone, so the result is the same object of the same values; the first value that
 * differs (or is an object) makes the conversion run as before, the members ahead of it
 * converted from the primitives already read (no caller code runs for those either, so the
 * order of what a caller can observe is unchanged).
 */
export function dictionary(algorithm: string | object, name: string, members: Dictionary): Params {
  const source = typeof algorithm === 'string' ? NO_MEMBERS : (algorithm as Record<string, unknown>);
  const memo = memoOf(members);
  const entries = memo.entries;
  const last = memo.raw;
  let out: Record<string, unknown> | undefined;
  /** The values read, kept from the first difference on (before it they are `last`'s). */
  let raw: unknown[] | undefined;
  let primitives = true;
  let hashes = false;
  for (let i = 0; i < entries.length; i++) {
    const value = source[entries[i]![0]];
    const primitive = isPrimitive(value);
    if (!primitive) primitives = false;
    if (out === undefined) {
      if (primitive && last !== undefined && value === last[i]) continue;
      // The first value unlike the last conversion's: the members before it were the same
      // primitives, converted now (no caller code runs for them).
      out = {};
      raw = last === undefined ? [] : last.slice(0, i);
      for (let j = 0; j < i; j++) hashes = store(out, entries[j]!, raw[j], name) || hashes;
    }
    raw!.push(value);
    hashes = store(out, entries[i]!, value, name) || hashes;
  }
  if (out === undefined) {
    if (last !== undefined) return memo.params!;
    // A dictionary without members, converted for the first time.
    out = {};
    raw = [];
  }
  // WebCrypto normalises a HashAlgorithmIdentifier member after converting the whole dictionary.
  if (hashes)
    for (const [member, spec] of entries)
      if (spec.type === 'hash' && member in out) out[member] = hashName(out[member]);
  const params = Object.freeze(out) as Params;
  if (primitives) {
    memo.raw = raw;
    memo.params = params;
  }
  return params;
}

/** The members of a dictionary given as a string (`'ECDSA'`): none. */
const NO_MEMBERS: Readonly<Record<string, unknown>> = Object.freeze({});

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

/**
 * Convert one member's value into `out` (a missing required member is a TypeError); true if it is
 * a hash member that was present (normalised afterwards).
 */
function store(
  out: Record<string, unknown>,
  [member, spec]: readonly [string, Member],
  value: unknown,
  name: string,
): boolean {
  if (value === undefined) {
    if (spec.required) throw new TypeError(`${name}: the "${member}" member is required`);
    return false;
  }
  out[member] = convert(value, spec, `${name}.${member}`);
  return spec.type === 'hash';
}

/**
 * Per dictionary: its members in order (listed once), and the raw values of the last conversion
 * whose values were all primitives with its result.
 */
interface DictionaryMemo {
  readonly entries: readonly (readonly [string, Member])[];
  raw: unknown[] | undefined;
  params: Params | undefined;
}
const memos = new WeakMap<Dictionary, DictionaryMemo>();
/** The dictionary converted last and its memo (the table's, no caller data): the same one again is one comparison. */
let lastMembers: Dictionary | undefined;
let lastMemo: DictionaryMemo | undefined;
function memoOf(members: Dictionary): DictionaryMemo {
  if (members === lastMembers) return lastMemo!;
  let memo = memos.get(members);
  if (memo === undefined) {
    memo = { entries: Object.entries(members), raw: undefined, params: undefined };
    memos.set(members, memo);
  }
  lastMembers = members;
  lastMemo = memo;
  return memo;
}

function convert(value: unknown, member: Member, what: string) {
  switch (member.type) {
    case 'hash':
      return algorithmIdentifier(value);
    case 'ulong':
      return enforcedUnsignedLong(value, what);
    case 'bigInteger':
      if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
      return Uint8Array.from(value);
    case 'bufferSource':
      return bufferSource(value, what);
    case 'string':
      return domString(value, what);
    case 'key':
      // ECDH's and X25519's `public` (a CryptoKey; its material is resolved by held-keys).
      return cryptoKey(value, what);
    case 'ecdsaFormat': {
      const format = domString(value, what);
      if (format !== 'p1363' && format !== 'der') throw new TypeError(`${what} must be "p1363" or "der"`);
      return format;
    }
  }
}

/** WebIDL's CryptoKey argument: one of pkaccel's keys or node's, else TypeError. */
export function cryptoKey(value: unknown, what: string): CryptoKey | webcrypto.CryptoKey {
  if (isCryptoKey(value) || types.isCryptoKey(value)) return value as CryptoKey | webcrypto.CryptoKey;
  throw new TypeError(`${what} is not of type CryptoKey`);
}

/** importKey's `(BufferSource or JsonWebKey) keyData`, for `format`. */
export function keyData(value: unknown, format: KeyFormat): Uint8Array | JsonWebKey {
  const isBuffer = isBufferSource(value);
  if (format !== 'jwk') return bufferSource(value, 'keyData');
  if (isBuffer || typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError('keyData must be a JsonWebKey object for the "jwk" format');
  return value as JsonWebKey;
}
