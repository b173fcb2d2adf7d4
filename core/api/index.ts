/** The public API: openAccelerator, the Accelerator and its WebCrypto-compatible `subtle`, key handles. */

export {
  type Accelerator,
  type AcceleratorCrypto,
  type AcceleratorDevice,
  type DeviceSelection,
  type OpenAcceleratorOptions,
  openAccelerator,
  resolveDeviceSelection,
  resolveDeviceSpecs,
} from './accelerator.js';
export type { AlgorithmIdentifier, AsymmetricName } from './algorithm.js';
export type { AcceleratorCryptoKey, KeyAlgorithm, KeyType, KeyUsage } from './key-handle.js';
export type {
  AcceleratorSubtle,
  BufferSource,
  CallOptions,
  CryptoKeyLike,
  CryptoKeyPairLike,
  JsonWebKey,
  KeyFormat,
} from './subtle.js';
