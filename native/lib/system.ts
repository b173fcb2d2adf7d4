/**
 * The system calls of the broker and keyring devices, from the small native module
 * beside pcie-mmio (build/Release/pkaccel_system.node, src/system.cc): the peer
 * credentials of a Unix socket, the process's dumpable flag, and a keyctl binding
 * (add_key, search, describe, permissions, invalidate/unlink, the public-key
 * operations KEYCTL_PKEY_QUERY/ENCRYPT/DECRYPT/SIGN/VERIFY). Raw syscalls, no library.
 *
 * Failures throw typed errors (pkaccel's classes when the composition root hands
 * them in, else plain Errors with the same stable `code`), each naming the errno
 * (`errno`: "ENOKEY") and the system call (`syscall`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { coded, defaultErrors, type ErrorClass } from './errors.js';
import { KEYRING_NAMES, type KeyDescription, type PkeyQuery } from './keyctl-abi.js';

/** The error classes the system calls throw; pkaccel's (core/driver/errors.ts) fit. */
export interface SystemErrorClasses {
  readonly InvalidKeyError: ErrorClass;
  readonly InvalidInputError: ErrorClass;
  readonly UnsupportedError: ErrorClass;
  readonly DeviceError: ErrorClass;
}

/** Plain errors with pkaccel's stable codes, for use without pkaccel. */
export const defaultSystemErrors: SystemErrorClasses = {
  InvalidKeyError: coded('invalid-key', 'InvalidKeyError'),
  InvalidInputError: defaultErrors.InvalidInputError,
  UnsupportedError: defaultErrors.UnsupportedError,
  DeviceError: coded('device-error', 'DeviceError'),
};

interface SystemAddon {
  peerCredentials(fd: number): PeerCredentials;
  setDumpable(dumpable: boolean): void;
  getDumpable(): boolean;
  addKey(type: string, description: string, payload: Uint8Array, keyring: number): number;
  keyringId(keyring: number, create: boolean): number;
  search(keyring: number, type: string, description: string, destKeyring?: number): number;
  describe(key: number): string;
  keyringKeys(keyring: number): number[];
  setPerm(key: number, perm: number): void;
  invalidate(key: number): void;
  unlink(key: number, keyring: number): void;
  pkeyQuery(key: number, info: string): PkeyQuery;
  capabilities(): Uint8Array;
  pkey(
    option: number,
    key: number,
    info: string,
    input: Uint8Array,
    last: number | Uint8Array,
  ): Promise<unknown>;
}

// Both lib/*.ts (under vitest) and dist/*.js sit one level below the package root.
const addonPath = new URL('../build/Release/pkaccel_system.node', import.meta.url);
let loaded: SystemAddon | undefined;
let loadError: Error | undefined;

function native(): SystemAddon {
  if (loaded !== undefined) return loaded;
  if (loadError === undefined) {
    try {
      loaded = createRequire(import.meta.url)(addonPath.pathname) as SystemAddon;
      return loaded;
    } catch (error) {
      loadError = new defaultSystemErrors.UnsupportedError(
        `pkaccel system module ${addonPath.pathname} is not built (it is built with pcie-mmio's addon; ` +
          'see addonStatus() for why that build did not run)',
        { cause: error },
      );
    }
  }
  throw loadError;
}

/** Whether the system module loaded (peer credentials, prctl, keyctl), and if not why. */
export function systemModuleStatus(): { readonly loaded: boolean; readonly reason?: string } {
  try {
    native();
    return { loaded: true };
  } catch (error) {
    return { loaded: false, reason: (error as Error).message };
  }
}

interface NativeError {
  readonly code?: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly message: string;
}

/** An error of the system calls: a pkaccel class, plus the errno's name and the call. */
export type SystemCallError = Error & { readonly errno?: string; readonly syscall?: string };

const KEY_ERRNOS: Record<string, string> = {
  ENOKEY: 'no such key (or it is not visible to this process)',
  EKEYREVOKED: 'the key was revoked',
  EKEYEXPIRED: 'the key has expired',
  EKEYREJECTED: 'the key was rejected',
  EACCES: 'permission denied: the key\u2019s permissions do not grant this operation to this process',
};

