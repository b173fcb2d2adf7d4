/**
 * Hashing and randomness through node:crypto (the hash functions are OpenSSL's;
 * DESIGN: padding, hashing and encodings are TypeScript, the primitives under
 * them are node's). The one module of core/encoding that imports node:crypto.
 */

import { createHash, hash as oneShotHash, randomBytes } from 'node:crypto';
import { type HashName, NODE_HASH } from './hashes.js';

/** The digest of the concatenated parts. */
export function digest(hash: HashName, ...parts: readonly Uint8Array[]): Uint8Array {
  // One part (every signature's message hash): the one-shot API skips building a
  // Hash object, which was a fifth of the algorithms layer's time in ECDSA signing.
  // A plain Uint8Array view of node's fresh Buffer (not a copy: one allocation less per signature).
  if (parts.length === 1) {
    const out = oneShotHash(NODE_HASH[hash], parts[0]!, 'buffer');
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  const h = createHash(NODE_HASH[hash]);
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

/** Fresh bytes from the operating system's CSPRNG. */
export function randomOctets(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}
