/**
 * Hashing for the algorithms layer. core may use node:crypto for hashing and
 * randomness (DESIGN: padding, hashing and encodings are TypeScript in core; the
 * hash functions themselves are OpenSSL's, through node:crypto).
 */

import { createHash, hash as oneShotHash, randomBytes } from 'node:crypto';
import type { HashName } from '../driver/keys.js';

const NODE_HASH: Readonly<Record<HashName, string>> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

export const HASH_BYTES: Readonly<Record<HashName, number>> = {
  'SHA-1': 20,
  'SHA-256': 32,
  'SHA-384': 48,
  'SHA-512': 64,
};

export function digest(hash: HashName, ...parts: readonly Uint8Array[]): Uint8Array {
  // One part (every signature's message hash): the one-shot API skips building a
  // Hash object, which was a fifth of the algorithms layer's time in ECDSA signing.
  if (parts.length === 1) return new Uint8Array(oneShotHash(NODE_HASH[hash], parts[0]!, 'buffer'));
  const h = createHash(NODE_HASH[hash]);
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

/** Fresh bytes from the operating system's CSPRNG. */
export function randomOctets(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}