const UNSUPPORTED_ERRNOS: Record<string, string> = {
  EOPNOTSUPP: 'the key or its type does not support this operation',
  ENOPKG: 'the kernel lacks the crypto algorithm this needs (a module not loaded?)',
  ENODEV:
    'unknown key type: the kernel lacks it (type "asymmetric" needs CONFIG_ASYMMETRIC_KEY_TYPE, else add_key gives ENODEV)',
};

/**
 * The seccomp mode of this process (/proc/self/status `Seccomp:` — 0 none, 1
 * strict, 2 filter) and whether the kernel has key management at all (/proc/key-users
 * exists with CONFIG_KEYS). Read only when a call failed with ENOSYS or EPERM, to
 * say which of the causes that share those errnos this is.
 */
export interface KeyctlEnvironment {
  readonly seccomp: number | undefined;
  readonly keys: boolean;
}

function keyctlEnvironment(): KeyctlEnvironment {
  let seccomp: number | undefined;
  try {
    const line = /^Seccomp:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    seccomp = line === undefined ? undefined : Number(line);
  } catch {
    seccomp = undefined;
  }
  return { seccomp, keys: existsSync('/proc/key-users') };
}

/**
 * ENOSYS, EPERM and EOPNOTSUPP each have more than one cause here; which, depends on the call:
 * - KEYCTL_PKEY_* (the call exists): ENOSYS is the crypto API's answer for an operation the
 *   bound akcipher does not implement (its default op; e.g. virtio_crypto's pkcs1pad(rsa) has
 *   no sign); EOPNOTSUPP is a kernel without the public-key operations (before 4.20, or
 *   CONFIG_ASYMMETRIC_KEY_TYPE off) or a key whose type has none.
 * - add_key/keyctl otherwise: ENOSYS is no key management (CONFIG_KEYS off: no /proc/key-users)
 *   or a seccomp filter answering ENOSYS; EPERM from these calls is a seccomp filter (container
 *   runtimes' default profiles refuse add_key/keyctl with EPERM). /proc/self/status tells
 *   whether a filter is on.
 */
export function explainKeyctlErrno(
  errno: string,
  call: string,
  environment: () => KeyctlEnvironment = keyctlEnvironment,
): string | undefined {
  const pkey = call.startsWith('keyctl(KEYCTL_PKEY_');
  if (errno === 'EOPNOTSUPP' && pkey)
    return 'this kernel has no keyctl public-key operations (Linux before 4.20, or CONFIG_ASYMMETRIC_KEY_TYPE off), or the key\u2019s type has none';
  if (errno === 'EOPNOTSUPP' && call === 'keyctl(KEYCTL_CAPABILITIES)')
    return 'this kernel has no KEYCTL_CAPABILITIES (before Linux 5.3)';
  if (errno === 'ENOENT' && pkey)
    return 'the kernel has no crypto implementation of this key\u2019s algorithm with this info string (crypto_alloc_akcipher found none: its module is not loaded or not built — Debian\u2019s 6.1 kernel has no ECDSA at all, CONFIG_CRYPTO_ECDSA unset)';
  if (errno === 'ENOPKG' && call === 'add_key')
    return 'a parser of this kernel recognised the payload but not its key algorithm (the PKCS#8 parser, pkcs8_key_parser, takes RSA private keys only)';
  if (errno !== 'ENOSYS' && errno !== 'EPERM') return undefined;
  if (errno === 'ENOSYS' && pkey)
    return 'the kernel has keyctl, but the crypto implementation it bound for this key and info string does not implement this operation (the crypto API\u2019s default op answers ENOSYS; see /proc/crypto for the driver)';
  const { seccomp, keys } = environment();
  const filter =
    seccomp === 2
      ? 'a seccomp filter is on in this process (Seccomp: 2 in /proc/self/status): keyctl and add_key are filtered here (a container runtime\u2019s default profile)'
      : undefined;
  if (errno === 'EPERM')
    return `not permitted: ${filter ?? 'keyctl is forbidden here (no seccomp filter is on in this process, so an LSM or the key\u2019s owner refused it)'}`;
  if (!keys) return 'this kernel has no key management (CONFIG_KEYS off: there is no /proc/key-users)';
  return filter ?? 'the kernel has key management (/proc/key-users) but not this call';
}

