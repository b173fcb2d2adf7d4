/**
 * Akcipher sessions: one per (key, key type, padding, hash), created on the
 * control queue the first time a job needs it, cached on the key material's
 * identity, and destroyed when the key is released (garbage-collected), when
 * the cache is full (least recently used, idle ones), and on close.
 */

import {
  DeviceError,
  type RsaPrivateKeyMaterial,
  type RsaPublicKeyMaterial,
  UnsupportedError,
} from '../../core/driver/index.js';
import type { ControlChannel } from './control.js';
import { CONTROL_OUT_BYTES } from './control.js';
import { encodeRsaPrivateKey, encodeRsaPublicKey } from './der.js';
import {
  encodeCreateSession,
  encodeDestroySession,
  type SessionParams,
  sessionParamsKey,
} from './messages.js';
import { CREATE_SESSION_INPUT_SIZE, CryptoStatus, KeyType, REQUEST_HEADER_SIZE } from './registers.js';

/** QEMU's builtin backend holds 256; stay well below so other users of the device keep room. */
export const MAX_SESSIONS = 64;

export type SessionKey = RsaPrivateKeyMaterial | RsaPublicKeyMaterial;

export class Session {
  id: bigint | undefined;
  users = 0;
  lastUsed = 0;
  constructor(
    readonly params: SessionParams,
    readonly ready: Promise<bigint>,
    readonly owner: Map<string, Session>,
    /** The cache epoch it was created in: after a device reset its id means nothing. */
    readonly epoch: number,
  ) {}
}

/** Why a session create failed, for the caller to map (unsupported combination or bad key). */
export class SessionRefused extends Error {
  constructor(readonly status: number) {
    super(`virtio-crypto: session create refused with status ${status}`);
  }
}

export class SessionCache {
  #byKey = new WeakMap<object, Map<string, Session>>();
  #all = new Set<Session>();
  #clock = 0;
  #epoch = 0;
  readonly #finalizer = new FinalizationRegistry<Map<string, Session>>((sessions) => {
    for (const s of sessions.values()) void this.#destroy(s);
  });

  constructor(private readonly control: ControlChannel) {}

  get size(): number {
    return this.#all.size;
  }

  /** The session for this key and parameters, created if needed; the caller must `release` it. */
  acquire(key: SessionKey, params: SessionParams): Session {
    let sessions = this.#byKey.get(key);
    if (sessions === undefined) {
      sessions = new Map();
      this.#byKey.set(key, sessions);
      this.#finalizer.register(key, sessions);
    }
    const paramsKey = sessionParamsKey(params);
    let session = sessions.get(paramsKey);
    if (session === undefined) {
      this.#evictIdle();
      const owner = sessions;
      const ready = this.#create(key, params);
      const created = new Session(params, ready, owner, this.#epoch);
      session = created;
      sessions.set(paramsKey, created);
      this.#all.add(created);
      ready.then(
        (id) => {
          created.id = id;
        },
        () => {
          // A refused session is not cached: the next job asks again (and the capability book decides).
          if (owner.get(paramsKey) === created) owner.delete(paramsKey);
          this.#all.delete(created);
        },
      );
    }
    session.users++;
    session.lastUsed = ++this.#clock;
    return session;
  }

  release(session: Session): void {
    session.users = Math.max(0, session.users - 1);
  }

  /** The device said the session is invalid: forget it (a later job creates a new one). */
  forget(session: Session): void {
    for (const [k, s] of session.owner) if (s === session) session.owner.delete(k);
    this.#all.delete(session);
  }

  /** After a device reset: the device has no sessions any more. */
  clear(): void {
    this.#epoch++;
    this.#byKey = new WeakMap();
    this.#all.clear();
  }

  /** Destroy every session on the device (close). */
  async destroyAll(): Promise<void> {
    const all = [...this.#all];
    this.#byKey = new WeakMap();
    this.#all.clear();
    await Promise.allSettled(all.map((s) => this.#destroy(s)));
    this.#epoch++;
  }

  #evictIdle(): void {
    if (this.#all.size < MAX_SESSIONS) return;
    const idle = [...this.#all]
      .filter((s) => s.users === 0 && s.id !== undefined)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const s of idle.slice(0, this.#all.size - MAX_SESSIONS + 1)) {
      this.forget(s);
      void this.#destroy(s);
    }
  }

  async #create(key: SessionKey, params: SessionParams): Promise<bigint> {
    const der =
      params.keyType === KeyType.private
        ? encodeRsaPrivateKey(key as RsaPrivateKeyMaterial)
        : encodeRsaPublicKey(key as RsaPublicKeyMaterial);
    try {
      if (REQUEST_HEADER_SIZE + der.length > CONTROL_OUT_BYTES)
        throw new UnsupportedError(
          `virtio-crypto: a ${key.kind} key of ${der.length} DER bytes is too large`,
        );
      const answer = await this.control.request((out) => {
        encodeCreateSession(out, params, der.length);
        out.set(der, REQUEST_HEADER_SIZE);
        return REQUEST_HEADER_SIZE + der.length;
      }, CREATE_SESSION_INPUT_SIZE);
      const view = new DataView(answer.input.buffer, answer.input.byteOffset, answer.input.length);
      if (answer.usedLength < 12 && answer.usedLength !== 0)
        throw new DeviceError(`virtio-crypto: session create answer of ${answer.usedLength} bytes`);
      const status = view.getUint32(8, true);
      if (status !== CryptoStatus.ok) throw new SessionRefused(status);
      return view.getBigUint64(0, true);
    } finally {
      der.fill(0);
    }
  }

  async #destroy(session: Session): Promise<void> {
    const id = session.id ?? (await session.ready.catch(() => undefined));
    // Session ids are reused after a reset (QEMU's is an array index): never destroy a stale one.
    if (id === undefined || session.epoch !== this.#epoch) return;
    try {
      await this.control.request((out) => {
        encodeDestroySession(out, id);
        return REQUEST_HEADER_SIZE;
      }, 1);
    } catch {
      // Best effort: a device that cannot destroy a session is reset or closed soon anyway.
    }
  }
}
