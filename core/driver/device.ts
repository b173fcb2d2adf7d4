/**
 * The driver contracts: a Driver is matched to a device and probes it into a
 * Device; a Device offers capabilities and queue pairs; a QueuePair takes batches
 * of primitive jobs and hands back completions. The shape follows DPDK's cryptodev
 * (queue pairs, enqueue/dequeue bursts) and Linux's crypto API (registration with
 * a priority).
 */

import type { DeviceSpec, PciFunction } from '../platform/pci.js';
import type { Capability } from './capabilities.js';
import type { PkaccelError } from './errors.js';
import type { KeyStore } from './key-store.js';
import type { PrivateKeyMaterial } from './keys.js';
import type { PrimitiveRequest, PrimitiveValue, ResultOf } from './primitives.js';
import type { ProbeOptionSchema } from './probe-options.js';

/**
 * A job as a queue pair takes it: a caller-chosen tag and a primitive request.
 *
 * @category Driver contracts
 */
export interface Job {
  /**
   * Unique among the jobs in flight on this queue pair; any integer in [0, 2^32).
   * The driver maps it to its own descriptor tags and never trusts a tag the device returns.
   */
  readonly tag: number;
  /** What to do: one primitive operation with its operands. */
  readonly request: PrimitiveRequest;
}

/**
 * What a verdict or a partial result was computed from, for the host to check
 * (core/integrity). Drivers attach one when their card returns it.
 * - `ecdsa-verify`: affine x of u1·G + u2·Q (`null`: the point at infinity); the
 *   host checks `x mod n == r` against the verdict.
 * - `rsa-verify`: the opened signature s^e mod n, modulus length, big-endian; the
 *   host compares it with the expected encoding.
 * - `ecdh-point`: y of the shared point whose x is the completion's value; the host
 *   checks the point is on the curve.
 *
 * @category Driver contracts
 */
export type Witness =
  | {
      /** Witness of an `ecdsa-verify` verdict. */
      readonly kind: 'ecdsa-verify';
      /**
       * Affine x of u1·G + u2·Q, in [0, p), big-endian (the ring card's field-length bytes: the gate
       * compares them with r as bytes, no bigint per verify); `null` when that sum is the point at infinity.
       */
      readonly x: Uint8Array | null;
    }
  | {
      /** Witness of an `rsa-verify` verdict. */
      readonly kind: 'rsa-verify';
      /** s^e mod n: the opened signature, modulus-length big-endian. */
      readonly opened: Uint8Array;
    }
  | {
      /** Witness of an `ecdh` (or `ec-mul`) shared point. */
      readonly kind: 'ecdh-point';
      /** Affine y of the shared point whose x is the completion's value, in [0, p). */
      readonly y: bigint;
    };

/**
 * The outcome of one job. Every submitted job completes exactly once, unless the queue pair is reset.
 *
 * @category Driver contracts
 */
export type Completion =
  | {
      /** The tag of the job this completes (as given in {@link Job.tag}). */
      readonly tag: number;
      /** The job succeeded. */
      readonly ok: true;
      /** The result, of the type {@link PrimitiveResults} gives for the job's operation. */
      readonly value: PrimitiveValue;
      /** What the value was computed from, when the card returns it (checked by core/integrity). */
      readonly witness?: Witness;
      /**
       * Set only by a device that is another job queue (the `broker:` driver): that queue
       * ran the job on its reference device (node:crypto) and gated it there. The
       * integrity gate then applies the checks a reference device gets (no host
       * recomputation of signatures and verdicts) to this completion only.
       */
      readonly reference?: boolean;
    }
  | {
      /** The tag of the job this completes (as given in {@link Job.tag}). */
      readonly tag: number;
      /** The job failed. */
      readonly ok: false;
      /** Why: a typed error (a device fault is a DeviceError, a refused request an UnsupportedError, …). */
      readonly error: PkaccelError;
    };

/**
 * One submission/completion queue pair of a device. Single-consumer: one owner
 * (the job queue) submits and harvests.
 *
 * @category Driver contracts
 */
