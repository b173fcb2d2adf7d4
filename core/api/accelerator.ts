/**
 * openAccelerator(): open devices from specs and put a WebCrypto-compatible
 * face on them.
 */

import type { Observable } from 'rxjs';
import type { Capability } from '../driver/capabilities.js';
import type { Device, DeviceState, PrimitiveExecutor } from '../driver/device.js';
import { InvalidInputError, throwIfAborted } from '../driver/errors.js';
import { type KeyStore, keyStoreOf } from '../driver/key-store.js';
import type { PrimitiveRequest, ResultOf } from '../driver/primitives.js';
import {
  type CloseOptions,
  closeDevices,
  JobQueue,
  type ProcessOptions,
  type QueueEvent,
  type QueueOptions,
  type QueueStats,
  type SubmitOptions,
} from '../queue/index.js';
import { defaultRegistry, type Registry } from '../registry/registry.js';
import { type AcceleratorCrypto, createCrypto } from './crypto.js';
import { type SharedKey, sharedKeyName, shareKey } from './device-keys.js';
import type { CryptoKey } from './key-handle.js';
import type { KeyPolicy } from './policy.js';
import { AcceleratorSubtle } from './subtle.js';
import type { AlgorithmIdentifier, CryptoKeyPair, KeyUsages } from './types.js';

/**
 * How to open an accelerator.
 *
 * @category Opening an accelerator
 */
export interface OpenAcceleratorOptions {
  /**
   * Device specs ("software", "sim:ring", "pci:0000:03:00.0", or "auto"), as an
   * array or one comma-separated string. Default: the comma-separated
   * PKACCEL_DEVICES environment variable if set, else "auto".
   *
   * "auto" means the cards the registered drivers find, plus the fallback
   * provider (`software`); never a simulated card (name `sim:ring`, … to use one,
   * or set `simulateWhenNoCard`). An empty entry or an unknown scheme is an
   * InvalidInputError, before anything is opened.
   */
  readonly devices?: readonly string[] | string;
  /** Where drivers and platforms are looked up. Default: the package's defaultRegistry. */
  readonly registry?: Registry;
  /** Aborts opening: devices opened so far are closed again. */
  readonly signal?: AbortSignal;
  /** The job queue's options: backlog bound and policy, default timeout, retries, polling (core/queue/options.ts). */
  readonly queue?: QueueOptions;
  /**
   * Software fallback (default false): also open the fallback provider (the
   * driver whose role is `'fallback'`: `software`) if it is not in the list. A
   * fallback device is scheduled by its measured rate like any device (it gets
   * work when that finishes the job sooner), loses ties to the cards, and takes
   * over the jobs of failed devices.
   */
  readonly softwareFallback?: boolean;
  /**
   * For tools and demos: when "auto" finds no card, also open the simulated cards
   * the simulator offers by default, and set `usedSimulatorFallback` (default
   * false; the `pkaccel` command sets it and says so on stderr).
   */
  readonly simulateWhenNoCard?: boolean;
  /**
   * A deployment's key policy, stricter than WebCrypto's defaults (core/api/policy.ts):
   * e.g. `{ minRsaPrivateBits: 2048, curves: ['P-256', 'P-384', 'Ed25519'] }`.
   */
  readonly policy?: KeyPolicy;
}

/**
 * The job queue as an application uses it directly (every `subtle` call goes through it too).
 *
 * @example
 * ```ts
 * // One raw RSA public operation (m^e mod n) on whichever capable device is free first.
 * const out = await accel.queue.submit({ op: 'rsa-public', key, input }, { timeoutMs: 1_000 });
 * ```
 *
 * @category Queue and stats
 */
export interface AcceleratorQueue {
  /** Run one primitive request (core/driver/primitives.ts) on a capable device. */
  submit<R extends PrimitiveRequest>(request: R, options?: SubmitOptions): Promise<ResultOf<R>>;
  /** Run a stream of requests with at most `concurrency` in flight, results in input order when `ordered`. */
  process<R extends PrimitiveRequest>(
    requests$: Observable<R>,
    options?: ProcessOptions,
  ): Observable<ResultOf<R>>;
  /** Counters now; rates and percentiles since the previous snapshot. */
  snapshot(): QueueStats;
  /**
   * The queue as core/algorithms' executor (`runFirst`: the device's own form of an
   * operation or the one composed over raw primitives), for servers that compose
   * operations themselves (the PKCS#11 token); every job still passes the integrity gate.
   */
  readonly executor: PrimitiveExecutor;
}

/**
 * One open device, as an application sees it. `state` and `capabilities` are
 * live; `console.log` and `JSON.stringify` show a snapshot of both.
 *
 * @category Opening an accelerator
 */
