/**
 * Device-held keys on core/api's side (COORDINATION.md section 8): a
 * non-extractable private key imported or generated on an accelerator that has
 * a device with a key store goes into that store, and the CryptoKey keeps only
 * the held reference (public key + handle); every operation with it runs pinned
 * to the holding device; `accel.keys.open(name, …)` opens a key the device was
 * given by name; `accel.keys.share` / `adopt` carry a held key to another thread.
 */

import type { KeyUsage } from '../algorithms/suite.js';
import type { PrimitiveExecutor } from '../driver/device.js';
import { InvalidKeyError } from '../driver/errors.js';
import type { KeyStore } from '../driver/key-store.js';
import type { KeyPairMaterial, PrivateKeyMaterial, PublicKeyMaterial } from '../driver/keys.js';
import type { KeygenSpec } from '../driver/primitives.js';
import type { KeySpec } from '../key-formats/index.js';
import { isAcceleratorKey, type KeyAlgorithm, secretOf } from './key-handle.js';

/** The executor for operations with `material`: pinned to the holding device when the key is device-held. */
export function executorFor(
  exec: PrimitiveExecutor,
  material: PublicKeyMaterial | PrivateKeyMaterial,
): PrimitiveExecutor {
  const held = 'held' in material ? material.held : undefined;
  if (held === undefined) return exec;
  const device = held.device;
  return {
    supports: (request) => exec.supports(request),
    run: (request, options) => exec.run(request, { ...options, device } as never),
    runFirst: (alternatives, options) => exec.runFirst(alternatives, { ...options, device } as never),
    ...(exec.runFirstThen === undefined
      ? {}
      : {
          runFirstThen: (alternatives, options, finish) =>
            exec.runFirstThen!(alternatives, { ...options, device } as never, finish),
        }),
  };
}

/** Move a private key into the first key store (the caller drops `material`). */
export async function intoKeyStore(
  stores: readonly KeyStore[] | undefined,
  material: PrivateKeyMaterial,
  signal?: AbortSignal,
): Promise<PrivateKeyMaterial> {
  const store = stores?.[0];
  if (store === undefined) return material;
  return store.importKey(material, signal);
}

/** Generate a key pair in the first key store that generates, else undefined. */
export async function generateInKeyStore(
  stores: readonly KeyStore[] | undefined,
  spec: KeygenSpec,
  signal?: AbortSignal,
): Promise<KeyPairMaterial | undefined> {
  const store = stores?.[0];
  if (store?.generateKey === undefined) return undefined;
  const privateKey = await store.generateKey(spec, signal);
  return { kind: spec.kind, privateKey } as KeyPairMaterial;
}

/** Open a named key through the first store that has it. */
export async function openInKeyStores(
  stores: readonly KeyStore[] | undefined,
  name: string,
  signal?: AbortSignal,
): Promise<PrivateKeyMaterial> {
  let last: unknown;
  for (const store of stores ?? []) {
    try {
      return await store.openKey(name, signal);
    } catch (error) {
      last = error;
    }
  }
  throw last ?? new InvalidKeyError(`no device of this accelerator holds keys (opening "${name}")`);
}

/** Whether `material` fits `spec` (an RSA key for an RSA algorithm, the curve of an EC algorithm). */
export function fitsSpec(material: PrivateKeyMaterial, spec: KeySpec): boolean {
  if (spec.family === 'rsa') return material.kind === 'rsa-private';
  if (spec.family === 'ec') return material.kind === 'ec-private' && material.curve === spec.curve;
  return material.kind === 'okp-private' && material.curve === spec.name;
}

export type { KeyUsage };

/**
 * A device-held private key in a form `postMessage`/`structuredClone` carry
 * (`accel.keys.share`): which device holds it, the device's handle, the key's
 * algorithm and usages — no key material. Another thread (or a process of the
 * same uid: a broker's handles are uid-scoped) turns it back into a key with
 * `accel.keys.adopt` on its own accelerator over the same device.
 *
 * @category WebCrypto
 */
export interface SharedKey {
  readonly kind: 'pkaccel-held-key';
  /** `DeviceInfo.id` of the holding device (e.g. `broker:/run/pkaccel/pkaccel.sock`). */
  readonly device: string;
  /** The device's reference to the key (a broker handle): a capability, give it only where the key may go. */
  readonly handle: string;
  readonly algorithm: KeyAlgorithm;
  readonly usages: readonly KeyUsage[];
}

/** The shareable form of a device-held private key; InvalidKeyError for any other key. */
export function shareKey(key: unknown): SharedKey {
  if (!isAcceleratorKey(key) || key.type !== 'private')
    throw new InvalidKeyError('only a private key of this accelerator can be shared');
  const held = secretOf(key).material;
  const ref = 'held' in held ? held.held : undefined;
  if (ref === undefined || ref.destroyed === true)
    throw new InvalidKeyError(
      'only a device-held key (a broker: key) can be shared with another thread; its material is in this process',
    );
  return {
    kind: 'pkaccel-held-key',
    device: ref.device,
    handle: ref.handle,
    algorithm: key.algorithm,
    usages: key.usages,
  };
}

/** The key-store name under which a device opens a shared key again: `#` and its handle. */
export function sharedKeyName(shared: SharedKey): string {
  if (
    typeof shared !== 'object' ||
    shared === null ||
    shared.kind !== 'pkaccel-held-key' ||
    typeof shared.handle !== 'string' ||
    !/^[0-9a-f]{1,128}$/.test(shared.handle)
  )
    throw new InvalidKeyError('not a key shared by accel.keys.share');
  return `#${shared.handle}`;
}