export interface QueuePair {
  /** Index among the device's queue pairs. */
  readonly index: number;
  /** The most jobs that may be in flight at once (the ring depth for ring devices). */
  readonly depth: number;
  /** Jobs submitted and not yet harvested. */
  readonly inFlight: number;
  /**
   * Submit a batch with one doorbell. Accepts a prefix of `jobs` (as many as fit in
   * `depth - inFlight`) and returns how many it took. Requests the device cannot do
   * are accepted and complete with an error. Throws a DeviceGoneError if the device
   * is out of service.
   */
  submit(jobs: readonly Job[]): number;
  /**
   * Hand every completion available now (at most `max`) to `sink`, synchronously,
   * and return how many. Never blocks; never calls `sink` after returning.
   */
  harvest(sink: (completion: Completion) => void, max?: number): number;
  /**
   * Arm the completion interrupt and resolve when `harvest` may find something (or
   * at once if it already would). Drivers without interrupts poll internally.
   * Rejects with AbortedError on abort, DeviceGoneError if the device goes away.
   */
  waitForCompletions(signal?: AbortSignal): Promise<void>;
  /**
   * Interrupt moderation (optional: a card that coalesces interrupts, NAPI-style). From now
   * on raise the completion interrupt after `count` completions, or `us` µs after the first
   * one not yet signalled, whichever is first; `count` ≤ 1 returns to the driver's own
   * setting (one interrupt per completion by default). While moderated, `waitForCompletions`
   * may sleep with fewer than `count` completions waiting: it resolves at the interrupt, when
   * `count` are waiting, or at the driver's poll period (the safety net). The job queue's lane
   * moderates while the card, not the host, is the bound (core/queue/lane.ts).
   */
  moderate?(count: number, us: number): void;
  /**
   * Abandon every job in flight (after a timeout or a hang): the queue pair is
   * reset, those jobs will never complete, and their tags are free again.
   * Returns the abandoned tags.
   */
  abandon(signal?: AbortSignal): Promise<readonly number[]>;
}

/**
 * A device's life: `ready` takes work; `resetting` is being reset (and
 * self-tested); `failed` is out of service; `gone` was removed; `closed` was
 * closed by its owner.
 *
 * @category Driver contracts
 */
export type DeviceState = 'ready' | 'resetting' | 'failed' | 'gone' | 'closed';

/**
 * What a device is, for people and for the scheduler.
 *
 * @category Driver contracts
 */
export interface DeviceInfo {
  /** Unique within an accelerator: the spec or PCI address it was opened from. */
  readonly id: string;
  /** The driver's name. */
  readonly driver: string;
  /** A human-readable model name. */
  readonly model: string;
  /** The PCI address, for PCI devices. */
  readonly address?: string;
  /** Scheduling priority, inherited from the driver (higher is preferred). */
  readonly priority: number;
}

/**
 * What a device tells its listeners: a state change (with why), or a change of its capabilities.
 *
 * @category Driver contracts
 */
export type DeviceEvent =
  | {
      /** The device's state changed. */
      readonly type: 'state';
      /** The new state. */
      readonly state: DeviceState;
      /** Why, when the device knows. */
      readonly reason?: string;
    }
  | {
      /** The device's capability list changed (read `capabilities` again). */
      readonly type: 'capabilities';
    };

/**
 * The key slots of a device that keeps private keys on the card.
 *
 * @category Driver contracts
 */
export interface KeySlots {
  /** How many keys the device can hold at once. */
  readonly capacity: number;
  /** Whether the key is loaded now (for scheduling affinity). */
  holds(key: PrivateKeyMaterial): boolean;
}

/**
 * A device's own estimate of its speed for one kind of job (Device.serviceEstimate).
 *
 * @category Driver contracts
 */
export interface ServiceEstimate {
  /** Jobs of this kind per second with the device busy (all its engines working). */
  readonly opsPerSecond: number;
  /** Milliseconds from doorbell to completion for one job on an idle device (engine time plus transfer). */
  readonly latencyMs: number;
}

/**
 * A probed device.
 *
 * @category Driver contracts
 */
