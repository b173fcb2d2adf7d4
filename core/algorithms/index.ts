/**
 * The algorithms layer: per algorithm, validate, encode, choose among the
 * primitives a device offers, post-check. Every function takes the executor it
 * runs primitives on, and an optional AbortSignal.
 *
 * CONTRACT FILE (foundation): these signatures are what core/api calls. The
 * bodies are being written in this folder's modules.
 */

import type {
  EcCurveName,
  EcPrivateKeyMaterial,
  EcPublicKeyMaterial,
  HashName,
  KeygenSpec,
  KeyPairMaterial,
  OkpPrivateKeyMaterial,
  OkpPublicKeyMaterial,
  PrimitiveExecutor,
  RsaPrivateKeyMaterial,
  RsaPublicKeyMaterial,
} from '../driver/index.js';
import { UnsupportedError } from '../driver/index.js';

export interface Options {
  readonly signal?: AbortSignal;
}

/** RSA signature schemes (RSASSA-PKCS1-v1_5, RSASSA-PSS with MGF1 over the same hash). */
export type RsaSignatureParams =
  | { readonly scheme: 'pkcs1-v1_5'; readonly hash: HashName }
  | { readonly scheme: 'pss'; readonly hash: HashName; readonly saltLength: number };

/** RSAES-OAEP with MGF1 over the same hash, and an optional label. */
export interface RsaOaepParams {
  readonly hash: HashName;
  readonly label?: Uint8Array;
}

/** ECDSA signature encoding: IEEE P1363 r‖s (WebCrypto's) or DER Ecdsa-Sig-Value. */
export type EcdsaSignatureFormat = 'p1363' | 'der';

const todo = (what: string): never => {
  throw new UnsupportedError(`${what} is not implemented yet`);
};

/** Hash `message` and sign it. Result checked with the public key before release. */
export function rsaSign(
  _exec: PrimitiveExecutor,
  _key: RsaPrivateKeyMaterial,
  _params: RsaSignatureParams,
  _message: Uint8Array,
  _options?: Options,
): Promise<Uint8Array> {
  return todo('rsaSign');
}

/** Hash `message` and verify; false (never an error) for a signature that does not verify. */
export function rsaVerify(
  _exec: PrimitiveExecutor,
  _key: RsaPublicKeyMaterial,
  _params: RsaSignatureParams,
  _message: Uint8Array,
  _signature: Uint8Array,
  _options?: Options,
): Promise<boolean> {
  return todo('rsaVerify');
}

export function rsaOaepEncrypt(
  _exec: PrimitiveExecutor,
  _key: RsaPublicKeyMaterial,
  _params: RsaOaepParams,
  _plaintext: Uint8Array,
  _options?: Options,
): Promise<Uint8Array> {
  return todo('rsaOaepEncrypt');
}

/** Throws an InvalidInputError (one message for every decoding failure) when the ciphertext does not decrypt. */
export function rsaOaepDecrypt(
  _exec: PrimitiveExecutor,
  _key: RsaPrivateKeyMaterial,
  _params: RsaOaepParams,
  _ciphertext: Uint8Array,
  _options?: Options,
): Promise<Uint8Array> {
  return todo('rsaOaepDecrypt');
}

/** Raw RSA (no padding): input^e mod n; input must be modulus-length and < n. */
export function rsaRawPublic(
  _exec: PrimitiveExecutor,
  _key: RsaPublicKeyMaterial,
  _input: Uint8Array,
  _options?: Options,
): Promise<Uint8Array> {
  return todo('rsaRawPublic');
}

/** Raw RSA (no padding): input^d mod n, checked with the public key before release. */
export function rsaRawPrivate(
  _exec: PrimitiveExecutor,
  _key: RsaPrivateKeyMaterial,
  _input: Uint8Array,
  _options?: Options,
): Promise<Uint8Array> {
  return todo('rsaRawPrivate');
}

/** Hash `message` with `hash` and sign with ECDSA. */
export function ecdsaSign(
  _exec: PrimitiveExecutor,
  _key: EcPrivateKeyMaterial,
  _hash: HashName,
  _message: Uint8Array,
  _format: EcdsaSignatureFormat,
  _options?: Options,
): Promise<Uint8Array> {
  return todo('ecdsaSign');
}

/** False (never an error) for a malformed or non-verifying signature. */
export function ecdsaVerify(
  _exec: PrimitiveExecutor,
  _key: EcPublicKeyMaterial,
  _hash: HashName,
  _message: Uint8Array,
  _signature: Uint8Array,
  _format: EcdsaSignatureFormat,
  _options?: Options,
): Promise<boolean> {
  return todo('ecdsaVerify');
}

/** ECDH: the x-coordinate of d·Q, `lengthBits` of it (default: all). The peer point is fully validated. */
export function ecdhDeriveBits(
  _exec: PrimitiveExecutor,
  _key: EcPrivateKeyMaterial,
  _peer: EcPublicKeyMaterial,
  _lengthBits: number | null,
  _options?: Options,
): Promise<Uint8Array> {
  return todo('ecdhDeriveBits');
}

export function ed25519Sign(
  _exec: PrimitiveExecutor,
  _key: OkpPrivateKeyMaterial,
  _message: Uint8Array,
  _options?: Options,
): Promise<Uint8Array> {
  return todo('ed25519Sign');
}

export function ed25519Verify(
  _exec: PrimitiveExecutor,
  _key: OkpPublicKeyMaterial,
  _message: Uint8Array,
  _signature: Uint8Array,
  _options?: Options,
): Promise<boolean> {
  return todo('ed25519Verify');
}

/** X25519; rejects an all-zero shared secret (small-order peer) with InvalidInputError. */
export function x25519DeriveBits(
  _exec: PrimitiveExecutor,
  _key: OkpPrivateKeyMaterial,
  _peer: OkpPublicKeyMaterial,
  _lengthBits: number | null,
  _options?: Options,
): Promise<Uint8Array> {
  return todo('x25519DeriveBits');
}

/** Generate a key pair on a device that can (keygen primitive, or EC keygen composed over ec-mul). */
export function generateKeyPair(
  _exec: PrimitiveExecutor,
  _spec: KeygenSpec,
  _options?: Options,
): Promise<KeyPairMaterial> {
  return todo('generateKeyPair');
}

/** Throws InvalidKeyError unless the point is on the curve, in range, and not the identity. */
export function validateEcPublicKey(_key: EcPublicKeyMaterial): void {
  todo('validateEcPublicKey');
}

/** The public key d·G for an imported private scalar that came without one. */
export function ecPublicKeyFromPrivate(
  _exec: PrimitiveExecutor,
  _curve: EcCurveName,
  _d: bigint,
  _options?: Options,
): Promise<EcPublicKeyMaterial> {
  return todo('ecPublicKeyFromPrivate');
}
