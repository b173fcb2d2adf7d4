/**
 * RSAES-PKCS1-v1_5 decryption with implicit rejection (draft-irtf-cfrg-rsa-guidance,
 * §7: the scheme OpenSSL 3.2+ uses by default for RSA_PKCS1_PADDING). A padding
 * failure is not an error: the caller gets a synthetic message derived from the
 * key and the ciphertext, the same one for the same ciphertext every time, of a
 * length drawn from 0..k−11 — so there is no padding oracle (Bleichenbacher) for
 * an attacker to query, whatever the caller does with the result.
 *
 * The private operation is raw RSA on a device, through the job queue (the
 * integrity gate checks m^e mod n = c before the result gets here); the decoding
 * and the synthetic message are computed here on the host.
 *
 * Secrets: the draft derives everything from KDK = HMAC-SHA256(SHA-256(I2OSP(d, k)), C).
 * SHA-256(I2OSP(d, k)) — the key's "rejection secret" below — is computed once when
 * the key is loaded and kept beside it; d itself is not needed here again.
 *
 * Timing: the decoding reads every byte of the encoded message and of the synthetic
 * message and selects between them with masks (no branch, index or early exit
 * depends on the padding's validity), as the draft asks. What JavaScript cannot
 * promise: that the JIT keeps this arithmetic branch-free, that the engine's
 * small-integer and array paths take the same time for every value, and that the
 * bigint-to-bytes conversion of the raw result (done before decoding, in native
 * code through hex) runs in time independent of the value's leading zero bytes.
 * The HMAC and SHA-256 calls are OpenSSL's (node:crypto, through core/encoding/digest).
 * Implicit rejection is what makes such residual leaks matter less: the output no
 * longer depends on a secret validity bit an attacker can learn from an error.
 */

import { InvalidInputError, throwIfAborted } from '../driver/errors.js';
import type { PrimitiveExecutor } from '../driver/index.js';
import type { RsaPrivateKeyMaterial } from '../driver/keys.js';
import { bigintToBytes } from '../encoding/bytes.js';
import { digest, hmac } from '../encoding/digest.js';
import type { Options } from './params.js';
import { modulusBytes } from './rsa-public.js';
import { rsaRawPrivate } from './rsa-raw.js';

/** The draft draws this many 16-bit length candidates: all too long has probability 2^-128 or less. */
const LENGTH_CANDIDATES = 128;
/** The draft's PRF runs HMAC-SHA256; its output is 32 bytes a block. */
const HMAC_BYTES = 32;
/** A valid encoding has at least 8 bytes of padding after 0x00 0x02. */
const MIN_PADDING = 8;

/** SHA-256(I2OSP(d, k)): derived once per key (at load), the seed of every ciphertext's KDK. */
export function rejectionSecret(key: RsaPrivateKeyMaterial): Uint8Array {
  const d = bigintToBytes(key.d, modulusBytes(key.publicKey));
  const secret = digest('SHA-256', d);
  d.fill(0);
  return secret;
}

/**
 * The draft's PRF: HMAC-SHA256(KDK, I2OSP(i, 2) ‖ label ‖ I2OSP(bits, 2)) for i = 0, 1, …,
 * concatenated and cut to `length` bytes (`bits` = 8·length, the output's length in bits).
 */
function prf(kdk: Uint8Array, label: string, length: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(length / HMAC_BYTES) * HMAC_BYTES);
  const bits = length * 8;
  const labelBytes = latin1(label);
  const suffix = Uint8Array.of(bits >>> 8, bits & 0xff);
  for (let i = 0; i * HMAC_BYTES < length; i++) {
    out.set(hmac('SHA-256', kdk, Uint8Array.of(i >>> 8, i & 0xff), labelBytes, suffix), i * HMAC_BYTES);
  }
  return out.subarray(0, length);
}

/** The draft's labels ("length", "message") as bytes. */
const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

// Constant-time helpers over small non-negative integers (< 2^30): masks are 0 or -1 (all ones).
/** -1 when x is 0. */
const zeroMask = (x: number): number => (x - 1) >> 31;
/** -1 when a < b. */
const lessMask = (a: number, b: number): number => (a - b) >> 31;
/** a where mask is -1, b where it is 0. */
const select = (mask: number, a: number, b: number): number => (a & mask) | (b & ~mask);

/**
 * The synthetic message's length: the last of 128 PRF-drawn candidates (each masked to
 * the bit length of k − 10) that is below k − 10, so 0..k−11 (0 if none is, p ≤ 2^-128).
 */
function syntheticLength(kdk: Uint8Array, k: number): number {
  const candidates = prf(kdk, 'length', 2 * LENGTH_CANDIDATES);
  const limit = k - 2 - MIN_PADDING;
  let mask = limit;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  let length = 0;
  for (let i = 0; i < candidates.length; i += 2) {
    const candidate = ((candidates[i]! << 8) | candidates[i + 1]!) & mask;
    length = select(lessMask(candidate, limit), candidate, length);
  }
  return length;
}

/**
 * EME-PKCS1-v1_5 decoding with implicit rejection: the message in `em` (the k-byte
 * result of the raw private operation on `ciphertext`) when its padding is valid,
 * else the synthetic message for this ciphertext. Never throws for a bad padding.
 */
export function emePkcs1DecodeImplicit(
  em: Uint8Array,
  ciphertext: Uint8Array,
  secret: Uint8Array,
): Uint8Array {
  const k = em.length;
  if (ciphertext.length !== k || k < 2 + MIN_PADDING + 1)
    throw new InvalidInputError(`the encoded message and the ciphertext must both be k ≥ 11 bytes`);
  const kdk = hmac('SHA-256', secret, ciphertext);
  const synthetic = prf(kdk, 'message', k);
  const syntheticStart = k - syntheticLength(kdk, k);
  kdk.fill(0);

  // good: -1 while the encoding is valid; every byte is read whatever it holds.
  let good = zeroMask(em[0]!) & zeroMask(em[1]! ^ 2);
  let found = 0;
  let separator = 0;
  for (let i = 2; i < k; i++) {
    const isZero = zeroMask(em[i]!);
    separator = select(~found & isZero, i, separator);
    found |= isZero;
  }
  // No zero byte leaves separator at 0, which fails this check too.
  good &= ~lessMask(separator, 2 + MIN_PADDING);
  const start = select(good, separator + 1, syntheticStart);

  // Select over the whole buffer, then cut: the copy reads both sources at every position.
  const out = new Uint8Array(k);
  for (let i = 0; i < k; i++) out[i] = select(good, em[i]!, synthetic[i]!);
  synthetic.fill(0);
  const message = out.slice(start);
  out.fill(0);
  return message;
}

/**
 * RSAES-PKCS1-v1_5 decryption with implicit rejection: raw RSA on a device (checked
 * by the integrity gate), decoded here. Throws only for what is public: a ciphertext
 * that is not k bytes or not below n (InvalidInputError), and device failures.
 */
export async function rsaPkcs1DecryptImplicit(
  exec: PrimitiveExecutor,
  key: RsaPrivateKeyMaterial,
  secret: Uint8Array,
  ciphertext: Uint8Array,
  options?: Options,
): Promise<Uint8Array> {
  throwIfAborted(options?.signal);
  const em = await rsaRawPrivate(exec, key, ciphertext, options);
  try {
    return emePkcs1DecodeImplicit(em, ciphertext, secret);
  } finally {
    em.fill(0);
  }
}
