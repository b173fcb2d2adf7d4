/**
 * What the keyring driver needs from the kernel: the keyctl calls of pcie-mmio's
 * system module (native/lib/system.ts, class Keyctl), as an interface. The
 * composition root hands the driver a factory (index.ts), so the driver itself
 * imports only the core contracts, and tests can give it a fake kernel.
 */

/** KEYCTL_DESCRIBE's answer. */
export interface KeyDescription {
  readonly type: string;
  readonly uid: number;
  readonly gid: number;
  readonly perm: number;
  readonly description: string;
}

/** KEYCTL_PKEY_QUERY's answer (sizes in bytes, keySize in bits). */
export interface PkeyQuery {
  readonly supportedOps: number;
  readonly keySize: number;
  readonly maxDataSize: number;
  readonly maxSigSize: number;
  readonly maxEncSize: number;
  readonly maxDecSize: number;
}

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

/** Special keyring ids (KEY_SPEC_*), as keyctl(1) spells them. */
export const KEYRINGS: Readonly<Record<string, number>> = {
  '@t': -1,
  '@p': -2,
  '@s': -3,
  '@u': -4,
  '@us': -5,
  '@g': -6,
};

/** Bits of PkeyQuery.supportedOps. */
export const SUPPORTS = { encrypt: 0x01, decrypt: 0x02, sign: 0x04, verify: 0x08 } as const;

/**
 * Key permissions (possessor, user, group, other × view, read, write, search,
 * link, setattr). The public-key operations need *search*: on Linux 6.18 the
 * kernel checked KEYCTL_PKEY_ENCRYPT/DECRYPT/SIGN/VERIFY against the user (or
 * group/other) class, not the possessor's — possession alone did not grant them.
 */
export const PERM = {
  possessorView: 0x01000000,
  possessorSearch: 0x08000000,
  possessorSetattr: 0x20000000,
  userView: 0x00010000,
  userSearch: 0x00080000,
} as const;

/** The permissions of a key this driver adds: usable (view + search) by its owner, readable and changeable by no one. */
export const USE_ONLY =
  PERM.possessorView | PERM.possessorSearch | PERM.possessorSetattr | PERM.userView | PERM.userSearch;

/** The errno a typed error from the system module names, if any. */
export function errnoOf(error: unknown): string | undefined {
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === 'string' ? errno : undefined;
}
