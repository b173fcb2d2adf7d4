/**
 * The keyctl ABI's numbers and answer shapes (Linux include/uapi/linux/keyctl.h),
 * once: the system module's binding (system.ts) and pkaccel's keyring driver
 * (drivers/keyring, through `pcie-mmio/keyctl`) both use these. Constants and
 * types only — importing this loads no native code.
 */

/** Special keyring ids (KEY_SPEC_*). */
export const KEY_SPEC = {
  thread: -1,
  process: -2,
  session: -3,
  user: -4,
  userSession: -5,
  group: -6,
} as const;

/** The special keyrings as keyctl(1) spells them (`@s`, `@u`, …). */
export const KEYRING_NAMES: Readonly<Record<string, number>> = {
  '@t': KEY_SPEC.thread,
  '@p': KEY_SPEC.process,
  '@s': KEY_SPEC.session,
  '@u': KEY_SPEC.user,
  '@us': KEY_SPEC.userSession,
  '@g': KEY_SPEC.group,
};

/** One class's permission bits; the classes differ only by their byte in the mask. */
function permClass(shift: number) {
  return {
    view: 0x01 << shift,
    read: 0x02 << shift,
    write: 0x04 << shift,
    search: 0x08 << shift,
    link: 0x10 << shift,
    setattr: 0x20 << shift,
    all: 0x3f << shift,
  } as const;
}

/** Key permission bits (possessor, user, group, other: view, read, write, search, link, setattr). */
export const KEY_PERM = {
  possessor: permClass(24),
  user: permClass(16),
  group: permClass(8),
  other: permClass(0),
} as const;

/**
 * Usable but not readable or writable: view and search for the possessor and the
 * owning user, setattr for the possessor (to change it later). The public-key
 * operations need *search*; on Linux 6.18 the kernel checked KEYCTL_PKEY_* against
 * the user (or group/other) class, not the possessor's — possession alone did not
 * grant them, hence user search too.
 */
export const KEY_USE_ONLY =
  KEY_PERM.possessor.view |
  KEY_PERM.possessor.search |
  KEY_PERM.possessor.setattr |
  KEY_PERM.user.view |
  KEY_PERM.user.search;

/** Bits of PkeyQuery.supportedOps. */
export const PKEY_SUPPORTS = { encrypt: 0x01, decrypt: 0x02, sign: 0x04, verify: 0x08 } as const;

/** What KEYCTL_DESCRIBE says about a key. */
export interface KeyDescription {
  readonly type: string;
  readonly uid: number;
  readonly gid: number;
  readonly perm: number;
  readonly description: string;
}

/** KEYCTL_PKEY_QUERY's answer. Sizes in bytes except keySize (bits). */
export interface PkeyQuery {
  readonly supportedOps: number;
  readonly keySize: number;
  readonly maxDataSize: number;
  readonly maxSigSize: number;
  readonly maxEncSize: number;
  readonly maxDecSize: number;
}