export interface AcceleratorDevice {
  /** Unique within the accelerator: the spec or PCI address it was opened from. */
  readonly id: string;
  /** The name of the driver that opened it. */
  readonly driver: string;
  /** A human-readable model name. */
  readonly model: string;
  /** Its state now (`ready`, `resetting`, `failed`, `gone`, `closed`). */
  readonly state: DeviceState;
  /** What it can do now (may shrink at run time). */
  readonly capabilities: readonly Capability[];
}

export type { AcceleratorCrypto } from './crypto.js';

/**
 * Open devices behind one job queue, with a WebCrypto-compatible face. Made by
 * {@link openAccelerator}.
 *
 * @example
 * ```ts
 * const accel = await openAccelerator({ devices: ['software'] });
 * const keys = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
 * const signature = await accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, data);
 * console.log(accel.devices); // [AcceleratorDevice { id: 'software', driver: 'software', state: 'ready', … }]
 * await accel.close();
 * ```
 *
 * @category Opening an accelerator
 */
export interface Accelerator {
  /** A drop-in `Crypto` object (`subtle`, `getRandomValues`, `randomUUID`) for libraries that take one. */
  readonly crypto: AcceleratorCrypto;
  /** WebCrypto's `SubtleCrypto` over the devices: asymmetric work goes to them, the rest to node. */
  readonly subtle: AcceleratorSubtle;
  /**
   * Keys held by a device (a `broker:` device's broker, a kernel keyring):
   * `open(name, algorithm, usages)` returns a non-extractable key pair whose
   * private part never enters this process (COORDINATION.md section 8).
   */
  readonly keys: {
    /**
     * Open the key named `name` in the first device key store that knows it, as a
     * non-extractable pair for `algorithm` (e.g. `{ name: 'ECDSA', namedCurve: 'P-256' }`)
     * with `usages` split between the halves as generateKey would. Operations with
     * the private key run pinned to that device. Rejects (a DOMException with the
     * InvalidKeyError as `cause`) when no key store knows the name.
     *
     * @example
     * ```ts
     * const accel = await openAccelerator({ devices: ['broker:/run/pkaccel.sock'] });
     * const { privateKey } = await accel.keys.open('tls-server', { name: 'ECDSA', namedCurve: 'P-256' }, ['sign']);
     * ```
     */
    open(name: string, algorithm: AlgorithmIdentifier, usages: KeyUsages): Promise<CryptoKeyPair>;
    /**
     * A device-held private key (a `broker:` key) as a plain object that
     * `postMessage` and `structuredClone` carry — a key itself does not cross
     * threads. It holds the device's handle, not key material.
     *
     * @example
     * ```ts
     * worker.postMessage(accel.keys.share(privateKey));
     * // in the worker, on its own accelerator over the same broker:
     * const key = await accel.keys.adopt(message);
     * ```
     */
    share(key: CryptoKey): SharedKey;
    /**
     * The private key a `share` made, on this accelerator (its device of the same id
     * must hold it: a broker refuses a handle of another uid, and one whose session ended).
     */
    adopt(shared: SharedKey): Promise<CryptoKey>;
  };
  /** The open devices, in the order they were opened. */
  readonly devices: readonly AcceleratorDevice[];
  /**
   * True when "auto" found no card and opened the simulator's cards instead
   * (only with `simulateWhenNoCard`); tools should say so.
   */
  readonly usedSimulatorFallback: boolean;
  /** The job queue itself: primitive requests, streams, stats snapshots. */
  readonly queue: AcceleratorQueue;
  /** Queue and device stats, sampled every `queue.statsIntervalMs` while subscribed. */
  readonly stats$: Observable<QueueStats>;
  /** Device added, removed, failed, reset, recovered. */
  readonly events$: Observable<QueueEvent>;
  /**
   * Stop taking work, let accepted jobs finish (each bounded by its deadline and by stall
   * detection), then close every device; later calls through `subtle` fail with
   * OperationError. Idempotent. `{ drain: false }` rejects the accepted jobs at once with
   * DeviceGoneError instead of waiting; aborting `signal` ends the wait the same way. Each
   * device's close is bounded by DEVICE_CLOSE_BOUND_MS (2 s; devices close in parallel), so
   * with `{ drain: false }` close settles within about 2 s whatever a hung card does.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Where a device list came from.
 *
 * @category Opening an accelerator
 */
export type DeviceSelectionSource = 'devices' | 'PKACCEL_DEVICES' | 'auto';

function requestedSpecs(
  devices: OpenAcceleratorOptions['devices'],
  env: NodeJS.ProcessEnv,
): { source: DeviceSelectionSource; list: string[] } {
  let source: DeviceSelectionSource = 'devices';
  if (devices === undefined) {
    const fromEnv = env.PKACCEL_DEVICES;
    if (fromEnv === undefined || fromEnv.trim() === '') return { source: 'auto', list: ['auto'] };
    source = 'PKACCEL_DEVICES';
    devices = fromEnv;
  }
  const where = source === 'devices' ? 'the device list' : 'PKACCEL_DEVICES';
  const raw = typeof devices === 'string' ? devices.split(',') : [...devices];
  const list = raw.map((s) => s.trim());
  if (list.length === 0 || (list.length === 1 && list[0] === ''))
    throw new InvalidInputError(`${where} is empty: name devices ("software", "sim:ring", "auto", …)`);
  const empty = list.indexOf('');
  if (empty >= 0)
    throw new InvalidInputError(
      `${where} has an empty device spec (entry ${empty + 1} of ${list.length}, in "${raw.join(',')}")`,
    );
  return { source, list };
}

/**
 * What a device list resolves to: the specs to open, in order and without
 * duplicates, with "auto" expanded, and where the list came from. The CLI and
 * `openAccelerator` use this one type.
 *
 * @category Opening an accelerator
 */
export interface DeviceSelection {
  /** Where the list came from: the `devices` option, the PKACCEL_DEVICES variable, or the default ("auto"). */
  readonly source: DeviceSelectionSource;
  /** The specs to open. */
  readonly specs: readonly string[];
  /** How many of the specs "auto" found as cards on hardware platforms. */
  readonly cards: number;
  /**
   * The simulated cards "auto" added because no card was found; only with
   * `simulateWhenNoCard` (a library's "auto" never opens a simulator).
   */
  readonly simulated: readonly string[];
  /** True when `simulated` is not empty: tools should say that the figures are a simulator's. */
  readonly usedSimulatorFallback: boolean;
}

/**
 * Options of {@link resolveDeviceSelection}.
 *
 * @category Opening an accelerator
 */
export interface DeviceSelectionOptions extends Pick<OpenAcceleratorOptions, 'devices' | 'registry'> {
  /** Aborts the discovery of cards. */
  readonly signal?: AbortSignal;
  /** When "auto" finds no card, add the simulated cards (for tools that say so; default false). */
  readonly simulateWhenNoCard?: boolean;
  /** Where PKACCEL_DEVICES is read from (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The device specs `openAccelerator(options)` would open: the requested list (or
 * PKACCEL_DEVICES, or "auto") with "auto" expanded through the registry, in
 * order and without duplicates. Each spec is checked (an empty entry, an unknown
 * scheme: InvalidInputError) before anything is opened. Tools that open devices
 * one at a time (the self-test) use it to see the same list.
 *
 * "auto" means the cards the registered drivers find on the hardware platforms,
 * plus the fallback provider (the driver whose role is `'fallback'`: `software`);
 * never a simulated card, unless `simulateWhenNoCard` is set and no card is found.
 *
 * @example
 * ```ts
 * const { specs } = await resolveDeviceSelection({ devices: 'auto' });
 * // on a machine without a card: ['software']
 * ```
 *
 * @category Opening an accelerator
 */
export async function resolveDeviceSelection(options: DeviceSelectionOptions = {}): Promise<DeviceSelection> {
  const registry = options.registry ?? defaultRegistry;
  const { source, list } = requestedSpecs(options.devices, options.env ?? process.env);
  const specs: string[] = [];
  const simulated: string[] = [];
  let cards = 0;
  for (const spec of list) {
    let expanded = [spec];
    if (spec === 'auto') {
      const auto = await registry.autoSpecs(options.signal, {
        simulateWhenNoCard: options.simulateWhenNoCard === true,
      });
      expanded = auto.specs;
      cards += auto.cards;
      for (const s of auto.simulated) if (!simulated.includes(s)) simulated.push(s);
    } else {
      registry.parseSpec(spec);
    }
    for (const s of expanded) if (!specs.includes(s)) specs.push(s);
  }
  return { source, specs, cards, simulated, usedSimulatorFallback: simulated.length > 0 };
}

/**
 * The specs of `resolveDeviceSelection`, alone.
 *
 * @category Opening an accelerator
 */
export async function resolveDeviceSpecs(options: DeviceSelectionOptions = {}): Promise<string[]> {
  return [...(await resolveDeviceSelection(options)).specs];
}

const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/** A live view of a device: `state` and `capabilities` read the device each time. */
class DeviceView implements AcceleratorDevice {
  readonly id: string;
  readonly driver: string;
  readonly model: string;
  readonly #device: Device;

