/**
 * RSA private-key arithmetic with the Chinese remainder theorem (RFC 8017
 * §5.1.2, RSADP step 2.b), for two-prime and multi-prime keys.
 *
 * NOT CONSTANT-TIME (bigint): for device models and checks, not for a software
 * provider's private-key operations.
 */

import { InvalidInputError } from '../driver/errors.js';
import type { RsaOtherPrime } from '../driver/keys.js';
import { mod, modPow } from './modular.js';

/** The CRT parts of an RSA private key (RsaPrivateKeyMaterial fits). */
export interface RsaCrtKey {
  readonly n: bigint;
  readonly p: bigint;
  readonly q: bigint;
  readonly dp: bigint;
  readonly dq: bigint;
  readonly qi: bigint;
  readonly otherPrimes: readonly RsaOtherPrime[];
}

/**
 * Recombine the residues m_i = c^(d_i) mod prime_i, in key order (p, q, then
 * the other primes), into m = c^d mod n (Garner's form as RFC 8017 gives it).
 * A device model that computes the per-prime exponentiations itself uses this.
 */
export function crtRecombine(key: RsaCrtKey, residues: readonly bigint[]): bigint {
  if (residues.length !== 2 + key.otherPrimes.length) {
    throw new InvalidInputError(`CRT recombination needs ${2 + key.otherPrimes.length} residues`);
  }
  const m1 = residues[0]!;
  const m2 = residues[1]!;
  const h = mod(key.qi * (m1 - m2), key.p);
  let m = m2 + key.q * h;
  let r = key.p * key.q;
  key.otherPrimes.forEach((prime, i) => {
    const mi = residues[i + 2]!;
    const hi = mod((mi - m) * prime.t, prime.r);
    m += r * hi;
    r *= prime.r;
  });
  return m;
}

/** c^d mod n through the CRT. `c` must be in [0, n). */
export function rsaCrt(key: RsaCrtKey, c: bigint): bigint {
  if (c < 0n || c >= key.n) throw new InvalidInputError('RSA input must be in [0, n)');
  const residues = [modPow(c % key.p, key.dp, key.p), modPow(c % key.q, key.dq, key.q)];
  for (const prime of key.otherPrimes) residues.push(modPow(c % prime.r, prime.d, prime.r));
  return crtRecombine(key, residues);
}
