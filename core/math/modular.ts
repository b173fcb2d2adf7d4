/**
 * Modular arithmetic on bigint.
 *
 * NOT CONSTANT-TIME: bigint operations take time that depends on their operands.
 * This module serves device models, composition of primitives and checks on
 * results; the software provider's private-key work goes to OpenSSL.
 */

import { InvalidInputError } from '../driver/errors.js';

/** The representative of `a` in [0, m). */
export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** Number of bits in the unsigned value (0 for 0). */
export function bitLength(value: bigint): number {
  if (value < 0n) throw new InvalidInputError('bitLength of a negative integer');
  return value === 0n ? 0 : value.toString(2).length;
}

const SHORT_EXPONENT = 1n << 64n;

/**
 * base^exponent mod m, left-to-right with a fixed 4-bit window (about a quarter
 * fewer multiplications than plain square-and-multiply on long exponents).
 */
export function modPow(base: bigint, exponent: bigint, m: bigint): bigint {
  if (m <= 0n) throw new InvalidInputError('modPow needs a positive modulus');
  if (exponent < 0n) return modPow(modInv(base, m), -exponent, m);
  if (m === 1n) return 0n;
  const b = mod(base, m);
  if (exponent < SHORT_EXPONENT) {
    // Short exponents (public exponents such as 65537): the 14 multiplications that
    // build the window table would cost more than they save.
    let result = 1n;
    let e = exponent;
    let sq = b;
    while (e > 0n) {
      if (e & 1n) result = (result * sq) % m;
      sq = (sq * sq) % m;
      e >>= 1n;
    }
    return result;
  }
  const table: bigint[] = [1n, b];
  for (let i = 2; i < 16; i++) table.push((table[i - 1]! * b) % m);
  const hex = exponent.toString(16);
  let result = 1n;
  for (let i = 0; i < hex.length; i++) {
    if (i > 0) {
      result = (result * result) % m;
      result = (result * result) % m;
      result = (result * result) % m;
      result = (result * result) % m;
    }
    const digit = Number.parseInt(hex[i]!, 16);
    if (digit !== 0) result = (result * table[digit]!) % m;
  }
  return result;
}

/** The inverse of `a` modulo `m` (extended Euclid); InvalidInputError when gcd(a, m) ≠ 1. */
export function modInv(a: bigint, m: bigint): bigint {
  if (m <= 0n) throw new InvalidInputError('modInv needs a positive modulus');
  let r0 = m;
  let r1 = mod(a, m);
  let t0 = 0n;
  let t1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  if (r0 !== 1n) throw new InvalidInputError('value has no inverse modulo the given modulus');
  return mod(t0, m);
}

/**
 * A square root of `a` modulo the prime `p`, or null when `a` is not a square.
 * Only for p ≡ 3 (mod 4) (true of P-256, P-384 and P-521): the root is a^((p+1)/4).
 */
export function modSqrt(a: bigint, p: bigint): bigint | null {
  if ((p & 3n) !== 3n) throw new InvalidInputError('modSqrt supports only primes p ≡ 3 (mod 4)');
  const x = mod(a, p);
  const root = modPow(x, (p + 1n) >> 2n, p);
  return (root * root) % p === x ? root : null;
}
