/**
 * The public API: openAccelerator, the Accelerator and its WebCrypto-compatible
 * `subtle` and `crypto`, the CryptoKey class, installGlobalCrypto, the key policy.
 */

export type { AsymmetricName } from '../algorithms/suite.js';
export {
  type Accelerator,
  type AcceleratorDevice,
  type DeviceSelection,
  type OpenAcceleratorOptions,
  openAccelerator,
  resolveDeviceSelection,
  resolveDeviceSpecs,
} from './accelerator.js';
export { type AcceleratorCrypto, installGlobalCrypto } from './crypto.js';
export type { SharedKey } from './device-keys.js';
export {
  AcceleratorCryptoKey,
  CryptoKey,
  type KeyAlgorithm,
  type KeyType,
  type KeyUsage,
} from './key-handle.js';
export type { KeyPolicy } from './policy.js';
export type {
  AcceleratorSubtle,
  AlgorithmIdentifier,
  BufferSource,
  CallOptions,
  CryptoKeyLike,
  CryptoKeyPair,
  CryptoKeyPairLike,
  JsonWebKey,
  KeyFormat,
  KeyPairAlgorithm,
  SubtleOptions,
} from './subtle.js';