  constructor(device: Device) {
    this.id = device.info.id;
    this.driver = device.info.driver;
    this.model = device.info.model;
    this.#device = device;
  }

  get state(): DeviceState {
    return this.#device.state;
  }

  get capabilities(): readonly Capability[] {
    return this.#device.capabilities;
  }

  /** A plain snapshot (what JSON.stringify writes). */
  toJSON(): {
    id: string;
    driver: string;
    model: string;
    state: DeviceState;
    capabilities: readonly Capability[];
  } {
    return {
      id: this.id,
      driver: this.driver,
      model: this.model,
      state: this.state,
      capabilities: this.capabilities,
    };
  }

  /** What console.log shows: the snapshot, not getters. */
  [inspectCustom](
    depth: number,
    options: object,
    inspect: (value: unknown, options: object) => string,
  ): string {
    if (depth < 0) return `AcceleratorDevice ${this.id} (${this.state})`;
    return `AcceleratorDevice ${inspect(this.toJSON(), options)}`;
  }
}

/**
 * Open the devices and return an accelerator over them. Devices opened before a failure are closed again.
 * Without `devices`, PKACCEL_DEVICES or else "auto" (the cards found, plus `software`) is opened.
 *
 * @example
 * ```ts
 * import { openAccelerator } from 'pkaccel';
 *
 * const accel = await openAccelerator({ devices: 'auto', softwareFallback: true, queue: { timeoutMs: 5_000 } });
 * try {
 *   const { privateKey, publicKey } = await accel.subtle.generateKey(
 *     { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
 *   const data = new TextEncoder().encode('hello');
 *   const sig = await accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, data);
 *   console.log(await accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, publicKey, sig, data)); // true
 * } finally {
 *   await accel.close();
 * }
 * ```
 *
 * @category Opening an accelerator
 */
export async function openAccelerator(options: OpenAcceleratorOptions = {}): Promise<Accelerator> {
  const registry = options.registry ?? defaultRegistry;
  const selection = await resolveDeviceSelection(options);
  const specs = [...selection.specs];
  if (specs.length === 0)
    throw new InvalidInputError(
      '"auto" found no card and no fallback provider is registered: name devices ("software", "sim:ring", …)',
    );
  const fallback = registry.fallbackDriver();
  if (
    options.softwareFallback === true &&
    fallback &&
    !specs.some((s) => registry.parseSpec(s).scheme === fallback.scheme)
  )
    specs.push(fallback.scheme);
  const opened: Device[] = [];
  try {
    for (const spec of specs) {
      throwIfAborted(options.signal);
      opened.push(await registry.open(spec, options.signal));
    }
  } catch (error) {
    await Promise.allSettled(opened.map((d) => d.close()));
    throw error;
  }
  // Every subtle call goes subtle -> core/algorithms -> executor.runFirst -> the job queue.
  const queue = new JobQueue(options.queue);
  for (const device of opened)
    queue.addDevice(device, {
      fallback: registry.isFallbackDevice(device) && opened.length > 1,
      // The fallback provider computes with node:crypto, the host's own library: the integrity
      // gate does not redo its signatures and verdicts (core/integrity/gate.ts).
      reference: registry.isFallbackDevice(device),
    });
  const executor: PrimitiveExecutor = queue;
  const keyStores = opened.map(keyStoreOf).filter((s): s is KeyStore => s !== undefined);
  const subtle = new AcceleratorSubtle(executor, { policy: options.policy, keyStores });
  const crypto = createCrypto(subtle);
  let closing: Promise<void> | undefined;
  return {
    crypto,
    subtle,
    keys: {
      open: (name, algorithm, usages) => subtle.openDeviceKey(name, algorithm, usages),
      share: shareKey,
      adopt: async (shared) =>
        (await subtle.openDeviceKey(sharedKeyName(shared), shared.algorithm, shared.usages)).privateKey,
    },
    devices: opened.map((d) => new DeviceView(d)),
    usedSimulatorFallback: selection.usedSimulatorFallback,
    queue: {
      submit: (request, submitOptions) => queue.submit(request, submitOptions),
      process: (requests$, processOptions) => queue.process(requests$, processOptions),
      snapshot: () => queue.snapshot(),
      executor,
    },
    stats$: queue.stats$,
    events$: queue.events$,
    close: (closeOptions?: CloseOptions) => {
      closing ??= queue
        .close(closeOptions)
        .then(() => closeDevices(opened))
        .then(() => undefined);
      return closing;
    },
  };
}
