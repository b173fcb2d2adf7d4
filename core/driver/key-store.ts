/**
 * Device-held keys (COORDINATION.md section 8): the optional key store of a
 * device whose keys live outside this process — the `broker:` device (keys in
 * `pkaccel serve`) and the kernel keyring driver. A key it returns is a
 * private-key object made by `heldPrivateKey` (./keys.ts): the public key and a
 * reference, no secret. Jobs using it are pinned to the device (core/api passes
 * the executor option `device`), capabilities refuse it unless they declare
 * `keyStorage: ['held']`, and subtle's exportKey refuses it as non-extractable.
 */

import type { PrivateKeyMaterial } from './keys.js';
import type { KeygenSpec } from './primitives.js';

/**
 * What a device that holds keys offers (`Device.keyStore`).
 *
 * @category Driver contracts
 */
export interface KeyStore {
  /**
   * Take a private key into the device; returns the held key. The material stays
   * the caller's to drop; the driver zeroes every buffer it encoded it into.
   */
  importKey(key: PrivateKeyMaterial, signal?: AbortSignal): Promise<PrivateKeyMaterial>;
  /** Generate a key pair inside the device; returns the held private key (its `publicKey` is the public half). */
  generateKey?(spec: KeygenSpec, signal?: AbortSignal): Promise<PrivateKeyMaterial>;
  /**
   * Open a key the device was given by name (a broker's `--key name=…`, a keyring
   * description). NotFound / not permitted: InvalidKeyError.
   */
  openKey(name: string, signal?: AbortSignal): Promise<PrivateKeyMaterial>;
  /** Destroy a key this store returned (idempotent); its handle is refused afterwards. */
  destroyKey(key: PrivateKeyMaterial, signal?: AbortSignal): Promise<void>;
}

/**
 * The key store of a device, if it has one (`Device.keyStore`, read structurally).
 *
 * @category Driver contracts
 */
export function keyStoreOf(device: object): KeyStore | undefined {
  const store = (device as { readonly keyStore?: KeyStore }).keyStore;
  return store !== undefined && typeof store.importKey === 'function' ? store : undefined;
}
