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
  type EcPrivateKeyMaterial,
  type EcPublicKeyMaterial,
} from '../../core/driver/index.js';
import { digestScalar, ecMultiplyDouble, mod, modInv, randomScalar } from '../../core/math/index.js';
import { OPENSSL_CURVE } from './key-objects.js';

export function ecdsaSignDigest(key: EcPrivateKeyMaterial, digest: Uint8Array): Uint8Array {
  const curve = CURVES[key.curve];
  const z = digestScalar(curve, digest);
  const ecdh = createECDH(OPENSSL_CURVE[key.curve]);
  for (;;) {
    const k = randomScalar(curve, randomBytes);
    ecdh.setPrivateKey(bigintToBytes(k, curve.bytes));
    const point = ecdh.getPublicKey();
    const r = mod(bytesToBigint(point.subarray(1, 1 + curve.bytes)), curve.n);
    if (r === 0n) continue;
    const blind = randomScalar(curve, randomBytes);
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
