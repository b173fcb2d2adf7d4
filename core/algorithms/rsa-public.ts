/**
 * Raw RSA with the public key, on the host: the check every RSA private-key
 * result goes through before release (the RSA-CRT fault attack: one faulty CRT
 * half leaks a factor of n), and the decoding step of composed verification.
 *
 * Cost matters here: it runs on the main thread for every private operation.
 * OpenSSL through node:crypto (publicEncrypt with RSA_NO_PADDING on a KeyObject
 * cached per key) measured 3.4–6.4× the rate of bigint modPow with e = 65537 on
 * 2048-bit moduli, 2–5× on 4096 (`npm run bench -- algorithms`, on a loaded
 * 2-core machine; the cache alone is worth ~1.3×). core may use node:crypto; the
 * KeyObject is built from the public key only and cached in a WeakMap keyed on
 * the RsaPublicKeyMaterial object, whose identity is stable for the key's life.
 * bigint modPow is the fallback for a key OpenSSL will not load.
 */

import { constants, createPublicKey, type KeyObject, publicEncrypt } from 'node:crypto';
import { bigintToBytes, bytesToBigint } from '../driver/bytes.js';
import type { RsaPublicKeyMaterial } from '../driver/keys.js';
import { modPow } from '../math/modular.js';

const keyObjects = new WeakMap<RsaPublicKeyMaterial, KeyObject | null>();

function base64url(value: bigint): string {
  return Buffer.from(bigintToBytes(value, Math.ceil(value.toString(16).length / 2))).toString('base64url');
}

function keyObjectOf(key: RsaPublicKeyMaterial): KeyObject | null {
  let cached = keyObjects.get(key);
  if (cached === undefined) {
    try {
      cached = createPublicKey({
        key: { kty: 'RSA', n: base64url(key.n), e: base64url(key.e) },
        format: 'jwk',
      });
    } catch {
      cached = null;
    }
    keyObjects.set(key, cached);
  }
  return cached;
}

/** Modulus length in bytes. */
export function modulusBytes(key: RsaPublicKeyMaterial): number {
  return Math.ceil(key.bits / 8);
}

/** input^e mod n with OpenSSL; `input` is k bytes and < n (the caller checks). */
export function rsaPublicOnHost(key: RsaPublicKeyMaterial, input: Uint8Array): Uint8Array {
  const keyObject = keyObjectOf(key);
  if (keyObject !== null) {
    return new Uint8Array(publicEncrypt({ key: keyObject, padding: constants.RSA_NO_PADDING }, input));
  }
  return rsaPublicBigint(key, input);
}

/** input^e mod n with bigint modPow (the fallback, and the baseline of the benchmark). */
export function rsaPublicBigint(key: RsaPublicKeyMaterial, input: Uint8Array): Uint8Array {
  return bigintToBytes(modPow(bytesToBigint(input), key.e, key.n), modulusBytes(key));
}

/**
 * n as k big-endian bytes, per key. Comparing bytes instead of converting each
 * value to a bigint: bytesToBigint on a 256-byte value built a 512-character
 * string per call and was 12% of the main thread's time in RSA verification.
 */
const modulusBytesOf = new WeakMap<
  RsaPublicKeyMaterial,
  { readonly n: bigint; readonly bytes: Uint8Array | null }
>();

/** n in k bytes, or null when `bits` understates n (a malformed key: the bigint comparison decides). */
function modulusAsBytes(key: RsaPublicKeyMaterial): Uint8Array | null {
  const cached = modulusBytesOf.get(key);
  // Keyed on identity, checked on value: a material object whose n changed gets fresh bytes.
  if (cached !== undefined && cached.n === key.n) return cached.bytes;
  const k = modulusBytes(key);
  const bytes = key.n >= 0n && key.n < 1n << BigInt(8 * k) ? bigintToBytes(key.n, k) : null;
  modulusBytesOf.set(key, { n: key.n, bytes });
  return bytes;
}

/** Whether `value` is a k-byte big-endian integer below n. */
export function isRsaRepresentative(key: RsaPublicKeyMaterial, value: Uint8Array): boolean {
  const k = modulusBytes(key);
  if (value.length !== k) return false;
  const n = modulusAsBytes(key);
  if (n === null) return bytesToBigint(value) < key.n;
  for (let i = 0; i < k; i++) {
    const a = value[i]!;
    const b = n[i]!;
    if (a !== b) return a < b;
  }
  return false; // equal to n
}
