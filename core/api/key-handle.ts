/**
 * `CryptoKey`: the one key class of an accelerator's `subtle`. Every key it
 * returns is an instance — asymmetric keys held by the accelerator, and the keys
 * of the algorithms `subtle` hands to node (AES, HMAC, HKDF, PBKDF2, Ed448,
 * X448), which it wraps — so `key instanceof CryptoKey` holds for all of them.
 *
 * Key material lives only in this module's WeakMap. Nothing reachable from a
 * key leads to it: a key has no own properties (its attributes are prototype
 * getters), so JSON.stringify, Object.keys/getOwnPropertyNames/Symbols and
 * util.inspect see only the attributes.
 *
 * `structuredClone(key)` and `postMessage(key)` throw a DataCloneError
 * ("#<CryptoKey> could not be cloned"): a key is bound to the accelerator (and
 * perhaps the card) that holds it, so it does not cross threads or processes; it
 * never clones silently into `{}`. (A key is a Proxy over its prototype object,
 * which the structured clone algorithm refuses.) Move a key between processes
 * with wrapKey/unwrapKey, or share the accelerator through `pkaccel serve`.
 *
 * `secretOf` is exported for core/api's own modules; the package entry does not
 * re-export it and package.json `exports` blocks deep imports.
 */

import type { webcrypto } from 'node:crypto';
import { inspect } from 'node:util';
import type { KeyUsage } from '../algorithms/suite.js';
import type { EcCurveName, HashName, PrivateKeyMaterial, PublicKeyMaterial } from '../driver/keys.js';
import type { KeySpec } from '../key-formats/index.js';

export type { KeyUsage } from '../algorithms/suite.js';
/**
 * A key's `type` attribute: half of an asymmetric pair (`public`, `private`), or a
 * symmetric key node made (`secret`).
 *
 * @category WebCrypto
 */
export type KeyType = 'public' | 'private' | 'secret';

/**
 * The `algorithm` attribute of a key, as WebCrypto defines it per algorithm.
 *
 * @category WebCrypto
 */
export type KeyAlgorithm =
  | {
      /** The RSA algorithm the key is bound to. */
      readonly name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'RSA-OAEP';
      /** Modulus length in bits. */
      readonly modulusLength: number;
      /** The public exponent e, big-endian bytes without leading zeros (65537: `[1, 0, 1]`). */
      readonly publicExponent: Uint8Array;
      /** The hash the key is bound to. */
      readonly hash: {
        /** Its WebCrypto name (`'SHA-256'`, …). */
        readonly name: HashName;
      };
    }
  | {
      /** pkaccel's unpadded RSA: the key carries no hash. */
      readonly name: 'RSA-RAW';
      /** Modulus length in bits. */
      readonly modulusLength: number;
      /** The public exponent e, big-endian bytes without leading zeros. */
      readonly publicExponent: Uint8Array;
    }
  | {
      /** The EC algorithm the key is bound to. */
      readonly name: 'ECDSA' | 'ECDH';
      /** The key's curve. */
      readonly namedCurve: EcCurveName;
    }
  | {
      /** The curve is the algorithm: Ed25519 signs, X25519 agrees keys. */
      readonly name: 'Ed25519' | 'X25519';
    }
  /** A key of an algorithm node runs (AES-*, HMAC, HKDF, PBKDF2, Ed448, X448): node's attribute. */
  | {
      /** The algorithm's name, as node reports it. */
      readonly name: string;
      readonly [member: string]: unknown;
    };

/** @internal What an accelerator key holds. */
export interface Secret {
  readonly material: PublicKeyMaterial | PrivateKeyMaterial;
  readonly spec: KeySpec;
}

type State =
  | {
      readonly kind: 'held';
      readonly type: 'public' | 'private';
      readonly extractable: boolean;
      readonly algorithm: KeyAlgorithm;
      readonly usages: readonly KeyUsage[];
      readonly secret: Secret;
    }
  | { readonly kind: 'node'; readonly key: webcrypto.CryptoKey };

/** Keyed by the key (the Proxy) and by its target, which util.inspect looks at. */
const states = new WeakMap<object, State>();

function stateOf(key: unknown): State {
  const state = typeof key === 'object' && key !== null ? states.get(key) : undefined;
  if (state === undefined) throw new TypeError('Illegal invocation: not a CryptoKey of this accelerator');
  return state;
}

function make(state: State): CryptoKey {
  const target = Object.create(CryptoKey.prototype) as CryptoKey;
  const key = new Proxy(target, {});
  states.set(key, state);
  states.set(target, state);
  return key;
}

/**
 * A key of an accelerator's `subtle` (WebCrypto's CryptoKey interface). Not
 * constructible: keys come from generateKey, importKey, deriveKey and unwrapKey.
 * Its attributes are read-only getters; the key material is out of reach of
 * JSON.stringify, util.inspect and structuredClone (which throws).
 *
 * @example
 * ```ts
 * const { privateKey } = await accel.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
 * privateKey instanceof accel.crypto.CryptoKey; // true
 * privateKey.type; // 'private'
 * privateKey.extractable; // false: exportKey refuses it
 * ```
 *
 * @category WebCrypto
 */
export class CryptoKey {
  /** @internal Always throws a TypeError ("Illegal constructor"). */
  constructor() {
    throw new TypeError('Illegal constructor');
  }

