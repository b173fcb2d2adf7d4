/**
 * RSA checks of the integrity gate. Every RSA private-key result is opened with
 * the public key before release: a CRT exponentiation with one faulty half gives
 * s with s^e ≡ m mod one prime and not the other, and gcd(s^e − m, n) then
 * factors n (Boneh–DeMillo–Lipton, "Bellcore"); so a result that does not open
 * to what went in is withheld.
 *
 * - `rsa-private`: s^e mod n must equal the input.
 * - `rsa-sign` (padding done by the device): s^e mod n must be the encoding of
 *   the request's digest (PKCS#1 v1.5: byte-equal to the deterministic EM; PSS:
 *   EMSA-PSS-VERIFY with the request's salt length and MGF hash).
 * - `rsa-decrypt` (OAEP done by the device): only the plaintext comes back, and
 *   OAEP is randomised, so re-encrypting cannot reproduce the ciphertext. What
 *   protects it is OAEP's own redundancy: a faulty m = c^d decodes to a random EM
 *   whose leading zero byte, lHash (hLen bytes) and 0x01 separator all have to
 *   come out right, about 2^-(8·hLen+16), so a CRT fault becomes a decoding error
 *   on the device, not a value. The gate checks what it can: the plaintext is no
 *   longer than k − 2·hLen − 2. It does not prove the plaintext is the one in the
 *   ciphertext. (core/algorithms offers device OAEP first, raw RSA second; a
 *   device that does both gets the OAEP request. Only the software provider pads
 *   OAEP today.)
 * - `rsa-verify`: see verdicts in gate.ts; `rsaVerifyExpected` decides a verdict
 *   from s^e mod n (the card's witness, or computed here).
 *
 * The public operation runs on the main thread for every private operation, so
 * cost matters: OpenSSL through node:crypto (publicEncrypt with RSA_NO_PADDING on
 * a KeyObject cached per key) measured 3.4–6.4× the rate of bigint modPow with
 * e = 65537 on 2048-bit moduli (`npm run bench -- algorithms`). The KeyObject is
 * built from the public key only and cached in a WeakMap keyed on the
 * RsaPublicKeyMaterial object, whose identity is stable for the key's life.
 * bigint modPow is the fallback for a key OpenSSL will not load.
 */

import { constants, createPublicKey, type KeyObject, publicEncrypt } from 'node:crypto';
import { bigintToBytes, bytesToBigint } from '../driver/bytes.js';
import type { RsaPublicKeyMaterial } from '../driver/keys.js';
import type { RsaSignaturePadding } from '../driver/primitives.js';
import { constantTimeEqual } from '../encoding/bytes.js';
import { emsaPkcs1v15Encode } from '../encoding/emsa-pkcs1v15.js';
import { emsaPssVerify } from '../encoding/emsa-pss.js';
import { HASH_BYTES, type HashName } from '../encoding/hashes.js';
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
export function isRsaRepresentative(key: RsaPublicKeyMaterial, value: unknown): value is Uint8Array {
  if (!(value instanceof Uint8Array)) return false;
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

/** `output^e mod n`, or null when `output` is not a representative (the device's fault either way). */
export function openWithPublicKey(key: RsaPublicKeyMaterial, output: unknown): Uint8Array | null {
  return isRsaRepresentative(key, output) ? rsaPublicOnHost(key, output) : null;
}

/** Whether the raw private-key result opens to `input`. */
export function rawPrivateResultHolds(
  key: RsaPublicKeyMaterial,
  input: Uint8Array,
  output: unknown,
): boolean {
  const opened = openWithPublicKey(key, output);
  return opened !== null && constantTimeEqual(opened, input);
}

/** Whether the k-byte `opened` = s^e mod n is a valid encoding of `digest` under `padding`. */
export function encodingMatches(
  key: RsaPublicKeyMaterial,
  padding: RsaSignaturePadding,
  digest: Uint8Array,
  opened: Uint8Array,
): boolean {
  if (padding.scheme === 'pkcs1-v1_5') {
    let em: Uint8Array;
    try {
      em = emsaPkcs1v15Encode(padding.hash, digest, modulusBytes(key));
    } catch {
      return false;
    }
    return constantTimeEqual(opened, em);
  }
  return emsaPssVerify(padding.hash, digest, opened, key.bits, padding.saltLength, padding.mgfHash);
}

/** Whether a device-padded signature opens to the encoding of the request's digest. */
export function paddedSignatureHolds(
  key: RsaPublicKeyMaterial,
  padding: RsaSignaturePadding,
  digest: Uint8Array,
  signature: unknown,
): boolean {
  const opened = openWithPublicKey(key, signature);
  return opened !== null && encodingMatches(key, padding, digest, opened);
}

/** The verdict an RSA verification must have: computed from `opened` (a witness) or on the host. */
export function rsaVerifyExpected(
  key: RsaPublicKeyMaterial,
  padding: RsaSignaturePadding,
  digest: Uint8Array,
  signature: Uint8Array,
  opened?: Uint8Array,
): boolean {
  if (!isRsaRepresentative(key, signature)) return false;
  const em = opened ?? rsaPublicOnHost(key, signature);
  return em.length === modulusBytes(key) && encodingMatches(key, padding, digest, em);
}

/** The longest plaintext OAEP with `hash` fits in a k-byte modulus. */
export function oaepMaxMessageLength(hash: HashName, k: number): number {
  return k - 2 * HASH_BYTES[hash] - 2;
}
