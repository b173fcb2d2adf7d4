/**
 * What the keyring driver needs from the kernel: the keyctl calls of pcie-mmio's
 * system module (native/lib/system.ts, class Keyctl), as an interface. The
 * composition root hands the driver a factory (index.ts), so the driver loads no
 * native code and tests can give it a fake kernel. The ABI's numbers and answer
 * shapes come from `pcie-mmio/keyctl` (constants and types only), written once.
 */

import type { KeyDescription, PkeyQuery } from 'pcie-mmio/keyctl';

export {
  KEY_USE_ONLY as USE_ONLY,
  KEYRING_NAMES as KEYRINGS,
  type KeyDescription,
  PKEY_SUPPORTS as SUPPORTS,
  type PkeyQuery,
} from 'pcie-mmio/keyctl';

/** The keyctl calls the driver makes; errors are pkaccel's typed errors with `errno` and `syscall`. */
export interface KeyctlCalls {
  addKey(type: string, description: string, payload: Uint8Array, keyring: number): number;
  keyringId(keyring: number, create?: boolean): number;
  search(keyring: number, type: string, description: string, destKeyring?: number): number;
  describe(key: number): KeyDescription;
  setPerm(key: number, perm: number): void;
  invalidate(key: number): void;
  capabilities(): { readonly publicKey: boolean };
  query(key: number, info?: string): PkeyQuery;
  encrypt(key: number, info: string, input: Uint8Array, outputLength: number): Promise<Uint8Array>;
  decrypt(key: number, info: string, input: Uint8Array, outputLength: number): Promise<Uint8Array>;
  sign(key: number, info: string, digest: Uint8Array, outputLength: number): Promise<Uint8Array>;
  verify(key: number, info: string, digest: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/** The errno a typed error from the system module names, if any. */
export function errnoOf(error: unknown): string | undefined {
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === 'string' ? errno : undefined;
}
