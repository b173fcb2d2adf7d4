/**
 * The `broker:` device: a connection to `pkaccel serve` over a Unix socket. Its
 * capabilities are what the broker's devices offer (sent in the broker's HELLO
 * and CAPS frames); its one queue pair forwards primitive jobs as request frames,
 * one socket write per doorbell. When the broker goes away the device is
 * `gone` (the job queue re-routes its jobs), and it reconnects with backoff,
 * returning to `ready`. Its key store keeps private keys in the broker: the
 * client holds only a handle and the public key (COORDINATION.md section 8).
 */

import { connect, type Socket } from 'node:net';
import {
  type Capability,
  type Device,
  type DeviceEvent,
  DeviceGoneError,
  type DeviceInfo,
  type DeviceState,
  type HeldKeyRef,
  heldPrivateKey,
  InvalidKeyError,
  type KeygenSpec,
  type KeyStore,
  PkaccelError,
  type PrimitiveRequest,
  type PrivateKeyMaterial,
  type PublicKeyMaterial,
  throwIfAborted,
} from '../../core/driver/index.js';
import {
  type BrokerStats,
  decodeCapabilities,
  decodeKey,
  decodeStats,
  emptyFrame,
  encodeFrames,
  encodeKeygen,
  encodeKeyOnce,
  encodeRequest,
  type Frame,
  FrameReader,
  FrameType,
  failureOf,
  fieldText,
  HANDLE_BYTES,
  handleHex,
  helloFrame,
  KeyOp,
  PROTOCOL_ID,
  STATS_GC,
  textField,
} from './protocol.js';
import { BrokerQueuePair } from './queue-pair.js';

export const BROKER_PRIORITY = 50;
const CONNECT_TIMEOUT_MS = 5000;
const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 2000;
/**
 * While jobs are out, a keep-alive (a key-count control request, which the broker answers at
 * once, outside its fair queue) goes when nothing was heard for KEEPALIVE_MS, checked every
 * TICK_MS: `lastHeard` then tells a broker that is busy with other clients from one that
 * stopped answering. Both well below the job queue's stall floor (250 ms by default).
 */
const KEEPALIVE_MS = 100;
const TICK_MS = 50;
/** Tags of key-store requests: the high half of the tag space (the queue pair's wire tags stay below). */
const KEY_TAG_BASE = 0x80000000;

/** The operations that take a private key: through the broker, inline or held by it. */
const PRIVATE_KEY_OPS: ReadonlySet<string> = new Set([
  'rsa-private',
  'rsa-sign',
  'rsa-decrypt',
  'ecdsa-sign',
  'ecdh',
  'eddsa-sign',
  'x25519',
  'ec-mul',
]);

/** The broker's capabilities as this device offers them: private keys inline or held by the broker, no multi-prime RSA. */
function brokerCapabilities(caps: readonly Capability[]): Capability[] {
  return caps.map((cap) => {
    const { multiPrime: _multiPrime, ...rest } = cap;
    return PRIVATE_KEY_OPS.has(cap.op) ? { ...rest, keyStorage: ['inline', 'held'] } : rest;
  });
}

export interface BrokerDeviceOptions {
  readonly depth: number;
  readonly reconnect: boolean;
}

export class BrokerDevice implements Device {
  readonly info: DeviceInfo;
  readonly queuePairs: readonly BrokerQueuePair[];
  readonly keyStore: KeyStore;
  readonly #qp: BrokerQueuePair;
  readonly #path: string;
  readonly #options: BrokerDeviceOptions;
  readonly #listeners = new Set<(event: DeviceEvent) => void>();
  #state: DeviceState = 'gone';
  #capabilities: Capability[] = [];
  #socket: Socket | null = null;
  #connected = false;
  #out: Frame[] = [];
  #flushQueued = false;
  #keyOps = new Map<number, { resolve(frame: Frame): void; reject(error: Error): void }>();
  #nextKeyTag = 0;
  #backoff = BACKOFF_MIN_MS;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #closed = false;
  /** Connections made so far: a session key belongs to the one it was made on. */
  #generation = 0;
  /** Session keys: the connection they were made on, and their handle's bytes. */
  readonly #sessions = new WeakMap<
    HeldKeyRef,
    { readonly generation: number; readonly handle: Uint8Array }
  >();
  /** Named keys opened here: by name, the handle of the current connection (re-opened on reconnect). */
  readonly #named = new Map<string, Uint8Array>();
  readonly #nameOf = new WeakMap<HeldKeyRef, string>();
  /** The broker's process id (from its HELLO), for logs and tests. */
  brokerPid = 0;
  /** performance.now() of the last bytes from the broker. */
  #heard = 0;
  /** The keep-alive ticker (runs while jobs are out), its last tick, and whether a keep-alive is unanswered. */
  #ticker: NodeJS.Timeout | null = null;
  #lastTick = 0;
  #pinging = false;

