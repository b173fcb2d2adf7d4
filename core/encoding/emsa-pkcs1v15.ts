/** EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 00 01 FF…FF 00 ‖ DigestInfo ‖ H. */

import { InvalidInputError } from '../driver/errors.js';
import { concat } from './bytes.js';
import { DIGEST_INFO_PREFIX, HASH_BYTES, type HashName } from './hashes.js';

/** DigestInfo ‖ H: what PKCS#1 v1.5 signs (the T of RFC 8017 §9.2 step 2). */
export function digestInfo(hash: HashName, mHash: Uint8Array): Uint8Array {
  if (mHash.length !== HASH_BYTES[hash]) throw new InvalidInputError(`digest length does not match ${hash}`);
  return concat(DIGEST_INFO_PREFIX[hash], mHash);
}

/**
 * InvalidInputError unless an encoding of `emLen` bytes can hold a `hash` digest (at least 8
 * bytes of FF padding): the check emsaPkcs1v15Encode makes, for a caller that encodes later or never.
 */
export function checkPkcs1v15Length(hash: HashName, emLen: number): void {
  if (emLen < DIGEST_INFO_PREFIX[hash].length + HASH_BYTES[hash] + 11)
    throw new InvalidInputError(`modulus too short for PKCS#1 v1.5 with ${hash}`);
}

/** The encoded message of length `emLen` for the digest `mHash`. */
export function emsaPkcs1v15Encode(hash: HashName, mHash: Uint8Array, emLen: number): Uint8Array {
  if (mHash.length !== HASH_BYTES[hash]) throw new InvalidInputError(`digest length does not match ${hash}`);
  const prefix = DIGEST_INFO_PREFIX[hash];
  const tLen = prefix.length + mHash.length;
  checkPkcs1v15Length(hash, emLen);
  const em = new Uint8Array(emLen);
  em[0] = 0x00;
  em[1] = 0x01;
  em.fill(0xff, 2, emLen - tLen - 1);
  em[emLen - tLen - 1] = 0x00;
  em.set(prefix, emLen - tLen);
  em.set(mHash, emLen - mHash.length);
  return em;
}
