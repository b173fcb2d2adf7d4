/** ECDSA's scalars: the digest as an integer, and a random scalar in [1, n-1]. */

import { bytesToBigint } from '../driver/bytes.js';
import type { CurveParams } from '../driver/curves.js';

/** The leftmost orderBits bits of the digest, as an integer (FIPS 186-4 §6.4, SEC 1 §4.1.3 step 5). */
export function digestScalar(curve: CurveParams, digest: Uint8Array): bigint {
  const z = bytesToBigint(digest);
  const excess = digest.length * 8 - curve.orderBits;
  return excess > 0 ? z >> BigInt(excess) : z;
}

/** A uniformly random scalar in [1, n-1]: rejection sampling over orderBits bits of `random` (a CSPRNG). */
export function randomScalar(curve: CurveParams, random: (length: number) => Uint8Array): bigint {
  const extraBits = BigInt(curve.bytes * 8 - curve.orderBits);
  for (;;) {
    const k = bytesToBigint(random(curve.bytes)) >> extraBits;
    if (k > 0n && k < curve.n) return k;
  }
}
