/**
 * What a `real` engine computes: raw RSA (public, private with CRT), ECDSA over a
 * digest, ECDH — with node:crypto where OpenSSL offers the raw operation, and
 * core/math bigint where it does not. Shared by the models that do high-level
 * operations. Inputs are already range-checked by the caller unless stated.
 */

import {
  constants,
  createECDH,
  createPrivateKey,
  type ECDH,
  type KeyObject,
  privateDecrypt,
  randomBytes,
} from 'node:crypto';
import { bigintToBytes, bytesToBigint } from '../core/driver/bytes.js';
import { CURVES, type CurveParams } from '../core/driver/curves.js';
import type { EcCurveName } from '../core/driver/keys.js';
import { ecMultiplyDouble, isOnCurve, mod, modInv, modPow } from '../core/math/index.js';

const OPENSSL_CURVE: Readonly<Record<EcCurveName, string>> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
};

function base64url(value: bigint): string {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
}

/** An RSA private key as a card holds it in a slot. */
export class RsaSlotKey {
  readonly kind = 'rsa' as const;
  readonly n: bigint;
  /** Modulus length in bytes. */
  readonly k: number;
  readonly #p: bigint;
  readonly #q: bigint;
  readonly #qi: bigint;
  readonly #key: KeyObject;

  /** Throws a RangeError when the parts are inconsistent. */
  constructor(p: bigint, q: bigint, dp: bigint, dq: bigint, qi: bigint, e: bigint) {
    if (p < 3n || q < 3n || (p & 1n) === 0n || (q & 1n) === 0n)
      throw new RangeError('p and q must be odd primes');
    this.n = p * q;
    this.k = Math.ceil(this.n.toString(2).length / 8);
    this.#p = p;
    this.#q = q;
    this.#qi = qi;
    const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
    const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
    const d = modInv(e, lambda); // throws when e is not invertible
    this.#key = createPrivateKey({
      format: 'jwk',
      key: {
        kty: 'RSA',
        n: base64url(this.n),
        e: base64url(e),
        d: base64url(d),
        p: base64url(p),
        q: base64url(q),
        dp: base64url(dp),
        dq: base64url(dq),
        qi: base64url(qi),
      },
    });
  }

  get bits(): number {
    return this.n.toString(2).length;
  }

  /** x^d mod n by OpenSSL's CRT; `x` is k bytes and < n. */
  private(x: Uint8Array): Uint8Array {
    return new Uint8Array(privateDecrypt({ key: this.#key, padding: constants.RSA_NO_PADDING }, x));
  }

  /**
   * The result a card with a fault in one CRT half produces: the half mod p has
   * one bit flipped before recombination (the Bellcore attack's precondition,
   * which the host's verify-before-release check exists to catch).
   */
  corruptCrtHalf(good: Uint8Array, bit: number): Uint8Array {
    const s = bytesToBigint(good);
    const m1 = mod(s ^ (1n << BigInt(bit % (this.#p.toString(2).length - 1))), this.#p);
    const m2 = mod(s, this.#q);
    const h = mod(this.#qi * (m1 - m2), this.#p);
    return bigintToBytes(mod(m2 + this.#q * h, this.n), this.k);
  }
}

/** An EC private key as a card holds it in a slot. */
export class EcSlotKey {
  readonly kind = 'ec' as const;
  readonly curve: CurveParams;
  readonly #d: bigint;
  readonly #ecdh: ECDH;

  /** Throws a RangeError when d is out of range. */
  constructor(curve: EcCurveName, d: bigint) {
    this.curve = CURVES[curve];
    if (d < 1n || d >= this.curve.n) throw new RangeError('EC private scalar out of range');
    this.#d = d;
    this.#ecdh = createECDH(OPENSSL_CURVE[curve]);
    this.#ecdh.setPrivateKey(bigintToBytes(d, this.curve.bytes));
  }

  /** ECDSA signature r‖s over `digest` (truncated to the order's bit length). */
  sign(digest: Uint8Array): Uint8Array {
    const curve = this.curve;
    const z = digestScalar(curve, digest);
    const nonce = createECDH(OPENSSL_CURVE[curve.name]);
    for (;;) {
      const k = randomScalar(curve);
      nonce.setPrivateKey(bigintToBytes(k, curve.bytes));
      const r = mod(bytesToBigint(nonce.getPublicKey().subarray(1, 1 + curve.bytes)), curve.n);
      if (r === 0n) continue;
      const s = mod(modInv(k, curve.n) * (z + r * this.#d), curve.n);
      if (s === 0n) continue;
      const out = new Uint8Array(2 * curve.bytes);
      out.set(bigintToBytes(r, curve.bytes), 0);
      out.set(bigintToBytes(s, curve.bytes), curve.bytes);
      return out;
    }
  }

  /** x-coordinate of d·peer; `peer` must already be on the curve. */
  ecdh(peerX: bigint, peerY: bigint): Uint8Array {
    const point = new Uint8Array(1 + 2 * this.curve.bytes);
    point[0] = 4;
    point.set(bigintToBytes(peerX, this.curve.bytes), 1);
    point.set(bigintToBytes(peerY, this.curve.bytes), 1 + this.curve.bytes);
    return new Uint8Array(this.#ecdh.computeSecret(point));
  }
}

/** The leftmost orderBits bits of the digest (FIPS 186-4 / SEC 1 §4.1.3). */
function digestScalar(curve: CurveParams, digest: Uint8Array): bigint {
  const z = bytesToBigint(digest);
  const excess = digest.length * 8 - curve.orderBits;
  return excess > 0 ? z >> BigInt(excess) : z;
}

function randomScalar(curve: CurveParams): bigint {
  const extra = BigInt(curve.bytes * 8 - curve.orderBits);
  for (;;) {
    const k = bytesToBigint(randomBytes(curve.bytes)) >> extra;
    if (k > 0n && k < curve.n) return k;
  }
}

/** x^e mod n (public, so bigint's variable time is fine). */
export function rsaPublic(n: bigint, e: bigint, x: bigint, k: number): Uint8Array {
  return bigintToBytes(modPow(x, e, n), k);
}

export function pointOnCurve(curve: CurveParams, x: bigint, y: bigint): boolean {
  return x >= 0n && x < curve.p && y >= 0n && y < curve.p && isOnCurve(curve, { x, y });
}

/** ECDSA verification over a digest; false for anything that does not verify. Q must be on the curve. */
export function ecdsaVerify(
  curve: CurveParams,
  qx: bigint,
  qy: bigint,
  digest: Uint8Array,
  r: bigint,
  s: bigint,
): boolean {
  if (r < 1n || r >= curve.n || s < 1n || s >= curve.n) return false;
  const w = modInv(s, curve.n);
  const z = digestScalar(curve, digest);
  const point = ecMultiplyDouble(curve, mod(z * w, curve.n), mod(r * w, curve.n), { x: qx, y: qy });
  return point !== null && mod(point.x, curve.n) === r;
}