export interface Device {
  /** Who and what it is. */
  readonly info: DeviceInfo;
  /** Its state now. */
  readonly state: DeviceState;
  /**
   * What the device does. May shrink at run time (e.g. a device refuses a
   * parameter it advertised): listeners get a `capabilities` event.
   */
  readonly capabilities: readonly Capability[];
  /** Its queue pairs; the job queue owns them (one submitter and harvester each). */
  readonly queuePairs: readonly QueuePair[];
  /** Its on-card key slots, for devices that keep private keys on the card. */
  readonly keySlots?: KeySlots;
  /**
   * For devices whose keys live outside this process (a broker, a kernel keyring):
   * import, generate, open by name and destroy device-held keys (./key-store.ts,
   * COORDINATION.md section 8).
   */
  readonly keyStore?: KeyStore;
  /**
   * The driver's starting estimate of how fast the device runs jobs like `request` (from
   * its datasheet, its engine count, a rate the spec declares), or undefined when it has
   * none. The job queue's scheduler asks once per operation class, before it has measured
   * the device, so that the first jobs are not placed blind; measured figures replace it.
   */
  serviceEstimate?(request: PrimitiveRequest): ServiceEstimate | undefined;
  /**
   * For a device that is a link to a queue in another process (the broker): performance.now()
   * of the last word from the other end (any frame, keep-alive answers included). Such a device
   * is shared with other clients and may hold this one's jobs far longer than the latency it
   * showed, alive all the while; stall detection counts silence from this time too, so only an
   * end that stops answering is judged stalled. Undefined: completions are the only sign of life.
   */
  readonly lastHeard?: number;
  /** Listen to state and capability changes; returns the unsubscribe function. */
  subscribe(listener: (event: DeviceEvent) => void): () => void;
  /** Reset the device; jobs in flight are abandoned. Key slots are reloaded on demand afterwards. */
  reset(signal?: AbortSignal): Promise<void>;
  /** Release the device and everything it holds; idempotent. */
  close(): Promise<void>;
}

/**
 * Options a caller passed in the device spec's query string (and programmatic ones).
 *
 * @category Driver contracts
 */
export type ProbeOptions = Readonly<Record<string, string>>;

/**
 * What a driver is for, beyond driving its devices; core decides by it, never by
 * a driver's name.
 * - `fallback`: a provider that can do every operation in software (the
 *   `software` driver). `openAccelerator({ softwareFallback: true })` and `auto`
 *   add it; the scheduler gives it work when that lowers a job's expected completion
 *   time (its own measured rate, like any device), it loses ties to the cards, and it
 *   takes over the jobs of failed devices.
 * - `simulated`: its devices are models, not hardware; `auto` never opens them.
 *
 * @category Driver contracts
 */
export type DriverRole = 'fallback' | 'simulated';

/**
 * What every driver declares, whatever it binds to.
 *
 * @category Driver contracts
 */
export interface DriverCommon {
  /** Unique among registered drivers; shown as `DeviceInfo.driver`. */
  readonly name: string;
  /** Higher wins when several drivers match, and the scheduler prefers devices of higher priority. */
  readonly priority: number;
  /** The driver's role, if it has one (see {@link DriverRole}); a hardware driver has none. */
  readonly role?: DriverRole;
  /** One line for `pkaccel help` and device listings. */
  readonly description?: string;
  /**
   * The spec options the driver reads (`?poll=5`), for help texts and error
   * messages; the driver parses them with `parseProbeOptions` and this schema.
   */
  readonly options?: ProbeOptionSchema;
}

/**
 * A PCI vendor/device ID pair a driver claims.
 *
 * @category Driver contracts
 */
export interface PciMatch {
  /** The PCI vendor ID (16 bits). */
  readonly vendorId: number;
  /** The PCI device ID (16 bits). */
  readonly deviceId: number;
}

/**
 * A driver for PCI functions, matched by IDs and probed on a PciFunction from any
 * platform (the native one for real cards, the simulator for its models): the
 * driver cannot tell them apart.
 *
 * @example
 * ```ts
 * const OPTIONS = { poll: { kind: 'int', min: 1, max: 1000, default: 20 } } as const;
 * export const myDriver: PciDriver = {
 *   kind: 'pci',
 *   name: 'my-card',
 *   priority: 100, // above the software provider's 0
 *   matches: [{ vendorId: 0x1234, deviceId: 0x5678 }],
 *   options: OPTIONS,
 *   async probe(fn, options, signal) {
 *     const { poll } = parseProbeOptions(options, OPTIONS, 'my-card driver');
 *     const device = new MyDevice(fn, poll); // implements Device
 *     await device.start(signal);
 *     return device;
 *   },
 * };
 * registerDriver(myDriver);
 * ```
 *
 * @category Driver contracts
 */
