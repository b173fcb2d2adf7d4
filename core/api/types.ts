/** The types of `subtle`'s signatures (compatible with the DOM's and node's SubtleCrypto). */

import type { webcrypto } from 'node:crypto';
import type { AsymmetricName } from '../algorithms/suite.js';
import type { KeyStore } from '../driver/key-store.js';
import type { JsonWebKey, KeyFormat } from '../key-formats/index.js';
import type { CryptoKey } from './key-handle.js';
import type { KeyPolicy } from './policy.js';

export type { AlgorithmIdentifier } from './webidl.js';
export type { JsonWebKey, KeyFormat };

/** A key `subtle` accepts: its own, or one of node's (for the algorithms node runs, and as an ECDH peer). */
export type CryptoKeyLike = CryptoKey | webcrypto.CryptoKey;
/** A key pair from generateKey. */
export interface CryptoKeyPair {
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
}
/** @deprecated Use CryptoKeyPair. */
export type CryptoKeyPairLike = CryptoKeyPair;
export type BufferSource = ArrayBuffer | ArrayBufferView;
/** Key usages as a caller passes them: any iterable (WebIDL `sequence<KeyUsage>`). */
export type KeyUsages = Iterable<webcrypto.KeyUsage | string>;
/** Algorithms whose generateKey makes a key pair. */
export type KeyPairAlgorithm =
  | AsymmetricName
  | 'Ed448'
  | 'X448'
  | { readonly name: AsymmetricName | 'Ed448' | 'X448'; readonly [member: string]: unknown }
  | webcrypto.RsaHashedKeyGenParams
  | webcrypto.EcKeyGenParams;
/** Algorithms whose generateKey makes one secret key (node makes it). */
export type SecretKeyAlgorithm =
  | webcrypto.AesKeyGenParams
  | webcrypto.HmacKeyGenParams
  | webcrypto.Pbkdf2Params;

/** The trailing options every method accepts. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface SubtleOptions {
  /** A deployment's key policy (stricter than WebCrypto's defaults). */
  readonly policy?: KeyPolicy;
  /** Key stores of the devices (device-held keys, core/driver/key-store.ts); set by openAccelerator. */
  readonly keyStores?: readonly KeyStore[];
}
