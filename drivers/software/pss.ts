/**
 * EMSA-PSS (RFC 8017 §9.1) over a digest. node:crypto signs PSS only over a
 * message, and the primitive hands us the digest, so the encoding is done here
 * and the RSA step is OpenSSL's raw private operation. (core/algorithms has its
 * own copy for composing over raw RSA; the layer rules keep drivers from importing it.)
 */

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type HashName, InvalidInputError } from '../../core/driver/index.js';
import { HASH_BYTES, hash } from './hashes.js';

const ZEROS8 = new Uint8Array(8);

/** MGF1 (RFC 8017 B.2.1). */
export function mgf1(hashName: HashName, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  const hLen = HASH_BYTES[hashName];
  for (let i = 0, off = 0; off < length; i++, off += hLen) {
    counter[0] = i >>> 24;
    counter[1] = (i >>> 16) & 0xff;
    counter[2] = (i >>> 8) & 0xff;
    counter[3] = i & 0xff;
    const block = hash(hashName, seed, counter);
    out.set(block.subarray(0, Math.min(hLen, length - off)), off);
  }
  return out;
}

export interface PssParams {
  readonly hash: HashName;
  readonly mgfHash: HashName;
  readonly saltLength: number;
}

/** EMSA-PSS-ENCODE with emBits = modBits - 1; returns EM left-padded to `modulusBytes`. */
export function pssEncode(digest: Uint8Array, params: PssParams, modBits: number, modulusBytes: number) {
  const hLen = HASH_BYTES[params.hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const sLen = params.saltLength;
  if (!Number.isInteger(sLen) || sLen < 0 || emLen < hLen + sLen + 2) {
    throw new InvalidInputError(
      `rsa-sign: PSS salt length ${sLen} does not fit a ${modBits}-bit modulus with ${params.hash}`,
    );
  }
  const salt = randomBytes(sLen);
  const h = hash(params.hash, ZEROS8, digest, salt);
  const dbLen = emLen - hLen - 1;
  const db = mgf1(params.mgfHash, h, dbLen);
  db[dbLen - sLen - 1]! ^= 0x01;
  for (let i = 0; i < sLen; i++) db[dbLen - sLen + i]! ^= salt[i]!;
  db[0]! &= 0xff >>> (8 * emLen - emBits);
  const em = new Uint8Array(modulusBytes);
  const off = modulusBytes - emLen;
  em.set(db, off);
  em.set(h, off + dbLen);
  em[modulusBytes - 1] = 0xbc;
  return em;
}

/** EMSA-PSS-VERIFY on the modulus-length result of s^e mod n. False for any mismatch. */
export function pssVerify(digest: Uint8Array, params: PssParams, modBits: number, m: Uint8Array): boolean {
  const hLen = HASH_BYTES[params.hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const sLen = params.saltLength;
  if (!Number.isInteger(sLen) || sLen < 0 || emLen < hLen + sLen + 2) return false;
  for (let i = 0; i < m.length - emLen; i++) if (m[i] !== 0) return false;
  const em = m.subarray(m.length - emLen);
  if (em[emLen - 1] !== 0xbc) return false;
  const dbLen = emLen - hLen - 1;
  const h = em.subarray(dbLen, dbLen + hLen);
  const topMask = 0xff >>> (8 * emLen - emBits);
  if ((em[0]! & ~topMask) !== 0) return false;
  const db = mgf1(params.mgfHash, h, dbLen);
  for (let i = 0; i < dbLen; i++) db[i]! ^= em[i]!;
  db[0]! &= topMask;
  const psLen = dbLen - sLen - 1;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(dbLen - sLen);
  return timingSafeEqual(hash(params.hash, ZEROS8, digest, salt), h);
}
