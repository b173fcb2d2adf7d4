/** WebCrypto's `length` argument of deriveBits for ECDH and X25519, as node's webcrypto applies it. */

import { InvalidInputError } from '../driver/errors.js';

/**
 * null: the whole secret. Otherwise the first ⌈length/8⌉ bytes with the bits
 * past `length` in the last byte cleared (node 20 does the same); more bits
 * than the secret has is an error.
 */
export function takeBits(secret: Uint8Array, lengthBits: number | null): Uint8Array {
  if (lengthBits === null) return secret;
  if (!Number.isInteger(lengthBits) || lengthBits < 0) {
    throw new InvalidInputError('derived bit length must be a non-negative integer or null');
  }
  if (lengthBits > 8 * secret.length) {
    throw new InvalidInputError(
      `derived bit length ${lengthBits} exceeds the ${8 * secret.length} bits the key agreement gives`,
    );
  }
  const out = secret.slice(0, Math.ceil(lengthBits / 8));
  const spare = 8 * out.length - lengthBits;
  if (spare > 0) out[out.length - 1]! &= (0xff << spare) & 0xff;
  return out;
}
