/**
 * EMSA-PSS (RFC 8017 §9.1) over a digest, any salt length; MGF1 over the message
 * hash unless `mgfHash` names another. Used by core/algorithms (PSS composed over
 * raw RSA) and by providers that only have a raw RSA private operation.
 */

import { InvalidInputError } from '../driver/errors.js';
import { concat, constantTimeEqual, xor } from './bytes.js';
import { digest, randomOctets } from './digest.js';
import { HASH_BYTES, type HashName } from './hashes.js';
import { mgf1 } from './mgf1.js';

const ZEROS8 = new Uint8Array(8);

/** The largest salt EMSA-PSS fits for a modulus of `modBits` bits. */
export function pssMaxSaltLength(hash: HashName, modBits: number): number {
  return Math.ceil((modBits - 1) / 8) - HASH_BYTES[hash] - 2;
}

/**
 * EM of ⌈(modBits−1)/8⌉ bytes (emBits = modBits − 1). The salt is fresh random
 * bytes unless a test passes one. (Left-pad with one zero byte to the modulus
 * length when modBits ≡ 1 mod 8.)
 */
export function emsaPssEncode(
  hash: HashName,
  mHash: Uint8Array,
  modBits: number,
  saltLength: number,
  salt: Uint8Array = randomOctets(saltLength),
  mgfHash: HashName = hash,
): Uint8Array {
  const hLen = HASH_BYTES[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (mHash.length !== hLen) throw new InvalidInputError(`digest length does not match ${hash}`);
  if (!Number.isInteger(saltLength) || saltLength < 0)
    throw new InvalidInputError('PSS salt length must be a non-negative integer');
  if (salt.length !== saltLength) throw new InvalidInputError('PSS salt does not have the salt length');
  if (emLen < hLen + saltLength + 2)
    throw new InvalidInputError(`PSS salt length ${saltLength} too long for this modulus and ${hash}`);
  const h = digest(hash, ZEROS8, mHash, salt);
  const db = new Uint8Array(emLen - hLen - 1);
  db[emLen - saltLength - hLen - 2] = 0x01;
  db.set(salt, emLen - saltLength - hLen - 1);
  const maskedDb = xor(db, mgf1(mgfHash, h, db.length));
  maskedDb[0]! &= 0xff >> (8 * emLen - emBits);
  return concat(maskedDb, h, Uint8Array.of(0xbc));
}

/**
 * EMSA-PSS-VERIFY: whether `em` is a valid encoding of `mHash`. `em` is
 * ⌈(modBits−1)/8⌉ bytes, or the modulus length with leading zero bytes (as
 * s^e mod n comes back). Never throws.
 */
export function emsaPssVerify(
  hash: HashName,
  mHash: Uint8Array,
  em: Uint8Array,
  modBits: number,
  saltLength: number,
  mgfHash: HashName = hash,
): boolean {
  const hLen = HASH_BYTES[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (em.length > emLen) {
    for (let i = 0; i < em.length - emLen; i++) if (em[i] !== 0) return false;
    em = em.subarray(em.length - emLen);
  }
  if (mHash.length !== hLen || em.length !== emLen) return false;
  if (!Number.isInteger(saltLength) || saltLength < 0 || emLen < hLen + saltLength + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((maskedDb[0]! & ~topMask & 0xff) !== 0) return false;
  const db = xor(maskedDb, mgf1(mgfHash, h, maskedDb.length));
  db[0]! &= topMask;
  const padEnd = emLen - hLen - saltLength - 2;
  for (let i = 0; i < padEnd; i++) if (db[i] !== 0) return false;
  if (db[padEnd] !== 0x01) return false;
  const salt = db.subarray(db.length - saltLength);
  return constantTimeEqual(h, digest(hash, ZEROS8, mHash, salt));
}
