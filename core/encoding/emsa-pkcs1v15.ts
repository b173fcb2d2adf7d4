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

/**
 * The encoded message of length `emLen` for the digest `mHash`, written into `into` when given
 * (an array of `emLen` bytes whose earlier content does not matter), else into a new array.
 */
export function emsaPkcs1v15Encode(
  hash: HashName,
  mHash: Uint8Array,
  emLen: number,
  into?: Uint8Array,
): Uint8Array {
  if (mHash.length !== HASH_BYTES[hash]) throw new InvalidInputError(`digest length does not match ${hash}`);
  // Everything but the digest depends on the hash and the length alone: copied from a template
  // made once per pair (every signature on a raw-RSA card, every host check of one, encodes).
  const known = template(hash, emLen);
  let em: Uint8Array;
  if (into === undefined) em = known.slice();
  else {
    em = into;
    em.set(known);
  }
  em.set(mHash, emLen - mHash.length);
  return em;
}

/**
 * emsaPkcs1v15Encode into an array that may have held an earlier encoding given back with
 * releasePkcs1v15: a signature on a raw-RSA card encodes modulus-length bytes (256 for
 * RSA-2048), an off-heap ArrayBuffer per call, which the caller gives back once the job has
 * settled and nothing reads the encoding any more. The whole template is copied again, so
 * what an earlier user left in the array does not matter.
 */
export function emsaPkcs1v15EncodeReused(hash: HashName, mHash: Uint8Array, emLen: number): Uint8Array {
  return emsaPkcs1v15Encode(hash, mHash, emLen, spareOf(template(hash, emLen)).pop());
}

/**
 * Give back an encoding of emsaPkcs1v15EncodeReused (or emsaPkcs1v15Encode) that nothing will
 * read or hand out again: the next encoding of that hash and length may overwrite it.
 */
export function releasePkcs1v15(hash: HashName, em: Uint8Array): void {
  const known = templates.get(hash)?.get(em.length);
  if (known === undefined || em === known || em.byteOffset !== 0 || em.byteLength !== em.buffer.byteLength)
    return;
  const spare = spareOf(known);
  // As many as are in flight at once, bounded so a burst does not pin memory for ever.
  if (spare.length < MAX_SPARE) spare.push(em);
}

const MAX_SPARE = 1024;
/** Per template: encodings given back, to be written over. */
const spares = new WeakMap<Uint8Array, Uint8Array[]>();
function spareOf(known: Uint8Array): Uint8Array[] {
  let spare = spares.get(known);
  if (spare === undefined) {
    spare = [];
    spares.set(known, spare);
  }
  return spare;
}

/** Per hash, per length: 00 01 FF…FF 00 ‖ DigestInfo prefix, the digest's place left zero. */
const templates = new Map<HashName, Map<number, Uint8Array>>();

function template(hash: HashName, emLen: number): Uint8Array {
  let byLength = templates.get(hash);
  if (byLength === undefined) {
    byLength = new Map();
    templates.set(hash, byLength);
  }
  let em = byLength.get(emLen);
  if (em === undefined) {
    checkPkcs1v15Length(hash, emLen);
    const prefix = DIGEST_INFO_PREFIX[hash];
    const tLen = prefix.length + HASH_BYTES[hash];
    em = new Uint8Array(emLen);
    em[0] = 0x00;
    em[1] = 0x01;
    em.fill(0xff, 2, emLen - tLen - 1);
    em[emLen - tLen - 1] = 0x00;
    em.set(prefix, emLen - tLen);
    // A handful of key sizes in any one process; the bound only stops a caller that invents lengths.
    if (byLength.size < 64) byLength.set(emLen, em);
  }
  return em;
}
