/**
 * Driver and platform registration, and opening devices from specs. Built-in
 * drivers and platforms are registered by the package entry (the composition
 * root); a third-party driver module calls `registerDriver` itself and is then
 * matched and probed exactly like a built-in one.
 *
 * Core knows no device by name: the fallback provider is the driver whose
 * `role` is `'fallback'`, and the simulated cards are what a platform marked
 * `isFallback` (the simulator) offers in `defaultSpecs()`.
 *
 * @module
 */

import type { Device, Driver, DriverRole, PciDriver, VirtualDriver } from '../driver/device.js';
import { InvalidInputError, UnsupportedError } from '../driver/errors.js';
import { type ProbeOptionSchema, trackProbeOptions } from '../driver/probe-options.js';
import { hex4 } from '../encoding/bytes.js';
import type { DeviceSpec, PciFunction, PciFunctionInfo, PciIdentity, Platform } from '../platform/pci.js';
import { parseDeviceSpec } from '../platform/pci.js';

/**
 * What `auto` stands for, from {@link Registry.autoSpecs}.
 *
 * @category Registration
 */
export interface AutoSpecs {
  /** The specs, in order: the cards found, any simulated cards added, then the fallback provider. */
  readonly specs: string[];
  /** How many of them are cards found on hardware platforms. */
  readonly cards: number;
  /** The simulated cards added because no card was found (only when asked for). */
  readonly simulated: string[];
}

/**
 * One registered driver, as `pkaccel help` and `pkaccel devices` list it.
 *
 * @category Registration
 */
export interface DriverListing {
  /** The driver's name. */
  readonly name: string;
  /** A PCI driver (matched by IDs) or a virtual one (opened by a spec scheme). */
  readonly kind: 'pci' | 'virtual';
  /** Its priority (higher is preferred). */
  readonly priority: number;
  /** Its role, if it has one. */
  readonly role?: DriverRole;
  /** Its one-line description, if it has one. */
  readonly description?: string;
  /** The spec scheme of a virtual driver. */
  readonly scheme?: string;
  /** `vvvv:dddd` for each PCI ID pair a PCI driver claims. */
  readonly ids?: readonly string[];
  /** The spec options it reads, if it declares them. */
  readonly options?: ProbeOptionSchema;
}

/**
 * One card a simulated platform can make.
 *
 * @category Registration
 */
export interface SimulatedListing {
  /** The spec that opens it, e.g. `sim:ring`. */
  readonly spec: string;
  /** The registered driver that claims it, if any. */
  readonly driver?: string;
  /** Whether tools open it when no card is found. */
  readonly offeredByDefault: boolean;
}

/**
 * What a registry holds, for help texts and listings.
 *
 * @category Registration
 */
export interface RegistryListing {
  /** The registered drivers, in registration order. */
  readonly drivers: readonly DriverListing[];
  /** The registered platforms. */
  readonly platforms: readonly PlatformListing[];
  /** The cards the simulated platforms can make. */
  readonly simulated: readonly SimulatedListing[];
}

/**
 * One registered platform.
 *
 * @category Registration
 */
export interface PlatformListing {
  /** The platform's name ("native", "simulator"). */
  readonly name: string;
  /** The spec schemes it opens. */
  readonly schemes: readonly string[];
  /** Whether its devices are models (the simulator), not hardware. */
  readonly simulated: boolean;
}

/**
 * A PCI function found by {@link Registry.discover}, with the platform that sees it and the driver that claims it.
 *
 * @category Registration
 */
export interface DiscoveredFunction {
  /** The function's identity and address. */
  readonly info: PciFunctionInfo;
  /** The platform that sees it. */
  readonly platform: Platform;
  /** The highest-priority driver that claims it. */
  readonly driver: PciDriver;
}

/**
 * A set of drivers and platforms. `defaultRegistry` is the one the package entry
 * fills; tests and tools may make their own and pass it as
 * `openAccelerator({ registry })`.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * registry.registerDriver(myDriver);
 * registry.registerPlatform(myPlatform);
 * const accel = await openAccelerator({ registry, devices: 'auto' });
 * ```
 *
 * @category Registration
 */
export class Registry {
  readonly #drivers: Driver[] = [];
  readonly #platforms: Platform[] = [];

  /** Register a driver. Registering the same name again replaces the earlier one. Returns an unregister function. */
  registerDriver(driver: Driver): () => void {
    this.unregisterDriver(driver.name);
    this.#drivers.push(driver);
    return () => {
      const i = this.#drivers.indexOf(driver);
      if (i >= 0) this.#drivers.splice(i, 1);
    };
  }

  /** Remove the driver of this name, if registered. */
  unregisterDriver(name: string): void {
    const i = this.#drivers.findIndex((d) => d.name === name);
    if (i >= 0) this.#drivers.splice(i, 1);
  }

  /** Register a platform (native, simulator). Returns an unregister function. */
  registerPlatform(platform: Platform): () => void {
    const i = this.#platforms.findIndex((p) => p.name === platform.name);
    if (i >= 0) this.#platforms.splice(i, 1);
    this.#platforms.push(platform);
    return () => {
      const j = this.#platforms.indexOf(platform);
      if (j >= 0) this.#platforms.splice(j, 1);
    };
  }