export interface PciDriver extends DriverCommon {
  /** Discriminant: a PCI driver. */
  readonly kind: 'pci';
  /** The vendor/device ID pairs it drives. */
  readonly matches: readonly PciMatch[];
  /** Bring up the device, or throw (UnsupportedError if it is not one this driver can drive). */
  probe(fn: PciFunction, options: ProbeOptions, signal?: AbortSignal): Promise<Device>;
}

/**
 * A driver for something that is not a PCI function (the software provider), named by a spec scheme.
 *
 * @category Driver contracts
 */
export interface VirtualDriver extends DriverCommon {
  /** Discriminant: a virtual driver. */
  readonly kind: 'virtual';
  /** The spec scheme it opens, e.g. "software". */
  readonly scheme: string;
  /** Open a device for a spec of its scheme (read `spec.options` with `parseProbeOptions`), or throw. */
  open(spec: DeviceSpec, signal?: AbortSignal): Promise<Device>;
}

/**
 * A driver, as `registerDriver` takes it.
 *
 * @category Driver contracts
 */
export type Driver = PciDriver | VirtualDriver;

/**
 * One way of doing an operation. A plain request, or a lazy one whose `build`
 * runs only if a device is chosen for it (for preparation that costs, such as an
 * ECDSA nonce); `probe` carries the same parameters (curve, sizes, padding) and
 * is used only to check capabilities.
 *
 * @category Driver contracts
 */
export type Alternative =
  | PrimitiveRequest
  | {
      /** The request's parameters, for capability checks only. */
      readonly probe: PrimitiveRequest;
      /** Make the request, once a device was chosen for it. */
      build(): PrimitiveRequest;
    };

/**
 * What `runFirst` settled with: which alternative ran, where, and its value.
 *
 * @category Driver contracts
 */
export interface AlternativeResult {
  /** Which alternative ran (its index in the list). */
  readonly index: number;
  /** Its result. */
  readonly value: PrimitiveValue;
  /** The `DeviceInfo.id` of the device that ran it. */
  readonly device: string;
}

/**
 * The caller's last step of a `runFirstThen` job, applied by the executor where the job
 * settles: the promise it returns is then the only one the operation makes (no reaction,
 * promise or microtask turn of the caller's own per job).
 *
 * `value` runs inside the executor's completion processing (for the job queue: inside a
 * queue pair's harvest), so it must not submit work or run a caller's code synchronously;
 * for more work it returns a promise (started in a later microtask), which the job's promise
 * adopts as it is — that promise's own rejection is not passed through `error`.
 *
 * @category Driver contracts
 */
export interface Finish<T> {
  /**
   * What the job's promise resolves with, from the alternative that ran (its index), its value
   * and the device's id. What it throws rejects the promise, through `error`.
   */
  value(index: number, value: PrimitiveValue, device: string): T | PromiseLike<T>;
  /** What the promise rejects with, given the job's error (or what `value` threw). Must not throw. */
  error(error: unknown): unknown;
}

/**
 * What the algorithms layer needs from below: run a primitive somewhere. The job
 * queue implements it over every device in service; tests may implement it over one.
 *
 * @category Driver contracts
 */
export interface PrimitiveExecutor {
  /** Whether any device in service can do this request. */
  supports(request: PrimitiveRequest): boolean;
  /** Run one request on a capable device. */
  run<R extends PrimitiveRequest>(
    request: R,
    options?: { readonly signal?: AbortSignal },
  ): Promise<ResultOf<R>>;
  /**
   * Run one of several ways of doing the same operation, most preferred first: the
   * scheduler picks a device among those that can do any of them (by priority and
   * load), then runs the first alternative that device can do. This is how a card
   * that only does raw RSA still gets PKCS#1 signing work while a device that pads
   * is also present. Rejects with UnsupportedError if no device can do any.
   */
  runFirst(
    alternatives: readonly Alternative[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<AlternativeResult>;
  /**
   * `runFirst` with the caller's last step (`finish`) applied where the job settles: its
   * promise resolves with `finish.value(index, value, device)` and rejects with
   * `finish.error(error)`. Optional: core/algorithms' `runFirstThen` falls back to
   * `runFirst(…).then(…)`, with the same results, on an executor without it.
   */
  runFirstThen?<T>(
    alternatives: readonly Alternative[],
    options: { readonly signal?: AbortSignal } | undefined,
    finish: Finish<T>,
  ): Promise<T>;
}
