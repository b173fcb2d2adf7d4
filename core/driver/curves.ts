/**
 * Domain parameters of the Weierstrass curves pkaccel knows (SEC 2 / FIPS 186-4).
 * Shared facts, not code: drivers of cards that take curve parameters as operands
 * write these, device models check against them, and core/math computes with them.
 * All three curves have a = p - 3 and cofactor 1.
 */

import type { EcCurveName } from './keys.js';

/**
 * The domain parameters of one short Weierstrass curve y² = x³ + a·x + b over GF(p).
 *
 * @category Driver contracts
 */
export interface CurveParams {
  /** The curve's WebCrypto name. */
  readonly name: EcCurveName;
  /** Field prime. */
  readonly p: bigint;
  /** Coefficient a of the curve equation (p − 3 on all three curves). */
  readonly a: bigint;
  /** Coefficient b of the curve equation. */
  readonly b: bigint;
  /** The generator G's affine x-coordinate. */
  readonly gx: bigint;
  /** The generator's affine y-coordinate. */
  readonly gy: bigint;
  /** Order of the generator. */
  readonly n: bigint;
  /** Byte length of field elements (and scalars) on the wire. */
  readonly bytes: number;
  /** Bit length of n. */
  readonly orderBits: number;
}

const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P384_P =
  0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn;
const P521_P = (1n << 521n) - 1n;

/**
 * The parameters of P-256, P-384 and P-521, by name (SEC 2 / FIPS 186-4 values).
 *
 * @category Driver contracts
 */
export const CURVES: Readonly<Record<EcCurveName, CurveParams>> = {
  'P-256': {
    name: 'P-256',
    p: P256_P,
    a: P256_P - 3n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    bytes: 32,
    orderBits: 256,
  },
  'P-384': {
    name: 'P-384',
    p: P384_P,
    a: P384_P - 3n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    bytes: 48,
    orderBits: 384,
  },
  'P-521': {
    name: 'P-521',
    p: P521_P,
    a: P521_P - 3n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    gx: 0x00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66n,
    gy: 0x011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    bytes: 66,
    orderBits: 521,
  },
};