  /** The registered drivers (a copy). */
  get drivers(): readonly Driver[] {
    return [...this.#drivers];
  }

  /** The registered platforms (a copy). */
  get platforms(): readonly Platform[] {
    return [...this.#platforms];
  }

  /** The highest-priority PCI driver claiming these IDs, if any. */
  driverFor(identity: PciIdentity): PciDriver | undefined {
    let best: PciDriver | undefined;
    for (const d of this.#drivers) {
      if (d.kind !== 'pci') continue;
      if (!d.matches.some((m) => m.vendorId === identity.vendorId && m.deviceId === identity.deviceId))
        continue;
      if (best === undefined || d.priority > best.priority) best = d;
    }
    return best;
  }

  /** The registered driver of this name, if any. */
  driverNamed(name: string): Driver | undefined {
    return this.#drivers.find((d) => d.name === name);
  }

  /**
   * The fallback provider: the virtual driver whose role is `'fallback'` (the
   * highest priority if several), if one is registered.
   */
  fallbackDriver(): VirtualDriver | undefined {
    let best: VirtualDriver | undefined;
    for (const d of this.#drivers) {
      if (d.kind === 'virtual' && d.role === 'fallback' && (best === undefined || d.priority > best.priority))
        best = d;
    }
    return best;
  }

  /** Whether a device was opened by a driver whose role is `'fallback'`. */
  isFallbackDevice(device: Device): boolean {
    return this.driverNamed(device.info.driver)?.role === 'fallback';
  }

  /** The virtual driver for a scheme (highest priority), if any. */
  virtualDriverFor(scheme: string): VirtualDriver | undefined {
    let best: VirtualDriver | undefined;
    for (const d of this.#drivers) {
      if (d.kind === 'virtual' && d.scheme === scheme && (best === undefined || d.priority > best.priority))
        best = d;
    }
    return best;
  }

  /** Every PCI function the hardware platforms can see that some registered driver claims. Read-only. */
  async discover(signal?: AbortSignal): Promise<DiscoveredFunction[]> {
    const found: DiscoveredFunction[] = [];
    for (const platform of this.#platforms) {
      if (platform.isFallback) continue; // the simulator's cards are not hardware
      for (const info of await platform.enumerate(signal)) {
        const driver = this.driverFor(info);
        if (driver) found.push({ info, platform, driver });
      }
    }
    return found;
  }

  /**
   * Open one device from a spec: a virtual driver's scheme ("software"), or a
   * platform's scheme ("sim:ring", "pci:0000:03:00.0") whose function is then
   * probed by the matching PCI driver.
   */
  async open(specText: string | DeviceSpec, signal?: AbortSignal): Promise<Device> {
    const parsed = typeof specText === 'string' ? this.parseSpec(specText) : specText;
    // The options go to the platform (a simulated card's engines, faults, …) and to the
    // driver (poll, irq, …): each reads its own names, and a name neither knew is refused.
    const tracked = trackProbeOptions(parsed.options);
    const spec: DeviceSpec = { ...parsed, options: tracked.options };
    const device = await this.#openParsed(spec, signal);
    try {
      tracked.check(`device spec "${spec.text}"`);
    } catch (error) {
      await device.close();
      throw error;
    }
    return device;
  }

  /**
   * Parse a device spec and check that some driver or platform handles its
   * scheme, without opening anything. Throws InvalidInputError for an empty spec
   * or an unknown scheme, listing the registered ones.
   */
  parseSpec(text: string): DeviceSpec {
    if (text.trim().length === 0)
      throw new InvalidInputError(
        `empty device spec; registered schemes: ${this.schemes().join(', ') || 'none'}`,
      );
    const spec = parseDeviceSpec(text);
    if (
      !this.virtualDriverFor(spec.scheme) &&
      !this.#platforms.some((p) => p.schemes.includes(spec.scheme))
    ) {
      throw new InvalidInputError(
        `no driver or platform handles device spec "${spec.text}" (scheme "${spec.scheme}"); registered schemes: ${this.schemes().join(', ') || 'none'}`,
      );
    }
    return spec;
  }

  async #openParsed(spec: DeviceSpec, signal?: AbortSignal): Promise<Device> {
    const virtual = this.virtualDriverFor(spec.scheme);
    if (virtual) return virtual.open(spec, signal);
    const platform = this.#platforms.find((p) => p.schemes.includes(spec.scheme));
    if (!platform) {
      throw new InvalidInputError(
        `no driver or platform handles device spec "${spec.text}" (scheme "${spec.scheme}"); registered schemes: ${this.schemes().join(', ') || 'none'}`,
      );
    }
    const fn: PciFunction = await platform.open(spec, signal);
    const driver = this.driverFor(fn.info);
    if (!driver) {
      await fn.close();
      throw new UnsupportedError(
        `no registered driver matches ${fn.info.address} (${hex4(fn.info.vendorId)}:${hex4(fn.info.deviceId)})`,
      );
    }
    try {
      return await driver.probe(fn, spec.options, signal);
    } catch (error) {
      await fn.close();
      throw error;
    }
  }

  /**
   * The specs `auto` stands for: every claimed PCI function on the hardware
   * platforms, then the fallback provider's scheme (if a driver with role
   * `'fallback'` is registered). Never a simulated card, unless
   * `simulateWhenNoCard` is set (tools such as the CLI set it) and no card was
   * found: then the simulated platforms' default cards come before the fallback.
   */
  async autoSpecs(
    signal?: AbortSignal,
    options: { readonly simulateWhenNoCard?: boolean } = {},
  ): Promise<AutoSpecs> {
    const specs: string[] = [];
    for (const { info, platform } of await this.discover(signal))
      specs.push(`${platform.schemes[0]}:${info.address}`);
    const cards = specs.length;
    const simulated = cards === 0 && options.simulateWhenNoCard === true ? await this.simulatedSpecs() : [];
    specs.push(...simulated);
    const fallback = this.fallbackDriver();
    if (fallback) specs.push(fallback.scheme);
    return { specs, cards, simulated };
  }

  /** The simulated cards offered by default (`sim:ring`, …): what tools open when no card is found. */
  async simulatedSpecs(): Promise<string[]> {
    const specs: string[] = [];
    for (const p of this.#platforms)
      if (p.isFallback && p.defaultSpecs) specs.push(...(await p.defaultSpecs()));
    return specs;
  }

  /** What the registry holds: drivers (with roles and options), platforms, and the cards the simulator can make. */
  async list(signal?: AbortSignal): Promise<RegistryListing> {
    const drivers: DriverListing[] = this.#drivers.map((d) => ({
      name: d.name,
      kind: d.kind,
      priority: d.priority,
      ...(d.role === undefined ? {} : { role: d.role }),
      ...(d.description === undefined ? {} : { description: d.description }),
      ...(d.kind === 'virtual'
        ? { scheme: d.scheme }
        : { ids: d.matches.map((m) => `${hex4(m.vendorId)}:${hex4(m.deviceId)}`) }),
      ...(d.options === undefined ? {} : { options: d.options }),
    }));
    const simulated: SimulatedListing[] = [];
    for (const p of this.#platforms) {
      if (!p.isFallback) continue;
      const offered = new Set((await p.defaultSpecs?.()) ?? []);
      let infos: Awaited<ReturnType<typeof p.enumerate>> = [];
      try {
        infos = await p.enumerate(signal);
      } catch {
        // a platform that cannot list its cards lists none
      }
      for (const info of infos) {
        const spec = info.address.includes(':') ? info.address : `${p.schemes[0]}:${info.address}`;
        const driver = this.driverFor(info)?.name;
        simulated.push({
          spec,
          ...(driver === undefined ? {} : { driver }),
          offeredByDefault: offered.has(spec),
        });
      }
    }
    return {
      drivers,
      platforms: this.#platforms.map((p) => ({
        name: p.name,
        schemes: [...p.schemes],
        simulated: p.isFallback === true,
      })),
      simulated,
    };
  }

  /** Every spec scheme a registered driver or platform opens. */
  schemes(): string[] {
    const s = new Set<string>();
    for (const d of this.#drivers) if (d.kind === 'virtual') s.add(d.scheme);
    for (const p of this.#platforms) for (const x of p.schemes) s.add(x);
    return [...s];
  }
}

/**
 * The registry the package entry registers built-ins into, and `registerDriver` adds to.
 *
 * @category Registration
 */
export const defaultRegistry = new Registry();

/**
 * Register a driver with the default registry (the public API for third-party drivers).
 * Returns a function that unregisters it. Devices of its scheme (virtual driver) or
 * with its PCI IDs (PCI driver) are then opened by `openAccelerator`.
 *
 * @example
 * ```ts
 * import { registerDriver, parseProbeOptions, type VirtualDriver } from 'pkaccel';
 *
 * const OPTIONS = { slots: { kind: 'int', min: 1, max: 64, default: 8 } } as const;
 * const myDriver: VirtualDriver = {
 *   kind: 'virtual',
 *   name: 'my-hsm',
 *   scheme: 'my-hsm',
 *   priority: 50,
 *   options: OPTIONS,
 *   async open(spec) {
 *     const { slots } = parseProbeOptions(spec.options, OPTIONS, 'my-hsm');
 *     return MyHsmDevice.open(spec, slots); // a Device: info, capabilities, queuePairs, …
 *   },
 * };
 * const unregister = registerDriver(myDriver);
 * const accel = await openAccelerator({ devices: ['my-hsm?slots=16'] });
 * ```
 *
 * @category Registration
 */
export function registerDriver(driver: Driver): () => void {
  return defaultRegistry.registerDriver(driver);
}

/**
 * Register a platform with the default registry.
 *
 * @category Registration
 */
export function registerPlatform(platform: Platform): () => void {
  return defaultRegistry.registerPlatform(platform);
}