  /** @internal A key the accelerator holds (core/api only). */
  static create(
    type: 'public' | 'private',
    extractable: boolean,
    usages: readonly KeyUsage[],
    secret: Secret,
  ): CryptoKey {
    return make({
      kind: 'held',
      type,
      extractable,
      algorithm: algorithmOf(secret),
      usages: Object.freeze([...usages]),
      secret,
    });
  }

  /** @internal Wrap one of node's keys (the algorithms `subtle` hands to node). */
  static wrap(key: webcrypto.CryptoKey): CryptoKey {
    return make({ kind: 'node', key });
  }

  /**
   * @internal The checks every operation makes, without the defensive copies the
   * public `algorithm` and `usages` getters return (two allocations per call, on
   * every sign and verify).
   */
  static algorithmNameOf(key: CryptoKey): string {
    const state = stateOf(key);
    return state.kind === 'held' ? state.algorithm.name : state.key.algorithm.name;
  }

  /** @internal Whether `usage` is among the key's usages. */
  static allows(key: CryptoKey, usage: KeyUsage): boolean {
    const state = stateOf(key);
    return state.kind === 'held' ? state.usages.includes(usage) : state.key.usages.includes(usage);
  }

  /** `public` or `private` for the halves of a pair, `secret` for a symmetric key. */
  get type(): KeyType {
    const state = stateOf(this);
    return state.kind === 'held' ? state.type : state.key.type;
  }
  /** Whether exportKey and wrapKey may reveal the key (always true for public keys). */
  get extractable(): boolean {
    const state = stateOf(this);
    return state.kind === 'held' ? state.extractable : state.key.extractable;
  }
  /** A fresh copy each time, so callers cannot alter the key's algorithm. */
  get algorithm(): KeyAlgorithm {
    const state = stateOf(this);
    return state.kind === 'held' ? copyAlgorithm(state.algorithm) : (state.key.algorithm as KeyAlgorithm);
  }
  /** What the key may be used for (a fresh copy each time); an operation with another usage is an InvalidAccessError. */
  get usages(): KeyUsage[] {
    const state = stateOf(this);
    return state.kind === 'held' ? [...state.usages] : ([...state.key.usages] as KeyUsage[]);
  }
  /** `'CryptoKey'`, so `Object.prototype.toString.call(key)` is `[object CryptoKey]` as for node's keys. */
  get [Symbol.toStringTag](): string {
    return 'CryptoKey';
  }
  /** Only the attributes: what node prints for its own CryptoKey. */
  [inspect.custom](depth: number, options: { stylize?: unknown }, show: typeof inspect): string {
    if (depth < 0) return '[CryptoKey]';
    const { type, extractable, algorithm, usages } = this;
    return `CryptoKey ${show({ type, extractable, algorithm, usages }, { ...(options as object), depth: depth - 1 })}`;
  }
  /** `{}`: JSON.stringify reveals nothing of a key, as for node's keys. */
  toJSON(): Record<string, unknown> {
    return {};
  }
}

function copyAlgorithm(a: KeyAlgorithm): KeyAlgorithm {
  const out: Record<string, unknown> = { ...a };
  if (out.publicExponent instanceof Uint8Array) out.publicExponent = Uint8Array.from(out.publicExponent);
  if (typeof out.hash === 'object' && out.hash !== null) out.hash = { ...out.hash };
  return out as KeyAlgorithm;
}

function exponentBytes(e: bigint): Uint8Array {
  let hex = e.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function algorithmOf({ material, spec }: Secret): KeyAlgorithm {
  if (spec.family === 'rsa') {
    const pub = material.kind === 'rsa-private' ? material.publicKey : material;
    if (pub.kind !== 'rsa-public') throw new TypeError('RSA key spec with non-RSA material');
    const base = { modulusLength: pub.bits, publicExponent: exponentBytes(pub.e) };
    if (spec.name === 'RSA-RAW') return { name: 'RSA-RAW', ...base };
    if (spec.hash === undefined) throw new TypeError(`${spec.name} key without a hash`);
    return { name: spec.name, ...base, hash: { name: spec.hash } };
  }
  if (spec.family === 'ec') return { name: spec.name, namedCurve: spec.curve };
  return { name: spec.name };
}

/** Whether `value` is a key made by this module (not a look-alike). */
export function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof value === 'object' && value !== null && states.has(value);
}

/** Whether `value` is a key the accelerator holds (an asymmetric key of pkaccel's algorithms). */
export function isAcceleratorKey(value: unknown): value is CryptoKey {
  return isCryptoKey(value) && states.get(value)!.kind === 'held';
}

/** node's key behind a wrapped key, or undefined for a key the accelerator holds. */
export function nodeKeyOf(key: CryptoKey): webcrypto.CryptoKey | undefined {
  const state = stateOf(key);
  return state.kind === 'node' ? state.key : undefined;
}

/** The material and spec behind a held key. core/api internal. */
export function secretOf(key: CryptoKey): Secret {
  const state = stateOf(key);
  if (state.kind !== 'held') throw new TypeError('not a key held by the accelerator');
  return state.secret;
}

/**
 * @deprecated The former name of the key class; the same class.
 * @category WebCrypto
 */
export const AcceleratorCryptoKey = CryptoKey;
/**
 * @deprecated The former name of the key class; the same class.
 * @category WebCrypto
 */
export type AcceleratorCryptoKey = CryptoKey;
