/** EME-OAEP (RFC 8017 §7.1) with MGF1 over the same hash, and a label. */

import { InvalidInputError } from '../driver/errors.js';
import type { HashName } from '../driver/keys.js';
import { concat, xor } from '../encoding/bytes.js';
import { digest, randomOctets } from '../encoding/digest.js';
import { HASH_BYTES } from '../encoding/hashes.js';
import { mgf1 } from '../encoding/mgf1.js';

/** The longest message OAEP fits in a `k`-byte modulus with `hash` (negative: none). */
export function oaepMaxMessageLength(hash: HashName, k: number): number {
  return k - 2 * HASH_BYTES[hash] - 2;
}

/** EM = 00 ‖ maskedSeed ‖ maskedDB, `k` bytes. The seed is fresh random bytes unless a test passes one. */
export function emeOaepEncode(
  hash: HashName,
  label: Uint8Array,
  message: Uint8Array,
  k: number,
  seed: Uint8Array = randomOctets(HASH_BYTES[hash]),
): Uint8Array {
  const hLen = HASH_BYTES[hash];
  const max = oaepMaxMessageLength(hash, k);
  if (message.length > max) {
    throw new InvalidInputError(
      max < 0
        ? `modulus too short for RSA-OAEP with ${hash}`
        : `RSA-OAEP plaintext of ${message.length} bytes is longer than the ${max} bytes this key and ${hash} allow`,
    );
  }
  if (seed.length !== hLen) throw new InvalidInputError('OAEP seed must be the hash length');
  const db = new Uint8Array(k - hLen - 1);
  db.set(digest(hash, label), 0);
  db[db.length - message.length - 1] = 0x01;
  db.set(message, db.length - message.length);
  const maskedDb = xor(db, mgf1(hash, seed, db.length));
  const maskedSeed = xor(seed, mgf1(hash, maskedDb, hLen));
  return concat(Uint8Array.of(0), maskedSeed, maskedDb);
}

/** The one error for every way a ciphertext can fail to decrypt (no padding oracle). */
export function oaepDecryptionError(): InvalidInputError {
  return new InvalidInputError('RSA-OAEP decryption failed');
}

/** 1 when the byte is zero, else 0, without a branch. */
function isZeroByte(b: number): number {
  return ((b - 1) >>> 31) & 1;
}

/**
 * Decode EM (`k` bytes). Every check runs whatever the earlier ones found, and
 * every failure is the same InvalidInputError, so that neither the message nor
 * the time taken tells which check failed (as far as JavaScript allows).
 */
export function emeOaepDecode(hash: HashName, label: Uint8Array, em: Uint8Array, k: number): Uint8Array {
  const hLen = HASH_BYTES[hash];
  if (em.length !== k || k < 2 * hLen + 2) throw oaepDecryptionError();
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seed = xor(maskedSeed, mgf1(hash, maskedDb, hLen));
  const db = xor(maskedDb, mgf1(hash, seed, maskedDb.length));
  const lHash = digest(hash, label);
  let bad = em[0]!;
  for (let i = 0; i < hLen; i++) bad |= db[i]! ^ lHash[i]!;
  // Find the 01 separator after the zero padding, scanning the whole block.
  let found = 0;
  let separator = 0;
  for (let i = hLen; i < db.length; i++) {
    const b = db[i]!;
    const isOne = isZeroByte(b ^ 1);
    const isZero = isZeroByte(b);
    const notFound = found ^ 1;
    const first = isOne & notFound;
    separator |= -first & i;
    // Before the separator only zero bytes may appear.
    bad |= notFound & ((isOne | isZero) ^ 1);
    found |= isOne;
  }
  bad |= found ^ 1;
  if (bad !== 0) throw oaepDecryptionError();
  return db.slice(separator + 1);
}
