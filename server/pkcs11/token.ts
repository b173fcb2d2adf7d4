/**
 * The token: one slot per broker (slot id 1), holding every named key the
 * server was given. What a connection sees of it depends on its peer's uid and
 * gid (the named-key ACL) and, for private keys, on login when a PIN is set.
 * Slot and token info, and the mechanism list, are computed from the devices in
 * service each time they are asked (capabilities may shrink at run time).
 */

import { createHash } from 'node:crypto';
import type { PeerCredentials } from 'pcie-mmio/system';
import { type NamedKey, namedKeyPermits } from '../named-keys.js';
import { CKF_SLOT, CKF_TOKEN } from './constants.js';
import type { Pkcs11Accelerator } from './index.js';
import {
  availableMechanisms,
  type MechanismDef,
  type MechanismInfo,
  type MechanismPolicy,
  mechanismInfo,
} from './mechanisms.js';
import { type TokenObject, tokenObjects } from './objects.js';

/** The one slot's id (non-zero: some callers treat slot 0 as "none"). */
export const SLOT_ID = 1;

export interface TokenConfig {
  readonly label: string;
  readonly allowRawRsa: boolean;
  readonly loginRequired: boolean;
}

/** The package's version, as CK_VERSION (major, minor) for the firmware field. */
const VERSION = { major: 0, minor: 1 } as const;

export class Token {
  readonly objects: readonly TokenObject[];
  /** A serial stable for one set of keys (hex of a hash of their IDs), so URIs with `serial=` keep working. */
  readonly serial: string;
  readonly #policy: MechanismPolicy;
  constructor(
    readonly accelerator: Pkcs11Accelerator,
    keys: readonly NamedKey[],
    readonly config: TokenConfig,
  ) {
    this.objects = tokenObjects(keys);
    // CKM_RSA_PKCS decrypts only for keys with a rejection secret (derived when loaded from a file).
    this.#policy = {
      allowRawRsa: config.allowRawRsa,
      pkcs1Decrypt: keys.some((k) => k.material.kind === 'rsa-private' && k.rejectionSecret !== undefined),
    };
    const h = createHash('sha256');
    for (const o of this.objects) if (o.isPrivate) h.update(o.key.name).update('\0');
    this.serial = h.digest('hex').slice(0, 16);
  }

  get version(): { readonly major: number; readonly minor: number } {
    return VERSION;
  }

  mechanisms(): MechanismDef[] {
    return availableMechanisms(this.accelerator.devices, this.#policy);
  }

  mechanismInfo(def: MechanismDef): MechanismInfo | undefined {
    return mechanismInfo(def, this.accelerator.devices, this.#policy);
  }

  /** CK_SLOT_INFO.flags: the token is always present; a hardware slot when a card is open. */
  slotFlags(): number {
    const card = this.accelerator.devices.some((d) => d.driver !== 'software' && d.state === 'ready');
    return CKF_SLOT.TOKEN_PRESENT | (card ? CKF_SLOT.HW_SLOT : 0);
  }

  tokenFlags(): number {
    return (
      CKF_TOKEN.RNG |
      CKF_TOKEN.WRITE_PROTECTED |
      CKF_TOKEN.USER_PIN_INITIALIZED |
      CKF_TOKEN.TOKEN_INITIALIZED |
      (this.config.loginRequired ? CKF_TOKEN.LOGIN_REQUIRED : 0)
    );
  }

  /** The slot description: the devices in service. */
  slotDescription(): string {
    const ready = this.accelerator.devices.filter((d) => d.state === 'ready').map((d) => d.id);
    return `pkaccel: ${ready.join(', ') || 'no device ready'}`;
  }

  /** The objects this peer may see: ACL first, then private keys only when logged in (or no PIN). */
  visible(peer: PeerCredentials, loggedIn: boolean): readonly TokenObject[] {
    return this.view(peer).visible(loggedIn);
  }

  /**
   * What one peer may see, decided once: the ACL depends on the peer's credentials and the keys
   * alone, both fixed for a connection (the check asks the kernel for the broker's uid, a system
   * call per object, which every object lookup of every call repeated).
   */
  view(peer: PeerCredentials): ObjectView {
    const permitted = this.objects.filter((o) => namedKeyPermits(o.key, peer.uid, peer.gid));
    return new ObjectView(permitted, this.config.loginRequired);
  }

  /** One line for the log: keys and mechanisms. */
  describe(): string {
    const keys = this.objects.filter((o) => o.isPrivate).map((o) => o.key.name);
    return `keys ${keys.join(', ') || '(none)'}; mechanisms ${
      this.mechanisms()
        .map((d) => d.name)
        .join(' ') || '(none)'
    }${this.config.loginRequired ? '; PIN required' : ''}`;
  }
}

/** One peer's objects (the ACL applied), with and without login; lookups by handle. */
export class ObjectView {
  readonly #all: readonly TokenObject[];
  readonly #public: readonly TokenObject[];
  readonly #byHandle: ReadonlyMap<number, TokenObject>;
  constructor(
    permitted: readonly TokenObject[],
    readonly loginRequired: boolean,
  ) {
    this.#all = permitted;
    this.#public = permitted.filter((o) => !o.isPrivate);
    this.#byHandle = new Map(permitted.map((o) => [o.handle, o]));
  }
  /** Private keys only when logged in (or when no PIN is set). */
  visible(loggedIn: boolean): readonly TokenObject[] {
    return loggedIn || !this.loginRequired ? this.#all : this.#public;
  }
  /** The object with this handle if this peer sees it now. */
  object(handle: number, loggedIn: boolean): TokenObject | undefined {
    const o = this.#byHandle.get(handle);
    return o === undefined || (o.isPrivate && !loggedIn && this.loginRequired) ? undefined : o;
  }
}
