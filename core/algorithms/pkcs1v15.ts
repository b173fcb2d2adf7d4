/** EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 00 01 FF…FF 00 ‖ DigestInfo ‖ H. */

import { InvalidInputError } from '../driver/errors.js';
import type { HashName } from '../driver/keys.js';
import { HASH_BYTES } from './hash.js';

/** DER of DigestInfo up to the digest octets (RFC 8017 §9.2 note 1). */
const DIGEST_INFO_PREFIX: Readonly<Record<HashName, Uint8Array>> = {
  'SHA-1': Uint8Array.from([
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
  ]),
  'SHA-256': Uint8Array.from([
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    0x04, 0x20,
  ]),
  'SHA-384': Uint8Array.from([
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00,
    0x04, 0x30,
  ]),
  'SHA-512': Uint8Array.from([
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00,
    0x04, 0x40,
  ]),
};

/** The encoded message of length `emLen` for the digest `mHash`. */
export function emsaPkcs1v15Encode(hash: HashName, mHash: Uint8Array, emLen: number): Uint8Array {
  if (mHash.length !== HASH_BYTES[hash]) throw new InvalidInputError(`digest length does not match ${hash}`);
  const prefix = DIGEST_INFO_PREFIX[hash];
  const tLen = prefix.length + mHash.length;
  // At least 8 bytes of FF padding.
  if (emLen < tLen + 11) throw new InvalidInputError(`modulus too short for PKCS#1 v1.5 with ${hash}`);
  const em = new Uint8Array(emLen);
  em[0] = 0x00;
  em[1] = 0x01;
  em.fill(0xff, 2, emLen - tLen - 1);
  em[emLen - tLen - 1] = 0x00;
  em.set(prefix, emLen - tLen);
  em.set(mHash, emLen - mHash.length);
  return em;
}