const INPUT_ERRNOS: Record<string, string> = {
  EINVAL: 'invalid argument',
  EMSGSIZE: 'input or output size does not fit the key',
  E2BIG: 'input too large',
  EFAULT: 'bad address',
  EBADF: 'not an open file descriptor',
  ENOTSOCK: 'not a socket',
  ENOTCONN: 'the socket is not connected',
};

/** Maps an Error from the native module to a typed error naming the errno and the call. */
export function mapSystemError(
  error: unknown,
  context: string,
  errors: SystemErrorClasses = defaultSystemErrors,
): SystemCallError {
  const e = error as NativeError;
  const errno = typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) ? e.code : undefined;
  if (errno === undefined) return error as SystemCallError; // an argument check (TypeError/RangeError)
  const call = e.syscall ?? 'system call';
  let made: Error;
  const say = (what: string) => `${context}: ${what} (${errno} from ${call})`;
  const ambiguous = explainKeyctlErrno(errno, call);
  if (call === 'add_key' && errno === 'EBADMSG')
    made = new errors.UnsupportedError(
      say(
        'no asymmetric-key parser of this kernel accepted the payload — for a PKCS#8 private key the kernel needs ' +
          'CONFIG_PKCS8_PRIVATE_KEY_PARSER (module pkcs8_key_parser); X.509 certificates need the X.509 parser',
      ),
      { cause: error },
    );
  else if (ambiguous !== undefined) made = new errors.UnsupportedError(say(ambiguous), { cause: error });
  else if (KEY_ERRNOS[errno] !== undefined)
    made = new errors.InvalidKeyError(say(KEY_ERRNOS[errno]), { cause: error });
  else if (UNSUPPORTED_ERRNOS[errno] !== undefined)
    made = new errors.UnsupportedError(say(UNSUPPORTED_ERRNOS[errno]), { cause: error });
  else if (INPUT_ERRNOS[errno] !== undefined)
    made = new errors.InvalidInputError(say(INPUT_ERRNOS[errno]), { cause: error });
  else made = new errors.DeviceError(say(e.message), { cause: error });
  Object.defineProperty(made, 'errno', { value: errno, enumerable: true });
  Object.defineProperty(made, 'syscall', { value: call, enumerable: true });
  return made as SystemCallError;
}

function call<T>(context: string, errors: SystemErrorClasses, fn: (addon: SystemAddon) => T): T {
  const addon = native();
  try {
    return fn(addon);
  } catch (error) {
    throw mapSystemError(error, context, errors);
  }
}

// ---- peer credentials and prctl ----

/** The process at the other end of a connected Unix socket, as the kernel saw it connect. */
export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * SO_PEERCRED of a connected Unix-domain socket. For a `net.Socket` of a Unix server
 * or client, the descriptor is `socket._handle.fd` (libuv's pipe handle, present on
 * Unix; see socketFd).
 */
export function peerCredentials(
  fd: number,
  errors: SystemErrorClasses = defaultSystemErrors,
): PeerCredentials {
  return call('peer credentials', errors, (a) => a.peerCredentials(fd));
}

/**
 * The file descriptor of a connected `net.Socket` over a Unix socket: node does not
 * publish it, but its libuv pipe handle has it as `_handle.fd` on Unix (-1 on Windows
 * or before the socket connects). Throws InvalidInputError when there is none.
 */
export function socketFd(socket: object, errors: SystemErrorClasses = defaultSystemErrors): number {
  const fd = (socket as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0)
    throw new errors.InvalidInputError(
      'socket has no file descriptor (not a connected Unix-domain socket, or its handle is gone)',
    );
  return fd;
}

/**
 * prctl(PR_SET_DUMPABLE): `false` stops core dumps and ptrace attachment by other
 * processes of the same user (they could read keys from memory); root keeps access.
 */
export function setDumpable(dumpable: boolean, errors: SystemErrorClasses = defaultSystemErrors): void {
  call('prctl', errors, (a) => a.setDumpable(dumpable));
}

/** prctl(PR_GET_DUMPABLE). */
export function isDumpable(errors: SystemErrorClasses = defaultSystemErrors): boolean {
  return call('prctl', errors, (a) => a.getDumpable());
}

