/**
 * What `subtle` hands to node's crypto.subtle (the algorithms pkaccel does not
 * run on devices: digest, AES-*, HMAC, HKDF, PBKDF2, Ed448, X448): node's keys
 * wrapped in pkaccel's CryptoKey class and unwrapped again, byte strings moved
 * through node's wrapKey/unwrapKey, node's public keys adopted as ECDH peers, and
 * the key lengths deriveKey asks for.
 */

import { KeyObject, webcrypto } from 'node:crypto';
import { types } from 'node:util';
import type { AsymmetricName } from '../algorithms/suite.js';
import { findAlgorithm } from '../algorithms/suite.js';
import type { PublicKeyMaterial } from '../driver/keys.js';
import { importKeyMaterial } from '../key-formats/index.js';
import { asNodeDoes, domError } from './dom-errors.js';
import { CryptoKey, isCryptoKey, nodeKeyOf } from './key-handle.js';
import * as idl from './webidl.js';

/** node's crypto.subtle, its rejections marked to reach the caller as node made them. */
export const nodeSubtle: webcrypto.SubtleCrypto = new Proxy(webcrypto.subtle, {
  get(target, property) {
    const value = Reflect.get(target, property, target) as unknown;
    if (typeof value !== 'function') return value;
    return (...args: unknown[]) => asNodeDoes(Reflect.apply(value, target, args) as Promise<unknown>);
  },
});
export type NodeCryptoKey = webcrypto.CryptoKey;
export type NodeAlgorithm = webcrypto.AlgorithmIdentifier;

/** node's key for a key handed to node: a wrapped one unwrapped; a key the accelerator holds is refused. */
export function forNode(key: CryptoKey | NodeCryptoKey): NodeCryptoKey {
  if (!isCryptoKey(key)) return key;
  const node = nodeKeyOf(key);
  if (node === undefined)
    throw domError('InvalidAccessError', `a ${key.algorithm.name} key cannot be used with this algorithm`);
  return node;
}

/** An algorithm object for node with CryptoKey members (ECDH/X448 `public`) unwrapped. */
export function nodeAlgorithm(algorithm: string | object): NodeAlgorithm {
  if (typeof algorithm === 'string') return algorithm;
  const pub = (algorithm as { public?: unknown }).public;
  if (!isCryptoKey(pub)) return algorithm as NodeAlgorithm;
  return { ...(algorithm as object), public: forNode(pub) } as unknown as NodeAlgorithm;
}

/** node's keys in the one key class. */
export function wrapResult(result: NodeCryptoKey): CryptoKey;
export function wrapResult(
  result: NodeCryptoKey | webcrypto.CryptoKeyPair,
): CryptoKey | { publicKey: CryptoKey; privateKey: CryptoKey };
export function wrapResult(result: NodeCryptoKey | webcrypto.CryptoKeyPair) {
  if (types.isCryptoKey(result)) return CryptoKey.wrap(result as NodeCryptoKey);
  const pair = result as webcrypto.CryptoKeyPair;
  return { publicKey: CryptoKey.wrap(pair.publicKey), privateKey: CryptoKey.wrap(pair.privateKey) };
}

/** A stand-in secret key for moving arbitrary bytes through node's wrapKey/unwrapKey. */
const CARRIER = { name: 'HMAC', hash: 'SHA-256' } as const;

/** Node wraps only its own CryptoKeys: carry the bytes in a throwaway HMAC key. */
export async function wrapBytes(
  bytes: Uint8Array,
  wrappingKey: CryptoKey | NodeCryptoKey,
  algorithm: string | object,
): Promise<ArrayBuffer> {
  const carrier = await nodeSubtle.importKey('raw', bytes, CARRIER, true, ['sign']);
  return nodeSubtle.wrapKey('raw', carrier, forNode(wrappingKey), nodeAlgorithm(algorithm));
}

export async function unwrapBytes(
  wrapped: Uint8Array,
  unwrappingKey: CryptoKey | NodeCryptoKey,
  algorithm: string | object,
): Promise<Uint8Array> {
  const key = forNode(unwrappingKey);
  const carrier = await nodeSubtle.unwrapKey('raw', wrapped, key, nodeAlgorithm(algorithm), CARRIER, true, [
    'sign',
  ]);
  return new Uint8Array(await nodeSubtle.exportKey('raw', carrier));
}

/** The key material of one of node's public keys, as an ECDH/X25519 peer (KeyObject.from: no promise). */
export function nodePublicMaterial(name: AsymmetricName, key: NodeCryptoKey): PublicKeyMaterial {
  const curve = (key.algorithm as { namedCurve?: string }).namedCurve;
  const spec = findAlgorithm(name)!.keySpec({ namedCurve: curve });
  const jwk = KeyObject.from(key).export({ format: 'jwk' });
  return importKeyMaterial('jwk', jwk, spec, { extractable: true, usages: [] }).material as PublicKeyMaterial;
}

/** HMAC's default key length is the hash's block size. */
function hmacDefaultBits(hash: unknown): number {
  const name = idl.algorithmName(idl.algorithmIdentifier(hash)).toUpperCase();
  return name === 'SHA-384' || name === 'SHA-512' ? 1024 : 512;
}

/** The bits deriveKey must derive for a key of `algorithm` (WebCrypto's "get key length"). */
export function derivedKeyBits(algorithm: string | object): number | null {
  const name = idl.algorithmName(algorithm);
  const upper = name.toUpperCase();
  const params = (typeof algorithm === 'string' ? {} : algorithm) as Record<string, unknown>;
  if (['AES-CTR', 'AES-CBC', 'AES-GCM', 'AES-KW'].includes(upper)) {
    const length = idl.enforcedUnsignedLong(params.length, `${name}.length`);
    if (![128, 192, 256].includes(length))
      throw domError('OperationError', 'AES key length must be 128, 192 or 256');
    return length;
  }
  if (upper === 'HMAC') {
    if (params.hash === undefined) throw new TypeError('HMAC: the "hash" member is required');
    return params.length === undefined
      ? hmacDefaultBits(params.hash)
      : idl.enforcedUnsignedLong(params.length, 'HMAC.length');
  }
  if (upper === 'HKDF' || upper === 'PBKDF2') return null;
  throw domError('NotSupportedError', `deriveKey cannot make a ${name} key`);
}
