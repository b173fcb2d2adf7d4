/**
 * Key handles: CryptoKey-shaped objects (type, extractable, algorithm, usages)
 * whose key material lives only in this module's WeakMap. Nothing reachable from
 * a handle leads to the material: the handle has no own properties (its
 * attributes are prototype getters over private fields), so JSON.stringify,
 * structuredClone, Object.keys/getOwnPropertyNames/getOwnPropertySymbols and
 * util.inspect see only the attributes. `materialOf` is exported for core/api's
 * own modules; the package entry does not re-export it and package.json
 * `exports` blocks deep imports.
 */

import { inspect } from 'node:util';
import type { EcCurveName, HashName, PrivateKeyMaterial, PublicKeyMaterial } from '../driver/keys.js';
import type { KeySpec } from '../key-formats/index.js';

export type KeyType = 'public' | 'private';
export type KeyUsage =
  | 'encrypt'
  | 'decrypt'
  | 'sign'
  | 'verify'
  | 'deriveKey'
  | 'deriveBits'
  | 'wrapKey'
  | 'unwrapKey';

/** The `algorithm` attribute of a key handle, as WebCrypto defines it per algorithm. */
export type KeyAlgorithm =
  | {
      readonly name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'RSA-OAEP';
      readonly modulusLength: number;
      readonly publicExponent: Uint8Array;
      readonly hash: { readonly name: HashName };
    }
  | { readonly name: 'RSA-RAW'; readonly modulusLength: number; readonly publicExponent: Uint8Array }
  | { readonly name: 'ECDSA' | 'ECDH'; readonly namedCurve: EcCurveName }
  | { readonly name: 'Ed25519' | 'X25519' };

interface Secret {
  readonly material: PublicKeyMaterial | PrivateKeyMaterial;
  readonly spec: KeySpec;
}

const secrets = new WeakMap<AcceleratorCryptoKey, Secret>();

/** A key held by an accelerator. Created only by `subtle` (importKey, generateKey, unwrapKey, deriveKey). */
export class AcceleratorCryptoKey {
  readonly #type: KeyType;
  readonly #extractable: boolean;
  readonly #algorithm: KeyAlgorithm;
  readonly #usages: readonly KeyUsage[];

  private constructor(
    type: KeyType,
    extractable: boolean,
    algorithm: KeyAlgorithm,
    usages: readonly KeyUsage[],
  ) {
    this.#type = type;
    this.#extractable = extractable;
    this.#algorithm = algorithm;
    this.#usages = Object.freeze([...usages]);
  }

  /** @internal Used by core/api only. */
  static create(
    type: KeyType,
    extractable: boolean,
    usages: readonly KeyUsage[],
    secret: Secret,
  ): AcceleratorCryptoKey {
    const key = new AcceleratorCryptoKey(type, extractable, algorithmOf(secret), usages);
    secrets.set(key, secret);
    return key;
  }

  /**
   * @internal The checks every operation makes, without the defensive copies the
   * public `algorithm` and `usages` getters return (two allocations per call, on
   * every sign and verify).
   */
  static algorithmNameOf(key: AcceleratorCryptoKey): KeyAlgorithm['name'] {
    return key.#algorithm.name;
  }

  /** @internal Whether `usage` is among the key's usages. */
  static allows(key: AcceleratorCryptoKey, usage: KeyUsage): boolean {
    return key.#usages.includes(usage);
  }

  get type(): KeyType {
    return this.#type;
  }
  get extractable(): boolean {
    return this.#extractable;
  }
  /** A fresh copy each time, so callers cannot alter the key's algorithm. */
  get algorithm(): KeyAlgorithm {
    return copyAlgorithm(this.#algorithm);
  }
  get usages(): KeyUsage[] {
    return [...this.#usages];
  }
  get [Symbol.toStringTag](): string {
    return 'CryptoKey';
  }
  /** Only the attributes: what node prints for its own CryptoKey. */
  [inspect.custom](depth: number, options: { stylize?: unknown }, show: typeof inspect): string {
    if (depth < 0) return '[CryptoKey]';
    return `CryptoKey ${show(
      { type: this.#type, extractable: this.#extractable, algorithm: this.#algorithm, usages: this.#usages },
      { ...(options as object), depth: depth - 1 },
    )}`;
  }
  toJSON(): Record<string, unknown> {
    return {};
  }
}

function copyAlgorithm(a: KeyAlgorithm): KeyAlgorithm {
  if ('hash' in a)
    return { ...a, publicExponent: Uint8Array.from(a.publicExponent), hash: { name: a.hash.name } };
  if ('publicExponent' in a) return { ...a, publicExponent: Uint8Array.from(a.publicExponent) };
  return { ...a };
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

/** Whether `value` is a handle made by this module (not a look-alike). */
export function isAcceleratorKey(value: unknown): value is AcceleratorCryptoKey {
  return typeof value === 'object' && value !== null && secrets.has(value as AcceleratorCryptoKey);
}

/** The material and spec behind a handle. core/api internal. */
export function secretOf(key: AcceleratorCryptoKey): Secret {
  const secret = secrets.get(key);
  if (!secret) throw new TypeError('not a key handle of this library');
  return secret;
}
