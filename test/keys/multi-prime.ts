/** A three-prime RSA key for tests (node cannot generate multi-prime keys, but OpenSSL parses them). */

import { generatePrimeSync } from 'node:crypto';
import { RsaPrivateKeyMaterial } from '../../core/driver/keys.js';
import { modInv } from '../../core/math/index.js';

export function threePrimeKey(bits = 2048): RsaPrivateKeyMaterial {
  const e = 65537n;
  for (;;) {
    const size = Math.ceil(bits / 3);
    const primes = [0, 1, 2].map(() => generatePrimeSync(size, { bigint: true }));
    const [p, q, r] = primes as [bigint, bigint, bigint];
    if (new Set(primes).size < 3) continue;
    const n = p * q * r;
    if (n.toString(2).length !== bits) continue;
    const phi = (p - 1n) * (q - 1n) * (r - 1n);
    if (phi % e === 0n) continue;
    const d = modInv(e, phi);
    return new RsaPrivateKeyMaterial(n, e, d, p, q, d % (p - 1n), d % (q - 1n), modInv(q, p), [
      { r, d: d % (r - 1n), t: modInv(p * q, r) },
    ]);
  }
}
