/**
 * Hashing and randomness through node:crypto (the hash functions are OpenSSL's;
 * DESIGN: padding, hashing and encodings are TypeScript, the primitives under
 * them are node's). The one module of core/encoding that imports node:crypto.
 */

import * as nodeCrypto from 'node:crypto';
import { type HashName, NODE_HASH } from './hashes.js';

const { createHash, createHmac, randomBytes } = nodeCrypto;
/**
 * node's one-shot `crypto.hash` exists from Node 20.12 (and 21.7); the package runs on
 * any Node 20, where a named import of it would fail at link time, so it is looked up.
 */
const oneShotHash = (
  nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'binary') => string }
).hash;

/** The digest of the concatenated parts. */
export function digest(hash: HashName, ...parts: readonly Uint8Array[]): Uint8Array {
  // One part (every signature's message hash): the one-shot API skips building a
  // Hash object, which was a fifth of the algorithms layer's time in ECDSA signing.
  // Its output as a 'binary' (latin1) string, one char per byte (lossless), copied into a Uint8Array:
  // a 'buffer' output allocates an off-heap ArrayBuffer per call, which cost 1.0 µs
  // against 0.4 µs this way for SHA-256 of 64 bytes (and the collector's sweep of it).
  if (parts.length === 1 && oneShotHash !== undefined) {
    const s = oneShotHash(NODE_HASH[hash], parts[0]!, 'binary');
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const h = createHash(NODE_HASH[hash]);
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

/** HMAC over the concatenated parts, keyed with `key`. */
export function hmac(hash: HashName, key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHmac(NODE_HASH[hash], key);
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

/** Fresh bytes from the operating system's CSPRNG. */
export function randomOctets(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}
