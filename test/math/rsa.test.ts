import { constants, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, bytesToBigint } from '../../core/driver/bytes.js';
import { InvalidInputError } from '../../core/driver/errors.js';
import { crtRecombine, modInv, modPow, type RsaCrtKey, rsaCrt } from '../../core/math/index.js';

function fromB64(s: string): bigint {
  return bytesToBigint(Buffer.from(s, 'base64url'));
}

/** A two-prime key from node, as CRT parameters. */
function nodeKey(bits: number) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwk = privateKey.export({ format: 'jwk' });
  const key: RsaCrtKey & { e: bigint; d: bigint } = {
    n: fromB64(jwk.n!),
    e: fromB64(jwk.e!),
    d: fromB64(jwk.d!),
    p: fromB64(jwk.p!),
    q: fromB64(jwk.q!),
    dp: fromB64(jwk.dp!),
    dq: fromB64(jwk.dq!),
    qi: fromB64(jwk.qi!),
    otherPrimes: [],
  };
  return { key, publicKey };
}

/** A three-prime key built from small known primes (RFC 8017 OtherPrimeInfo). */
function threePrimeKey(): RsaCrtKey & { e: bigint; d: bigint } {
  const p = 1000000007n;
  const q = 998244353n;
  const r = 1000000009n;
  const e = 65537n;
  const n = p * q * r;
  const phi = (p - 1n) * (q - 1n) * (r - 1n);
  const d = modInv(e, phi);
  return {
    n,
    e,
    d,
    p,
    q,
    dp: d % (p - 1n),
    dq: d % (q - 1n),
    qi: modInv(q, p),
    otherPrimes: [{ r, d: d % (r - 1n), t: modInv(p * q, r) }],
  };
}

describe('rsaCrt', () => {
  const { key, publicKey } = nodeKey(1024);

  it('two-prime CRT equals c^d mod n and inverts node’s raw public operation', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: key.n - 1n }), (m) => {
        const c = bytesToBigint(
          publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, bigintToBytes(m, 128)),
        );
        expect(rsaCrt(key, c)).toBe(m);
        expect(rsaCrt(key, c)).toBe(modPow(c, key.d, key.n));
      }),
      { numRuns: 10 },
    );
  });

  it('multi-prime CRT equals c^d mod n', () => {
    const k3 = threePrimeKey();
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: k3.n - 1n }), (m) => {
        const c = modPow(m, k3.e, k3.n);
        expect(rsaCrt(k3, c)).toBe(m);
      }),
    );
  });

  it('recombines residues given by a caller', () => {
    const k3 = threePrimeKey();
    const c = 123456789123456789n;
    const residues = [
      modPow(c, k3.dp, k3.p),
      modPow(c, k3.dq, k3.q),
      modPow(c, k3.otherPrimes[0]!.d, k3.otherPrimes[0]!.r),
    ];
    expect(crtRecombine(k3, residues)).toBe(modPow(c, k3.d, k3.n));
    expect(() => crtRecombine(k3, residues.slice(0, 2))).toThrow(InvalidInputError);
  });

  it('rejects inputs outside [0, n)', () => {
    expect(() => rsaCrt(key, key.n)).toThrow(InvalidInputError);
    expect(() => rsaCrt(key, -1n)).toThrow(InvalidInputError);
  });
});
