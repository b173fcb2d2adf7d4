/**
 * A minimal DER encoder for the PKCS#1 key structures the device takes as its
 * session key (RFC 8017 A.1): RSAPublicKey {n, e} and RSAPrivateKey {version 0,
 * n, e, d, p, q, dp, dq, qinv}, with the shared DER writer (core/encoding/der.ts).
 */

import type { RsaPrivateKeyMaterial, RsaPublicKeyMaterial } from '../../core/driver/index.js';
import { InvalidKeyError } from '../../core/driver/index.js';
import { derUnsignedInteger, derSequence as sequenceOf } from '../../core/encoding/der.js';

/** DER INTEGER of a non-negative key component (minimal, 0x00 lead when the top bit is set): core/encoding/der.ts. */
export function derInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new InvalidKeyError('an RSA key component is negative');
  return derUnsignedInteger(value);
}

export function derSequence(parts: readonly Uint8Array[]): Uint8Array {
  return sequenceOf(...parts);
}

export function encodeRsaPublicKey(key: RsaPublicKeyMaterial): Uint8Array {
  return derSequence([derInteger(key.n), derInteger(key.e)]);
}

/** Two-prime keys only: the caller checks `otherPrimes` (the device's key parser takes version 0). */
export function encodeRsaPrivateKey(key: RsaPrivateKeyMaterial): Uint8Array {
  if (key.otherPrimes.length > 0) throw new InvalidKeyError('virtio-crypto takes two-prime RSA keys only');
  return derSequence(
    [0n, key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qi].map((v) => derInteger(v)),
  );
}