// ---- keyctl ----

export {
  KEY_PERM,
  KEY_SPEC,
  KEY_USE_ONLY,
  KEYRING_NAMES,
  type KeyDescription,
  PKEY_SUPPORTS,
  type PkeyQuery,
} from './keyctl-abi.js';

/** A special keyring as keyctl(1) spells it (`@s`, `@u`, …; KEYRING_NAMES) or a serial, as a number. */
export function keyringOf(name: string): number {
  const special = KEYRING_NAMES[name];
  if (special !== undefined) return special;
  const serial = Number(name);
  if (Number.isInteger(serial) && serial > 0 && serial < 2 ** 31) return serial;
  throw new defaultSystemErrors.InvalidInputError(
    `keyring must be one of ${Object.keys(KEYRING_NAMES).join(', ')} or a serial number, got ${JSON.stringify(name)}`,
  );
}

/** KEYCTL_CAPABILITIES decoded (the bits of its first byte that pkaccel uses), and the bytes. */
export interface KeyctlCapabilities {
  readonly publicKey: boolean;
  readonly invalidate: boolean;
  readonly restrictKeyring: boolean;
  readonly move: boolean;
  readonly raw: Uint8Array;
}

const PKEY = { encrypt: 25, decrypt: 26, sign: 27, verify: 28 } as const;

/** Digest lengths of the kernel's hash names, to tell a bad signature from a bad call. */
const DIGEST_BYTES: Record<string, number> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
  'sha3-256': 32,
  'sha3-384': 48,
  'sha3-512': 64,
};

/**
 * The keyctl binding. `info` strings are the kernel's (`enc=pkcs1 hash=sha256`,
 * `enc=raw`). Keyring arguments take a serial or a KEY_SPEC id (keyringOf('@s')).
 */
export class Keyctl {
  readonly #errors: SystemErrorClasses;

  constructor(errors: SystemErrorClasses = defaultSystemErrors) {
    this.#errors = errors;
  }

  /** add_key: a key of `type` (e.g. 'asymmetric' with a DER X.509 or PKCS#8 payload) linked into `keyring`. */
  addKey(type: string, description: string, payload: Uint8Array, keyring: number): number {
    return call(`add_key ${type} "${description}"`, this.#errors, (a) =>
      a.addKey(type, description, payload, keyring),
    );
  }

