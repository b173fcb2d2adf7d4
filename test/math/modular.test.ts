import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CURVES } from '../../core/driver/curves.js';
import { InvalidInputError } from '../../core/driver/errors.js';
import { bitLength, mod, modInv, modPow, modSqrt } from '../../core/math/index.js';

/** Reference square-and-multiply, the simplest thing that is obviously right. */
function naivePow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n % m;
  let x = mod(b, m);
  while (e > 0n) {
    if (e & 1n) r = (r * x) % m;
    x = (x * x) % m;
    e >>= 1n;
  }
  return r;
}

const big = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
const primes = Object.values(CURVES).flatMap((c) => [c.p, c.n]);

describe('mod', () => {
  it('lands in [0, m) and is congruent', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }),
        fc.bigInt({ min: 1n, max: 1n << 200n }),
        (a, m) => {
          const r = mod(a, m);
          expect(r >= 0n && r < m).toBe(true);
          expect((a - r) % m).toBe(0n);
        },
      ),
    );
  });
});

describe('modPow', () => {
  it('agrees with plain square-and-multiply', () => {
    fc.assert(
      fc.property(big(600), big(600), fc.bigInt({ min: 1n, max: (1n << 600n) - 1n }), (b, e, m) => {
        expect(modPow(b, e, m)).toBe(naivePow(b, e, m));
      }),
      { numRuns: 50 },
    );
  });
  it('satisfies Fermat for the curve primes and orders', () => {
    for (const p of primes) {
      expect(modPow(3n, p - 1n, p)).toBe(1n);
      expect(modPow(12345678901234567890n, p, p)).toBe(12345678901234567890n % p);
    }
  });
  it('handles edge exponents and moduli', () => {
    expect(modPow(5n, 0n, 7n)).toBe(1n);
    expect(modPow(5n, 1n, 7n)).toBe(5n);
    expect(modPow(5n, 10n, 1n)).toBe(0n);
    expect(modPow(-2n, 3n, 7n)).toBe(mod(-8n, 7n));
    expect(modPow(3n, -1n, 7n)).toBe(5n);
    expect(() => modPow(2n, 2n, 0n)).toThrow(InvalidInputError);
  });
});

describe('modInv', () => {
  it('a · a⁻¹ ≡ 1 for every prime modulus', () => {
    fc.assert(
      fc.property(fc.constantFrom(...primes), big(540), (p, a) => {
        fc.pre(a % p !== 0n);
        expect((modInv(a, p) * mod(a, p)) % p).toBe(1n);
      }),
    );
  });
  it('rejects values that share a factor with the modulus', () => {
    expect(() => modInv(6n, 9n)).toThrow(InvalidInputError);
    expect(() => modInv(0n, 7n)).toThrow(InvalidInputError);
  });
});

describe('modSqrt', () => {
  it('finds a root of every square modulo the curve primes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(CURVES)), big(521), (curve, x) => {
        const sq = (x * x) % curve.p;
        const r = modSqrt(sq, curve.p);
        expect(r).not.toBeNull();
        expect((r! * r!) % curve.p).toBe(sq);
      }),
    );
  });
  it('returns null for a non-residue', () => {
    // -1 is a non-residue modulo every p ≡ 3 (mod 4).
    for (const curve of Object.values(CURVES)) expect(modSqrt(curve.p - 1n, curve.p)).toBeNull();
  });
  it('refuses primes that are not 3 mod 4', () => {
    expect(() => modSqrt(2n, 13n)).toThrow(InvalidInputError);
  });
});

describe('bitLength', () => {
  it('counts bits', () => {
    expect(bitLength(0n)).toBe(0);
    expect(bitLength(1n)).toBe(1);
    expect(bitLength(255n)).toBe(8);
    expect(bitLength(CURVES['P-521'].n)).toBe(521);
  });
});
