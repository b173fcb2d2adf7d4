/**
 * openAccelerator(): open devices from specs and put a WebCrypto-compatible
 * face on them.
 */

import { randomUUID, webcrypto } from 'node:crypto';
import type { Observable } from 'rxjs';
import type { Capability } from '../driver/capabilities.js';
import type { Device, DeviceState, PrimitiveExecutor } from '../driver/device.js';
import { InvalidInputError, throwIfAborted } from '../driver/errors.js';
import type { PrimitiveRequest, ResultOf } from '../driver/primitives.js';
import {
  JobQueue,
  type ProcessOptions,
  type QueueEvent,
  type QueueOptions,
  type QueueStats,
  type SubmitOptions,
} from '../queue/index.js';
import { defaultRegistry, type Registry } from '../registry/registry.js';
import { AcceleratorSubtle } from './subtle.js';

/** How to open an accelerator. */
export interface OpenAcceleratorOptions {
  /**
   * Device specs ("software", "sim:ring", "pci:0000:03:00.0", or "auto" for what the
   * registered drivers find). Default: the comma-separated PKACCEL_DEVICES
   * environment variable if set, else "auto".
   */
  readonly devices?: readonly string[] | string;
  /** Where drivers and platforms are looked up. Default: the package's defaultRegistry. */
  readonly registry?: Registry;
  readonly signal?: AbortSignal;
  /** The job queue's options: backlog bound and policy, default timeout, retries, polling (core/queue/options.ts). */
  readonly queue?: QueueOptions;
  /**
   * Software fallback (default false): also open the `software` device if it is not
   * in the list, as a fallback that gets work only when no other capable device has
   * room, and that takes over the jobs of failed devices. A `software` device listed
   * next to other devices is always scheduled as a fallback.
   */
  readonly softwareFallback?: boolean;
}

/** The job queue as an application uses it directly (every `subtle` call goes through it too). */
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
}

/** One open device, as an application sees it. `state` and `capabilities` are live. */
export interface AcceleratorDevice {
  readonly id: string;
  readonly driver: string;
  readonly model: string;
  readonly state: DeviceState;
  readonly capabilities: readonly Capability[];
}

/** A drop-in `Crypto` object: WebCrypto's `subtle`, `getRandomValues` and `randomUUID`. */
export interface AcceleratorCrypto {
  readonly subtle: AcceleratorSubtle;
  getRandomValues<T extends ArrayBufferView | null>(array: T): T;
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
}

export interface Accelerator {
  readonly crypto: AcceleratorCrypto;
  readonly subtle: AcceleratorSubtle;
  readonly devices: readonly AcceleratorDevice[];
  /**
   * True when "auto" found no hardware and opened the simulator's cards instead;
   * tools should say so.
   */
  readonly usedSimulatorFallback: boolean;
  readonly queue: AcceleratorQueue;
  /** Queue and device stats, sampled every `queue.statsIntervalMs` while subscribed. */
  readonly stats$: Observable<QueueStats>;
  /** Device added, removed, failed, reset, recovered. */
  readonly events$: Observable<QueueEvent>;
  /**
   * Stop taking work, let accepted jobs finish (each bounded by its deadline), then
   * close every device; later calls through `subtle` fail with OperationError. Idempotent.
   */
  close(): Promise<void>;
}

function requestedSpecs(devices: OpenAcceleratorOptions['devices']): string[] {
  if (devices === undefined) {
    const fromEnv = process.env.PKACCEL_DEVICES;
    devices = fromEnv === undefined || fromEnv.trim() === '' ? 'auto' : fromEnv;
  }
  const list = typeof devices === 'string' ? devices.split(',') : [...devices];
  return list.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** What a device list resolves to, and whether "auto" fell back to the simulator. */
export interface DeviceSelection {
  readonly specs: string[];
  /** True when "auto" found no hardware and used the fallback platform (the simulator). */
  readonly usedFallback: boolean;
}

/**
 * The device specs `openAccelerator(options)` would open: the requested list (or
 * PKACCEL_DEVICES, or "auto") with "auto" expanded through the registry, in
 * order and without duplicates. Tools that open devices one at a time (the
 * self-test) use it to see the same list.
 */
export async function resolveDeviceSelection(
  options: Pick<OpenAcceleratorOptions, 'devices' | 'registry' | 'signal'> = {},
): Promise<DeviceSelection> {
  const registry = options.registry ?? defaultRegistry;
  const specs: string[] = [];
  let usedFallback = false;
  for (const spec of requestedSpecs(options.devices)) {
    let expanded = [spec];
    if (spec === 'auto') {
      const auto = await registry.autoSpecs(options.signal);
      expanded = auto.specs;
      usedFallback ||= auto.usedFallback;
    }
    for (const s of expanded) if (!specs.includes(s)) specs.push(s);
  }
  return { specs, usedFallback };
}

/** The specs of `resolveDeviceSelection`, alone. */
export async function resolveDeviceSpecs(
  options: Pick<OpenAcceleratorOptions, 'devices' | 'registry' | 'signal'> = {},
): Promise<string[]> {
  return (await resolveDeviceSelection(options)).specs;
}

function describe(device: Device): AcceleratorDevice {
  return {
    id: device.info.id,
    driver: device.info.driver,
    model: device.info.model,
    get state() {
      return device.state;
    },
    get capabilities() {
      return device.capabilities;
    },
  };
}

/** Open the devices and return an accelerator over them. Devices opened before a failure are closed again. */
export async function openAccelerator(options: OpenAcceleratorOptions = {}): Promise<Accelerator> {
  const registry = options.registry ?? defaultRegistry;
  const { specs, usedFallback } = await resolveDeviceSelection(options);
  if (specs.length === 0) throw new InvalidInputError('no devices to open (the device list is empty)');
  if (
    options.softwareFallback === true &&
    !specs.includes('software') &&
    registry.virtualDriverFor('software')
  )
    specs.push('software');
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
    queue.addDevice(device, { fallback: device.info.driver === 'software' && opened.length > 1 });
  const executor: PrimitiveExecutor = queue;
  const subtle = new AcceleratorSubtle(executor);
  const crypto: AcceleratorCrypto = {
    subtle,
    getRandomValues: (array) => webcrypto.getRandomValues(array as never) as typeof array,
    randomUUID: () => randomUUID(),
  };
  let closing: Promise<void> | undefined;
  return {
    crypto,
    subtle,
    devices: opened.map(describe),
    usedSimulatorFallback: usedFallback,
    queue: {
      submit: (request, submitOptions) => queue.submit(request, submitOptions),
      process: (requests$, processOptions) => queue.process(requests$, processOptions),
      snapshot: () => queue.snapshot(),
    },
    stats$: queue.stats$,
    events$: queue.events$,
    close: () => {
      closing ??= queue
        .close()
        .then(() => Promise.allSettled(opened.map((d) => d.close())))
        .then(() => undefined);
      return closing;
    },
  };
}
