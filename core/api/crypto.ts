/**
 * `accel.crypto`: a `Crypto` object (WebCrypto's `subtle`, `getRandomValues`,
 * `randomUUID`, and node's `CryptoKey` class member) over an accelerator, and
 * `installGlobalCrypto`, which puts it in place of `globalThis.crypto` for
 * libraries that always use the global (jose, …).
 */

import { randomUUID, webcrypto } from 'node:crypto';
import { CryptoKey } from './key-handle.js';
import type { AcceleratorSubtle } from './subtle.js';

/**
 * A drop-in `Crypto` object, assignable to the DOM's and node's `Crypto` types
 * without a cast. `getRandomValues` and `randomUUID` are node's (the operating
 * system's CSPRNG); `CryptoKey` is pkaccel's key class.
 *
 * @example
 * ```ts
 * import * as jose from 'jose';
 * const restore = installGlobalCrypto(accel); // jose uses globalThis.crypto
 * const typed: Crypto = accel.crypto; // or hand it to a library that takes a Crypto
 * ```
 *
 * @category WebCrypto
 */
export interface AcceleratorCrypto {
  /** The accelerator's `subtle` (the same object as `accel.subtle`). */
  readonly subtle: AcceleratorSubtle;
  /** Fill an integer typed array with random bytes from the operating system (at most 65536 bytes; QuotaExceededError beyond). */
  getRandomValues<T extends ArrayBufferView | null>(array: T): T;
  /** A random (version 4) UUID, from the operating system's CSPRNG. */
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
  /** The class of every key `subtle` returns (`key instanceof accel.crypto.CryptoKey`). */
  readonly CryptoKey: webcrypto.Crypto['CryptoKey'] & typeof CryptoKey;
}

/** The `Crypto` object of an accelerator's `subtle`. */
export function createCrypto(subtle: AcceleratorSubtle): AcceleratorCrypto {
  return {
    subtle,
    getRandomValues: (array) => webcrypto.getRandomValues(array as never) as typeof array,
    randomUUID: () => randomUUID(),
    // A class has no call signature; node's type declares one only so `instanceof` type-checks.
    CryptoKey: CryptoKey as unknown as AcceleratorCrypto['CryptoKey'],
  };
}

/**
 * Make `globalThis.crypto` the accelerator's `crypto`, for libraries that always
 * use the global (jose, …). Asymmetric keys run on the accelerator's devices;
 * digest, AES, HMAC and the rest keep working (they pass through to node).
 * Returns a function that restores the previous `globalThis.crypto` (idempotent).
 * While installed, `globalThis.CryptoKey` is pkaccel's key class too, so
 * `key instanceof CryptoKey` checks hold for the keys the global `subtle` returns.
 *
 * @example
 * ```ts
 * const restore = installGlobalCrypto(accel);
 * try {
 *   await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256' }).sign(key);
 * } finally {
 *   restore();
 * }
 * ```
 *
 * @category WebCrypto
 */
export function installGlobalCrypto(accel: { readonly crypto: AcceleratorCrypto }): () => void {
  const previousCrypto = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  const previousKey = Object.getOwnPropertyDescriptor(globalThis, 'CryptoKey');
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  };
  define('crypto', accel.crypto);
  define('CryptoKey', accel.crypto.CryptoKey);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const [name, previous] of [
      ['crypto', previousCrypto],
      ['CryptoKey', previousKey],
    ] as const) {
      if (previous) Object.defineProperty(globalThis, name, previous);
      else delete (globalThis as Record<string, unknown>)[name];
    }
  };
}
