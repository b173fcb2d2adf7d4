/** The vocabulary of key import and export, shared by core/key-formats and core/api. */

import type { webcrypto } from 'node:crypto';
import type { EcCurveName, HashName, PrivateKeyMaterial, PublicKeyMaterial } from '../driver/keys.js';

/**
 * A key serialization: `raw` (EC/OKP public points, secret-key bytes), `spki`
 * (DER SubjectPublicKeyInfo), `pkcs8` (DER PrivateKeyInfo), `jwk` (RFC 7517 JSON).
 *
 * @category WebCrypto
 */
export type KeyFormat = 'raw' | 'spki' | 'pkcs8' | 'jwk';

/**
 * A JSON Web Key (RFC 7517/7518) as importKey takes it and exportKey returns it: node's type.
 *
 * @category WebCrypto
 */
export type JsonWebKey = webcrypto.JsonWebKey;

/**
 * The RSA algorithms keys are imported for. `RSA-RAW` is pkaccel's raw (unpadded)
 * RSA; its keys carry no hash.
 */
export type RsaAlgorithmName = 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'RSA-OAEP' | 'RSA-RAW';

/** What a key is imported as: the algorithm it is bound to and its parameters. */
export type KeySpec =
  | { readonly family: 'rsa'; readonly name: RsaAlgorithmName; readonly hash: HashName | undefined }
  | { readonly family: 'ec'; readonly name: 'ECDSA' | 'ECDH'; readonly curve: EcCurveName }
  | { readonly family: 'okp'; readonly name: 'Ed25519' | 'X25519' };

/** Attributes of the key handle that JWK members must agree with. */
export interface KeyAttributes {
  readonly extractable: boolean;
  readonly usages: readonly string[];
}

export type ImportedKey =
  | { readonly type: 'public'; readonly material: PublicKeyMaterial }
  | { readonly type: 'private'; readonly material: PrivateKeyMaterial };