  /** The serial of a special keyring (KEYCTL_GET_KEYRING_ID); `create` makes it if absent. */
  keyringId(keyring: number, create = false): number {
    return call('keyring id', this.#errors, (a) => a.keyringId(keyring, create));
  }

  /** KEYCTL_SEARCH: a key by type and description in a keyring tree (needs search permission). */
  search(keyring: number, type: string, description: string, destKeyring = 0): number {
    return call(`search ${type} "${description}"`, this.#errors, (a) =>
      a.search(keyring, type, description, destKeyring),
    );
  }

  /** KEYCTL_DESCRIBE: type, owner, permissions and description (needs view permission). */
  describe(key: number): KeyDescription {
    const text = call(`describe key ${key}`, this.#errors, (a) => a.describe(key));
    // "type;uid;gid;perm;description" — the description itself may contain ';'
    const parts = text.split(';');
    if (parts.length < 5)
      throw new this.#errors.DeviceError(`describe key ${key}: unexpected answer from the kernel`);
    return {
      type: parts[0]!,
      uid: Number(parts[1]),
      gid: Number(parts[2]),
      perm: Number.parseInt(parts[3]!, 16),
      description: parts.slice(4).join(';'),
    };
  }

  /** The serials linked in a keyring (KEYCTL_READ on a keyring; needs read permission). */
  keyringKeys(keyring: number): number[] {
    return call(`list keyring ${keyring}`, this.#errors, (a) => a.keyringKeys(keyring));
  }

  /** KEYCTL_SETPERM (see KEY_PERM). */
  setPerm(key: number, perm: number): void {
    call(`set permissions of key ${key}`, this.#errors, (a) => a.setPerm(key, perm >>> 0));
  }

  /** KEYCTL_INVALIDATE: the key is gone for everyone at once. */
  invalidate(key: number): void {
    call(`invalidate key ${key}`, this.#errors, (a) => a.invalidate(key));
  }

  /** KEYCTL_UNLINK: remove the key from a keyring. */
  unlink(key: number, keyring: number): void {
    call(`unlink key ${key}`, this.#errors, (a) => a.unlink(key, keyring));
  }

  /**
   * KEYCTL_CAPABILITIES (Linux 5.3+): what the kernel's key management offers here —
   * `publicKey` is whether the KEYCTL_PKEY_* operations exist at all.
   */
  capabilities(): KeyctlCapabilities {
    const raw = call('keyctl capabilities', this.#errors, (a) => a.capabilities());
    const caps0 = raw[0] ?? 0;
    return {
      publicKey: (caps0 & 0x08) !== 0,
      invalidate: (caps0 & 0x20) !== 0,
      restrictKeyring: (caps0 & 0x40) !== 0,
      move: (caps0 & 0x80) !== 0,
      raw,
    };
  }

  /** KEYCTL_PKEY_QUERY: what the key can do with this info string, and its sizes. */
  query(key: number, info = ''): PkeyQuery {
    return call(`query key ${key} (${info})`, this.#errors, (a) => a.pkeyQuery(key, info));
  }

  /** KEYCTL_PKEY_ENCRYPT (runs on the libuv pool). */
  encrypt(key: number, info: string, input: Uint8Array, outputLength: number): Promise<Uint8Array> {
    return this.#pkey('encrypt', key, info, input, outputLength) as Promise<Uint8Array>;
  }

  /** KEYCTL_PKEY_DECRYPT (runs on the libuv pool). */
  decrypt(key: number, info: string, input: Uint8Array, outputLength: number): Promise<Uint8Array> {
    return this.#pkey('decrypt', key, info, input, outputLength) as Promise<Uint8Array>;
  }

  /** KEYCTL_PKEY_SIGN of a digest (`enc=pkcs1 hash=…`) or a raw block (`enc=raw`). */
  sign(key: number, info: string, digest: Uint8Array, outputLength: number): Promise<Uint8Array> {
    return this.#pkey('sign', key, info, digest, outputLength) as Promise<Uint8Array>;
  }

  /**
   * KEYCTL_PKEY_VERIFY: true if the signature is valid, false if it is not; other
   * failures throw. The kernel says "not valid" as EKEYREJECTED (digest mismatch) or
   * EBADMSG, and — Linux 6.13+, RSA — as EINVAL for a signature whose padding does not
   * decode; EINVAL is read as `false` only when the arguments are well formed (the
   * signature is as long as the key, the digest as long as the `hash=` names), so a
   * malformed call still throws InvalidInputError.
   */
  async verify(key: number, info: string, digest: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const context = `verify with key ${key} (${info})`;
    try {
      return (await native().pkey(PKEY.verify, key, info, digest, signature)) === true;
    } catch (error) {
      const code = (error as NativeError).code;
      if (code === 'EKEYREJECTED' || code === 'EBADMSG') return false;
      if (code === 'EINVAL' && this.#wellFormed(key, info, digest, signature)) return false;
      throw mapSystemError(error, context, this.#errors);
    }
  }

  #wellFormed(key: number, info: string, digest: Uint8Array, signature: Uint8Array): boolean {
    const hash = /(?:^|\s)hash=(\S+)/.exec(info)?.[1];
    const expected = hash === undefined ? undefined : DIGEST_BYTES[hash];
    if (expected === undefined || digest.length !== expected) return false;
    try {
      return signature.length === Math.ceil(this.query(key, info).keySize / 8);
    } catch {
      return false;
    }
  }

  async #pkey(
    op: 'encrypt' | 'decrypt' | 'sign',
    key: number,
    info: string,
    input: Uint8Array,
    outputLength: number,
  ): Promise<unknown> {
    const context = `${op} with key ${key} (${info})`;
    let pending: Promise<unknown>;
    try {
      pending = native().pkey(PKEY[op], key, info, input, outputLength);
    } catch (error) {
      throw mapSystemError(error, context, this.#errors);
    }
    try {
      return await pending;
    } catch (error) {
      throw mapSystemError(error, context, this.#errors);
    }
  }
}
