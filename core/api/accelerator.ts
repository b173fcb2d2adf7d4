/**
 * openAccelerator(): open devices from specs and put a WebCrypto-compatible
 * face on them.
 */

import { randomUUID, webcrypto } from 'node:crypto';
import type { Capability } from '../driver/capabilities.js';
import type { Device, DeviceState, PrimitiveExecutor } from '../driver/device.js';
import { InvalidInputError, throwIfAborted } from '../driver/errors.js';
import { defaultRegistry, type Registry } from '../registry/registry.js';
import { SimpleExecutor } from './simple-executor.js';
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
  /** Close every device; later calls through `subtle` fail with OperationError. Idempotent. */
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

/**
 * The device specs `openAccelerator(options)` would open: the requested list (or
 * PKACCEL_DEVICES, or "auto") with "auto" expanded through the registry, in
 * order and without duplicates. Tools that open devices one at a time (the
 * self-test) use it to see the same list.
 */
export async function resolveDeviceSpecs(
  options: Pick<OpenAcceleratorOptions, 'devices' | 'registry' | 'signal'> = {},
): Promise<string[]> {
  const registry = options.registry ?? defaultRegistry;
  const out: string[] = [];
  for (const spec of requestedSpecs(options.devices)) {
    const expanded = spec === 'auto' ? (await registry.autoSpecs(options.signal)).specs : [spec];
    for (const s of expanded) if (!out.includes(s)) out.push(s);
  }
  return out;
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
  const specs = await resolveDeviceSpecs(options);
  if (specs.length === 0) throw new InvalidInputError('no devices to open (the device list is empty)');
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
  // The one place the dispatch path is chosen; core/queue replaces SimpleExecutor here.
  const executor: PrimitiveExecutor = new SimpleExecutor(opened);
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
    close: () => {
      closing ??= Promise.allSettled(opened.map((d) => d.close())).then(() => undefined);
      return closing;
    },
  };
}
