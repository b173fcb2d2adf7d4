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
import type { EcPoint } from '../core/driver/primitives.js';
import {
  digestScalar,
  ecAdd,
  ecMultiply,
  ecMultiplyDouble,
  isOnCurve,
  mod,
  modInv,
  modPow,
  randomScalar,
} from '../core/math/index.js';

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
  /** OpenSSL contexts keyed once, by scalar: an ECDH multiplies by d and d + 1 (see multiply). */
  readonly #keyed = new Map<bigint, ECDH>();

  /** Throws a RangeError when d is out of range. */
  constructor(curve: EcCurveName, d: bigint) {
    this.curve = CURVES[curve];
    if (d < 1n || d >= this.curve.n) throw new RangeError('EC private scalar out of range');
    this.#d = d;
  }

  /** ECDSA signature r‖s over `digest` (truncated to the order's bit length). */
  sign(digest: Uint8Array): Uint8Array {
    const curve = this.curve;
    const z = digestScalar(curve, digest);
    const nonce = context(curve);
    for (;;) {
      const k = randomScalar(curve, randomBytes);
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

  /** The shared point d·peer as x ‖ y (each L bytes); `peer` must already be on the curve. */
  ecdh(peerX: bigint, peerY: bigint): Uint8Array {
    const L = this.curve.bytes;
    const shared = multiply(this.curve, this.#d, { x: peerX, y: peerY }, (k) => this.#keyedFor(k));
    // d < n and a peer of prime order: never the point at infinity.
    if (shared === null) throw new RangeError('ECDH gave the point at infinity');
    const out = new Uint8Array(2 * L);
    out.set(bigintToBytes(shared.x, L), 0);
    out.set(bigintToBytes(shared.y, L), L);
    return out;
  }

  #keyedFor(k: bigint): ECDH {
    let ecdh = this.#keyed.get(k);
    if (ecdh === undefined) {
      ecdh = createECDH(OPENSSL_CURVE[this.curve.name]);
      ecdh.setPrivateKey(bigintToBytes(k, this.curve.bytes));
      this.#keyed.set(k, ecdh);
    }
    return ecdh;
  }
}

/** Curves whose OpenSSL scalar multiplication beats core/math's (measured: P-256 only). */
const OPENSSL_FAST: ReadonlySet<EcCurveName> = new Set(['P-256']);

/** One OpenSSL ECDH context per curve, re-keyed per use (a model runs on one thread). */
const contexts = new Map<EcCurveName, ECDH>();
function context(curve: CurveParams): ECDH {
  let ecdh = contexts.get(curve.name);
  if (ecdh === undefined) {
    ecdh = createECDH(OPENSSL_CURVE[curve.name]);
    contexts.set(curve.name, ecdh);
  }
  return ecdh;
}

function uncompressed(curve: CurveParams, point: EcPoint): Uint8Array {
  const out = new Uint8Array(1 + 2 * curve.bytes);
  out[0] = 4;
  out.set(bigintToBytes(point.x, curve.bytes), 1);
  out.set(bigintToBytes(point.y, curve.bytes), 1 + curve.bytes);
  return out;
}

/** The curve's shared OpenSSL context re-keyed with k (1 ≤ k < n). */
function rekeyed(curve: CurveParams, k: bigint): ECDH {
  const ecdh = context(curve);
  ecdh.setPrivateKey(bigintToBytes(k, curve.bytes));
  return ecdh;
}

/** x(k·P) by OpenSSL (1 ≤ k < n, P on the curve). */
function sharedX(curve: CurveParams, k: bigint, point: EcPoint): bigint {
  return bytesToBigint(rekeyed(curve, k).computeSecret(uncompressed(curve, point)));
}

/**
 * k·P as an affine point (null: the point at infinity), P on the curve (G when
 * absent). OpenSSL does the scalar multiplications — it returns a public key
 * whole but only the x of a shared point, so y is recovered from the curve
 * equation with x((k+1)·P) = x(k·P + P) (yOfMultiple). Equal to core/math's
 * ecMultiply (a test checks); on P-256 several times faster, elsewhere it is ecMultiply.
 * `keyed` gives an OpenSSL context keyed with a scalar: a slot key passes its own,
 * keyed once (re-keying costs a fixed-base multiplication per call).
 */
export function multiply(
  curve: CurveParams,
  scalar: bigint,
  point?: EcPoint,
  keyed: (k: bigint) => ECDH = (k) => rekeyed(curve, k),
): EcPoint | null {
  const k = mod(scalar, curve.n);
  if (k === 0n) return null;
  // OpenSSL is fast on P-256 (its nistz256 code); on P-384 this Node's OpenSSL is slower than core/math.
  if (!OPENSSL_FAST.has(curve.name)) return ecMultiply(curve, k, point);
  if (point === undefined) {
    const pub = keyed(k).getPublicKey();
    return {
      x: bytesToBigint(pub.subarray(1, 1 + curve.bytes)),
      y: bytesToBigint(pub.subarray(1 + curve.bytes)),
    };
  }
  if (k === 1n) return point;
  if (k === curve.n - 1n) return { x: point.x, y: mod(-point.y, curve.p) };
  const encoded = uncompressed(curve, point);
  const x = bytesToBigint(keyed(k).computeSecret(encoded));
  // k ≠ ±1 and P of prime order: k·P ≠ ±P, so the x differ (a fault would divide by zero below).
  if (x === point.x) return ecMultiply(curve, k, point);
  return { x, y: yOfMultiple(curve, point, x, bytesToBigint(keyed(k + 1n).computeSecret(encoded))) };
}

/**
 * y(Q) from x(Q) and x(Q + P), for Q ≠ ±P on the curve (Okeya–Sakurai): with λ the
 * slope through P and Q, x(Q + P) = λ² − x(P) − x(Q) and (y(P) − y(Q))² = λ²·(x(P) − x(Q))²;
 * replacing y(P)² and y(Q)² by the curve equation leaves one linear equation,
 * 2·y(P)·y(Q) = 2b + (a + x(P)·x(Q))·(x(P) + x(Q)) − x(Q + P)·(x(P) − x(Q))².
 * One inversion instead of a square root and a point addition.
 */
function yOfMultiple(curve: CurveParams, P: EcPoint, x: bigint, nextX: bigint): bigint {
  const { a, b, p } = curve;
  const dx = P.x - x;
  const twiceYpYq = mod(2n * b + (a + P.x * x) * (P.x + x) - nextX * dx * dx, p);
  return mod(twiceYpYq * modInv(2n * P.y, p), p);
}

/** x^e mod n (public, so bigint's variable time is fine). */
export function rsaPublic(n: bigint, e: bigint, x: bigint, k: number): Uint8Array {
  return bigintToBytes(modPow(x, e, n), k);
}

export function pointOnCurve(curve: CurveParams, x: bigint, y: bigint): boolean {
  return x >= 0n && x < curve.p && y >= 0n && y < curve.p && isOnCurve(curve, { x, y });
}

/** What an ECDSA verification computed (datasheet §4.4): R = u1·G + u2·Q, or why it computed none. */
export type EcdsaVerification =
  | { readonly kind: 'point'; readonly valid: boolean; readonly x: bigint }
  | { readonly kind: 'infinity' }
  | { readonly kind: 'out-of-range' };

/** ECDSA verification over a digest, with its witness. Q must be on the curve. */
export function ecdsaVerify(
  curve: CurveParams,
  qx: bigint,
  qy: bigint,
  digest: Uint8Array,
  r: bigint,
  s: bigint,
): EcdsaVerification {
  if (r < 1n || r >= curve.n || s < 1n || s >= curve.n) return { kind: 'out-of-range' };
  const w = modInv(s, curve.n);
  const z = digestScalar(curve, digest);
  const u1 = mod(z * w, curve.n);
  const u2 = mod(r * w, curve.n);
  const Q = { x: qx, y: qy };
  if (OPENSSL_FAST.has(curve.name)) return verifyByOpenSsl(curve, u1, u2, Q, r);
  const point = ecMultiplyDouble(curve, u1, u2, Q);
  if (point === null) return { kind: 'infinity' };
  return { kind: 'point', valid: mod(point.x, curve.n) === r, x: point.x };
}

/**
 * x(u1·G + u2·Q) as x(u2·(Q + t·G)) with t = u1/u2 mod n (u2 = r/s is never 0):
 * OpenSSL's fixed-base multiplication gives t·G whole, one affine addition in
 * bigint, and OpenSSL's variable-base multiplication gives only the x we need —
 * no square root to recover a y, which made a witness cost several signatures.
 */
function verifyByOpenSsl(
  curve: CurveParams,
  u1: bigint,
  u2: bigint,
  Q: EcPoint,
  r: bigint,
): EcdsaVerification {
  const t = mod(u1 * modInv(u2, curve.n), curve.n);
  const base = t === 0n ? Q : ecAdd(curve, multiply(curve, t), Q);
  if (base === null) return { kind: 'infinity' };
  const x = sharedX(curve, u2, base);
  return { kind: 'point', valid: mod(x, curve.n) === r, x };
}
