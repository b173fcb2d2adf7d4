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
  checkDigestLength(hash, mHash);
  // Everything but the digest depends on the hash and the length alone: copied from a template
  // made once per pair (every signature on a raw-RSA card, every host check of one, encodes).
  return fill(template(hash, emLen), mHash, into);
}

function checkDigestLength(hash: HashName, mHash: Uint8Array): void {
  if (mHash.length !== HASH_BYTES[hash]) throw new InvalidInputError(`digest length does not match ${hash}`);
}

/** The template with `mHash` in the digest's place, in `into` (whatever it held) or a new array. */
function fill(known: Uint8Array, mHash: Uint8Array, into: Uint8Array | undefined): Uint8Array {
  let em: Uint8Array;
  if (into === undefined) em = known.slice();
  else {
    em = into;
    em.set(known);
  }
  em.set(mHash, known.length - mHash.length);
  return em;
}

/**
 * The reuse of one (hash, length) pair: its template and the encodings given back, looked up
 * once — a signing key keeps the one it signs with. A signature on a raw-RSA card encodes
 * modulus-length bytes (256 for RSA-2048), an off-heap ArrayBuffer per call; the caller gives
 * the encoding back (releaseReused) once the job has settled and nothing reads it any more.
 * InvalidInputError when `emLen` cannot hold a `hash` encoding.
 */
export interface Pkcs1v15Reuse {
  readonly hash: HashName;
  readonly template: Uint8Array;
  readonly spare: Uint8Array[];
}

export function pkcs1v15Reuse(hash: HashName, emLen: number): Pkcs1v15Reuse {
  return reuseOf(hash, template(hash, emLen));
}

/**
 * emsaPkcs1v15Encode into an array given back to `reuse`, if any, for a digest of `reuse.hash`'s
 * length (the caller made or checked it). The whole template is copied again, so what an
 * earlier user left in the array does not matter.
 */
export function encodeReused(reuse: Pkcs1v15Reuse, mHash: Uint8Array): Uint8Array {
  return fill(reuse.template, mHash, reuse.spare.pop());
}

/**
 * Give back an encoding of encodeReused (or emsaPkcs1v15Encode) that nothing will read or hand
 * out again: the next encoding of `reuse` may overwrite it. Not the template, nor an array of
 * another length or a view that does not own its buffer (dropped).
 */
export function releaseReused(reuse: Pkcs1v15Reuse, em: Uint8Array): void {
  const known = reuse.template;
  if (
    em === known ||
    em.length !== known.length ||
    em.byteOffset !== 0 ||
    em.byteLength !== em.buffer.byteLength
  )
    return;
  const spare = reuse.spare;
  // As many as are in flight at once, bounded so a burst does not pin memory for ever.
  if (spare.length < MAX_SPARE) spare.push(em);
}

const MAX_SPARE = 1024;
/** Per template: its reuse (the encodings given back, to be written over). */
const reuses = new WeakMap<Uint8Array, Pkcs1v15Reuse>();
function reuseOf(hash: HashName, known: Uint8Array): Pkcs1v15Reuse {
  let reuse = reuses.get(known);
  if (reuse === undefined) {
    reuse = { hash, template: known, spare: [] };
    reuses.set(known, reuse);
  }
  return reuse;
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
