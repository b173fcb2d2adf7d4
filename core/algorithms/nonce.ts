/**
 * ECDSA nonces and EC private scalars: uniform in [1, n−1] from the operating
 * system's CSPRNG (node:crypto randomBytes), by rejection sampling (FIPS 186-5
 * A.3.2 / A.2.2). Chosen over RFC 6979 because the composed path only ever
 * hands the device k (never d with the message) and a fresh k per signature
 * needs no HMAC-DRBG code here; a weak system RNG is outside this library's
 * reach either way.
 */

import { bytesToBigint } from '../driver/bytes.js';
import type { CurveParams } from '../driver/curves.js';
import { randomOctets } from '../encoding/digest.js';

export function randomScalar(curve: CurveParams): bigint {
  const bytes = Math.ceil(curve.orderBits / 8);
  const excessBits = BigInt(8 * bytes - curve.orderBits);
  for (;;) {
    const candidate = bytesToBigint(randomOctets(bytes)) >> excessBits;
    if (candidate >= 1n && candidate < curve.n) return candidate;
  }
}
