/** The types of `subtle`'s signatures (compatible with the DOM's and node's SubtleCrypto). */

import type { webcrypto } from 'node:crypto';
import type { AsymmetricName } from '../algorithms/suite.js';
import type { KeyStore } from '../driver/key-store.js';
import type { JsonWebKey, KeyFormat } from '../key-formats/index.js';
import type { CryptoKey } from './key-handle.js';
import type { KeyPolicy } from './policy.js';

export type { AlgorithmIdentifier } from './webidl.js';
export type { JsonWebKey, KeyFormat };

/**
 * A key `subtle` accepts: its own, or one of node's (for the algorithms node runs, and as an ECDH peer).
 *
 * @category WebCrypto
 */
export type CryptoKeyLike = CryptoKey | webcrypto.CryptoKey;
/**
 * A key pair from generateKey (or `accel.keys.open`).
 *
 * @category WebCrypto
 */
export interface CryptoKeyPair {
  /** The public key: always extractable, usages among `verify`, `encrypt`, `wrapKey` (none for ECDH/X25519). */
  readonly publicKey: CryptoKey;
  /** The private key: extractable only if asked for; usages among `sign`, `decrypt`, `unwrapKey`, `deriveBits`, `deriveKey`. */
  readonly privateKey: CryptoKey;
}
/**
 * @deprecated Use CryptoKeyPair.
 * @category WebCrypto
 */
export type CryptoKeyPairLike = CryptoKeyPair;
/**
 * Bytes as WebCrypto takes them: an ArrayBuffer, or any view on one (Uint8Array,
 * Buffer, DataView). `subtle` copies them before it awaits anything.
 *
 * @category WebCrypto
 */
export type BufferSource = ArrayBuffer | ArrayBufferView;
/**
 * Key usages as a caller passes them: any iterable (WebIDL `sequence<KeyUsage>`).
 *
 * @category WebCrypto
 */
export type KeyUsages = Iterable<webcrypto.KeyUsage | string>;
/**
 * Algorithms whose generateKey makes a key pair.
 *
 * @category WebCrypto
 */
export type KeyPairAlgorithm =
  | AsymmetricName
  | 'Ed448'
  | 'X448'
  | {
      /** The algorithm's name; the other members are the algorithm's generate parameters. */
      readonly name: AsymmetricName | 'Ed448' | 'X448';
      readonly [member: string]: unknown;
    }
  | webcrypto.RsaHashedKeyGenParams
  | webcrypto.EcKeyGenParams;
/**
 * Algorithms whose generateKey makes one secret key (node makes it).
 *
 * @category WebCrypto
 */
export type SecretKeyAlgorithm =
  | webcrypto.AesKeyGenParams
  | webcrypto.HmacKeyGenParams
  | webcrypto.Pbkdf2Params;

/**
 * The trailing options every `subtle` method accepts (a pkaccel extension).
 *
 * @category WebCrypto
 */
export interface CallOptions {
  /**
   * Aborting it rejects the call with an AbortError: a job not yet on a device is
   * withdrawn, one on a device is abandoned (its result discarded).
   */
  readonly signal?: AbortSignal;
}

/**
 * @internal What openAccelerator passes to the AcceleratorSubtle constructor.
 */
export interface SubtleOptions {
  /** A deployment's key policy (stricter than WebCrypto's defaults). */
  readonly policy?: KeyPolicy;
  /** Key stores of the devices (device-held keys, core/driver/key-store.ts); set by openAccelerator. */
  readonly keyStores?: readonly KeyStore[];
}