  constructor(id: string, path: string, options: BrokerDeviceOptions) {
    this.info = { id, driver: 'broker', model: `pkaccel broker at ${path}`, priority: BROKER_PRIORITY };
    this.#path = path;
    this.#options = options;
    const self = this;
    const link = {
      id,
      get connected() {
        return self.#connected;
      },
      send: (wireTag: number, request: PrimitiveRequest) => {
        this.#out.push(encodeRequest(wireTag, request, this.#handleOfKey));
      },
      flush: () => this.#flush(),
    };
    this.#qp = new BrokerQueuePair(link, options.depth);
    this.queuePairs = [this.#qp];
    this.keyStore = {
      importKey: (key, signal) => this.#importKey(key, signal),
      generateKey: (spec, signal) => this.#generateKey(spec, signal),
      openKey: (name, signal) => this.#openKey(name, signal),
      destroyKey: (key, signal) => this.#destroyKey(key, signal),
    };
  }

  get state(): DeviceState {
    return this.#state;
  }

  get capabilities(): readonly Capability[] {
    return this.#capabilities;
  }

  get path(): string {
    return this.#path;
  }

  /**
   * Device.lastHeard: the last bytes from the broker. When this process's own event loop was
   * held up (the keep-alive ticker ran late), the broker's answers may be waiting unread in
   * the socket: silence over that time says nothing about the broker, so it counts from now.
   */
  get lastHeard(): number {
    if (this.#ticker !== null) {
      const now = performance.now();
      if (now - this.#lastTick > 2 * TICK_MS) {
        this.#lastTick = now;
        this.#heard = now;
      }
    }
    return this.#heard;
  }

  subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Connect and exchange HELLO frames. */
  async start(signal?: AbortSignal): Promise<void> {
    await this.#connect(signal);
  }

  async reset(signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    if (this.#closed) throw new DeviceGoneError(`broker ${this.info.id} is closed`);
    if (this.#connected) {
      await this.#qp.abandon();
      return;
    }
    try {
      await this.#connect(signal);
    } catch (error) {
      throw error instanceof PkaccelError
        ? error
        : new DeviceGoneError(`broker ${this.info.id} is not reachable`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#stopTicker();
    const socket = this.#socket;
    this.#socket = null;
    this.#connected = false;
    this.#qp.dropAll();
    this.#failKeyOps(new DeviceGoneError(`broker ${this.info.id} closed`));
    if (socket) await new Promise<void>((resolve) => socket.end(resolve)).catch(() => undefined);
    socket?.destroy();
    this.#setState('closed', 'closed by its owner');
  }

  // ---- connection ----

  #connect(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = connect(this.#path);
      const reader = new FrameReader();
      let helloDone = false;
      const timer = setTimeout(
        () => fail(new DeviceGoneError(`broker ${this.#path}: no HELLO`)),
        CONNECT_TIMEOUT_MS,
      );
      timer.unref();
      const onAbort = () => fail(new DeviceGoneError('connect aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const fail = (error: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        if (!helloDone) reject(error);
      };
      socket.on('error', (error) => {
        if (!helloDone) fail(new DeviceGoneError(`broker ${this.#path}: ${error.message}`, { cause: error }));
      });
      socket.on('connect', () => {
        socket.write(encodeFrames([helloFrame()]));
      });
      socket.on('data', (chunk: Buffer) => {
        this.#heard = performance.now();
        let frames: Frame[];
        try {
          frames = reader.push(chunk);
        } catch (error) {
          socket.destroy(error as Error);
          return;
        }
        for (const frame of frames) {
          if (!helloDone) {
            if (frame.type !== FrameType.hello || fieldText(frame.fields[1]) !== PROTOCOL_ID) {
              const why =
                frame.type === FrameType.error ? fieldText(frame.fields[1]) : 'not a pkaccel broker';
              fail(new DeviceGoneError(`broker ${this.#path}: ${why}`));
              return;
            }
            helloDone = true;
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            this.brokerPid = frame.param;
            this.#capabilities = brokerCapabilities(decodeCapabilities(frame.fields[2]));
            this.#socket = socket;
            this.#connected = true;
            this.#backoff = BACKOFF_MIN_MS;
            this.#generation++;
            socket.unref();
            // Named keys come back (opened again, new handles) before the device takes jobs again.
            void this.#reopenNamed().then(() => {
              if (this.#socket !== socket) return;
              this.#setState('ready', 'connected');
              resolve();
            });
            continue;
          }
          this.#onFrame(frame);
        }
      });
      socket.on('close', () => {
        reader.clear();
        if (helloDone && this.#socket === socket) this.#lost();
      });
    });
  }

  #onFrame(frame: Frame): void {
    if (frame.type === FrameType.completion) {
      if (frame.tag >= KEY_TAG_BASE) {
        const op = this.#keyOps.get(frame.tag);
        if (op) {
          this.#keyOps.delete(frame.tag);
          this.#keyOpsChanged();
          op.resolve(frame);
        }
        return;
      }
      this.#qp.complete(frame);
      this.#idleCheck();
      return;
    }
    if (frame.type === FrameType.caps) {
      this.#capabilities = brokerCapabilities(decodeCapabilities(frame.fields[2]));
      this.#emit({ type: 'capabilities' });
      return;
    }
    if (frame.type === FrameType.error) {
      this.#socket?.destroy(new Error(`broker error: ${fieldText(frame.fields[1])}`));
    }
  }

  #lost(): void {
    this.#stopTicker();
    this.#socket = null;
    this.#connected = false;
    this.#out = [];
    this.#qp.dropAll();
    this.#failKeyOps(new DeviceGoneError(`broker ${this.info.id} connection closed`));
    if (this.#closed) return;
    this.#setState('gone', `broker connection to ${this.#path} closed`);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (!this.#options.reconnect || this.#closed || this.#reconnectTimer) return;
    const delay = this.#backoff;
    this.#backoff = Math.min(BACKOFF_MAX_MS, this.#backoff * 2);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#closed || this.#connected) return;
      this.#connect().catch(() => this.#scheduleReconnect());
    }, delay);
    this.#reconnectTimer.unref();
  }

  #setState(state: DeviceState, reason: string): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit({ type: 'state', state, reason });
  }

  #emit(event: DeviceEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }

  get connected(): boolean {
    return this.#connected;
  }

  // ---- writing: jobs once per doorbell (the queue pair flushes), key requests once per tick ----

  readonly #handleOfKey = (key: PrivateKeyMaterial): Uint8Array | undefined => this.#handleOf(key);

  #queue(frame: Frame): void {
    this.#out.push(frame);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      process.nextTick(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    const frames = this.#out;
    this.#out = [];
    const socket = this.#socket;
    if (frames.length === 0 || socket === null) return;
    if (this.#ticker === null) this.#startTicker();
    const bytes = encodeFrames(frames);
    const secret = frames.some((f) => f.keyKind === 2 || f.keyKind === 4 || f.keyKind === 6);
    // Private keys were copied into `bytes`: zero it once the kernel has it.
    socket.ref();
    socket.write(bytes, secret ? () => bytes.fill(0) : undefined);
  }

  // ---- key store ----

  #handleOf(key: PrivateKeyMaterial): Uint8Array | undefined {
    const held = key.held;
    if (held === undefined) return undefined;
    if (held.device !== this.info.id || held.destroyed === true)
      throw new InvalidKeyError(`key handle is not one of broker ${this.info.id}'s (or was destroyed)`);
    const name = this.#nameOf.get(held);
    if (name !== undefined) {
      const handle = this.#named.get(name);
      if (handle === undefined)
        throw new InvalidKeyError(
          `broker ${this.info.id} did not open key "${name}" again after reconnecting`,
        );
      return handle;
    }
    const session = this.#sessions.get(held);
    if (session === undefined) {
      // A handle that came another way (posted from another thread): taken as it is.
      return Uint8Array.from(Buffer.from(held.handle, 'hex'));
    }
    if (session.generation !== this.#generation)
      throw new InvalidKeyError(
        `broker ${this.info.id} restarted: its session keys are gone (import or generate the key again)`,
      );
    return session.handle;
  }

  /** After a reconnect: open every named key again (the broker's handles are new); one that fails stays unusable. */
  async #reopenNamed(): Promise<void> {
    await Promise.all(
      [...this.#named.keys()].map(async (name) => {
        try {
          const reply = await this.#keyRequest(this.#openFrame(name));
          this.#named.set(name, reply.handle);
        } catch {
          this.#named.delete(name);
        }
      }),
    );
  }

  #keyOpsChanged(): void {
    if (this.#keyOps.size > 0) this.#socket?.ref();
    else this.#idleCheck();
  }

  /** Work in flight keeps the process alive; an idle connection does not (nor its keep-alive ticker). */
  #idleCheck(): void {
    if (this.#qp.inFlight === 0 && this.#keyOps.size === 0) {
      this.#socket?.unref();
      this.#stopTicker();
    }
  }

  #startTicker(): void {
    this.#lastTick = performance.now();
    this.#ticker = setInterval(() => this.#tick(), TICK_MS);
    this.#ticker.unref();
  }

  #stopTicker(): void {
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#ticker = null;
  }

  /** Jobs out and nothing heard for KEEPALIVE_MS: ask the broker something it answers at once. */
  #tick(): void {
    const now = performance.now();
    this.#lastTick = now;
    if (this.#pinging || !this.#connected || now - this.#heard < KEEPALIVE_MS) return;
    const frame = emptyFrame(FrameType.request);
    frame.op = KeyOp.count;
    this.#pinging = true;
    this.#keyRequest(frame).then(
      () => (this.#pinging = false),
      () => (this.#pinging = false),
    );
  }

  #keyRequest(frame: Frame, signal?: AbortSignal): Promise<Frame> {
    throwIfAborted(signal);
    if (!this.#connected)
      return Promise.reject(new DeviceGoneError(`broker ${this.info.id} is not connected`));
    const tag = KEY_TAG_BASE + (this.#nextKeyTag++ % 0x7fffffff);
    frame.tag = tag;
    return new Promise<Frame>((resolve, reject) => {
      this.#keyOps.set(tag, { resolve, reject });
      this.#keyOpsChanged();
      this.#queue(frame);
    }).then((reply) => {
      if (reply.status !== 0) {
        const { code, message } = failureOf(reply);
        throw new PkaccelError(code, `broker: ${message}`, { device: this.info.id });
      }
      return reply;
    });
  }

  #failKeyOps(error: Error): void {
    const ops = [...this.#keyOps.values()];
    this.#keyOps.clear();
    for (const op of ops) op.reject(error);
  }

  /** The held key of a key-store reply: a session key, or (with `name`) a named key opened again after a reconnect. */
  #held(reply: Frame, name?: string): PrivateKeyMaterial {
    if (reply.handle.length !== HANDLE_BYTES) throw new InvalidKeyError('broker sent no handle');
    const pub = decodeKey(reply) as PublicKeyMaterial;
    if (pub.kind !== 'rsa-public' && pub.kind !== 'ec-public' && pub.kind !== 'okp-public')
      throw new InvalidKeyError('broker sent a private key where a public key belongs');
    const key = heldPrivateKey(pub, { device: this.info.id, handle: handleHex(reply.handle) });
    const ref = key.held!;
    if (name === undefined) this.#sessions.set(ref, { generation: this.#generation, handle: reply.handle });
    else {
      this.#nameOf.set(ref, name);
      this.#named.set(name, reply.handle);
    }
    return key;
  }

  #openFrame(name: string): Frame {
    const frame = emptyFrame(FrameType.request);
    frame.op = KeyOp.open;
    frame.fields[1] = textField(name);
    return frame;
  }

  async #importKey(key: PrivateKeyMaterial, signal?: AbortSignal): Promise<PrivateKeyMaterial> {
    const frame = emptyFrame(FrameType.request);
    frame.op = KeyOp.import;
    encodeKeyOnce(frame, key);
    const encoded = frame.fields[0];
    try {
      return this.#held(await this.#keyRequest(frame, signal));
    } finally {
      encoded.fill(0); // the copy of the private key this client sent
    }
  }

  async #generateKey(spec: KeygenSpec, signal?: AbortSignal): Promise<PrivateKeyMaterial> {
    const frame = emptyFrame(FrameType.request);
    frame.op = KeyOp.generate;
    encodeKeygen(frame, spec);
    return this.#held(await this.#keyRequest(frame, signal));
  }

  async #openKey(name: string, signal?: AbortSignal): Promise<PrivateKeyMaterial> {
    // `#handle`: a key shared from another thread (accel.keys.share) — a session key, not a named one.
    return this.#held(
      await this.#keyRequest(this.#openFrame(name), signal),
      name.startsWith('#') ? undefined : name,
    );
  }

  async #destroyKey(key: PrivateKeyMaterial, signal?: AbortSignal): Promise<void> {
    const handle = this.#handleOf(key);
    if (handle === undefined) return;
    const frame = emptyFrame(FrameType.request);
    frame.op = KeyOp.destroy;
    frame.flags = 1;
    frame.handle = handle;
    await this.#keyRequest(frame, signal);
    if (key.held) {
      key.held.destroyed = true;
      const name = this.#nameOf.get(key.held);
      if (name !== undefined) this.#named.delete(name);
    }
  }

  /**
   * The broker's counters: its devices (the broker's job-queue figures), the client
   * connections this uid may see (root and the broker's uid see all), keys, memory.
   */
  async stats(options: { readonly gc?: boolean } = {}, signal?: AbortSignal): Promise<BrokerStats> {
    const frame = emptyFrame(FrameType.request);
    frame.op = KeyOp.stats;
    frame.param = options.gc === true ? STATS_GC : 0;
    return decodeStats((await this.#keyRequest(frame, signal)).fields[1]);
  }

  /** How many keys this client's uid holds in the broker (session + opened), for tests and stats. */
  async keyCount(signal?: AbortSignal): Promise<number> {
    const frame = emptyFrame(FrameType.request);
    frame.op = KeyOp.count;
    return (await this.#keyRequest(frame, signal)).param;
  }
}
