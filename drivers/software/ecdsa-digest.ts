/**
 * ECDSA over a bare digest. OpenSSL (through node:crypto) signs and verifies only
 * messages, so when a request carries no `message` the provider does the
 * arithmetic itself: the nonce point k·G comes from OpenSSL (createECDH, its
 * constant-time fixed-base multiplication), the scalar arithmetic is bigint, with
 * the nonce inversion blinded by a random factor so the non-constant-time
 * inversion never sees k itself. Verification is public and uses core/math's
 * double-scalar multiplication. Both are several times slower than OpenSSL's own
 * sign/verify, which is why the ECDSA requests may carry the message.
 */

import { createECDH, randomBytes } from 'node:crypto';
import {
  bigintToBytes,
  bytesToBigint,
  CURVES,
  type CurveParams,
  type EcPrivateKeyMaterial,
  type EcPublicKeyMaterial,
} from '../../core/driver/index.js';
import { ecMultiplyDouble, mod, modInv } from '../../core/math/index.js';
import { OPENSSL_CURVE } from './key-objects.js';

/** The leftmost orderBits bits of the digest, as an integer (SEC 1 §4.1.3 step 5). */
function digestScalar(curve: CurveParams, digest: Uint8Array): bigint {
  const z = bytesToBigint(digest);
  const excess = digest.length * 8 - curve.orderBits;
  return excess > 0 ? z >> BigInt(excess) : z;
}

/** A uniformly random scalar in [1, n-1] (rejection sampling over orderBits bits). */
function randomScalar(curve: CurveParams): bigint {
  const extraBits = BigInt(curve.bytes * 8 - curve.orderBits);
  for (;;) {
    const k = bytesToBigint(randomBytes(curve.bytes)) >> extraBits;
    if (k > 0n && k < curve.n) return k;
  }
}

export function ecdsaSignDigest(key: EcPrivateKeyMaterial, digest: Uint8Array): Uint8Array {
  const curve = CURVES[key.curve];
  const z = digestScalar(curve, digest);
  const ecdh = createECDH(OPENSSL_CURVE[key.curve]);
  for (;;) {
    const k = randomScalar(curve);
    ecdh.setPrivateKey(bigintToBytes(k, curve.bytes));
    const point = ecdh.getPublicKey();
    const r = mod(bytesToBigint(point.subarray(1, 1 + curve.bytes)), curve.n);
    if (r === 0n) continue;
    const blind = randomScalar(curve);
    const kInverse = mod(modInv(mod(k * blind, curve.n), curve.n) * blind, curve.n);
    const s = mod(kInverse * mod(z + r * key.d, curve.n), curve.n);
    if (s === 0n) continue;
    const out = new Uint8Array(2 * curve.bytes);
    out.set(bigintToBytes(r, curve.bytes), 0);
    out.set(bigintToBytes(s, curve.bytes), curve.bytes);
    return out;
  }
}

export function ecdsaVerifyDigest(
  key: EcPublicKeyMaterial,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const curve = CURVES[key.curve];
  if (signature.length !== 2 * curve.bytes) return false;
  const r = bytesToBigint(signature.subarray(0, curve.bytes));
  const s = bytesToBigint(signature.subarray(curve.bytes));
  if (r <= 0n || r >= curve.n || s <= 0n || s >= curve.n) return false;
  const w = modInv(s, curve.n);
  const z = digestScalar(curve, digest);
  const point = ecMultiplyDouble(curve, mod(z * w, curve.n), mod(r * w, curve.n), { x: key.x, y: key.y });
  return point !== null && mod(point.x, curve.n) === r;
}
