/**
 * Driver and platform registration, and opening devices from specs. Built-in
 * drivers and platforms are registered by the package entry (the composition
 * root); a third-party driver module calls `registerDriver` itself and is then
 * matched and probed exactly like a built-in one.
 */

import type { Device, Driver, PciDriver, VirtualDriver } from '../driver/device.js';
import { InvalidInputError, UnsupportedError } from '../driver/errors.js';
import type { DeviceSpec, PciFunction, PciFunctionInfo, PciIdentity, Platform } from '../platform/pci.js';
import { parseDeviceSpec } from '../platform/pci.js';

/** A set of drivers and platforms. `defaultRegistry` is the one the package entry fills. */
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

  get drivers(): readonly Driver[] {
    return [...this.#drivers];
  }

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

  /** The virtual driver for a scheme (highest priority), if any. */
  virtualDriverFor(scheme: string): VirtualDriver | undefined {
    let best: VirtualDriver | undefined;
    for (const d of this.#drivers) {
      if (d.kind === 'virtual' && d.scheme === scheme && (best === undefined || d.priority > best.priority))
        best = d;
    }
    return best;
  }

  /** Every PCI function the platforms can see that some registered driver claims. Read-only. */
  async discover(
    signal?: AbortSignal,
  ): Promise<{ info: PciFunctionInfo; platform: Platform; driver: PciDriver }[]> {
    const found: { info: PciFunctionInfo; platform: Platform; driver: PciDriver }[] = [];
    for (const platform of this.#platforms) {
      if (platform.isFallback) continue;
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
    const spec = typeof specText === 'string' ? parseDeviceSpec(specText) : specText;
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
   * The specs `auto` stands for: every claimed PCI function on the non-fallback
   * platforms; if there is none, the fallback platforms' default specs; and
   * always the software provider if it is registered.
   */
  async autoSpecs(signal?: AbortSignal): Promise<{ specs: string[]; usedFallback: boolean }> {
    const specs: string[] = [];
    for (const { info, platform } of await this.discover(signal))
      specs.push(`${platform.schemes[0]}:${info.address}`);
    let usedFallback = false;
    if (specs.length === 0) {
      for (const p of this.#platforms) {
        if (p.isFallback && p.defaultSpecs) {
          specs.push(...p.defaultSpecs());
          usedFallback = true;
        }
      }
    }
    if (this.virtualDriverFor('software')) specs.push('software');
    return { specs, usedFallback };
  }

  schemes(): string[] {
    const s = new Set<string>();
    for (const d of this.#drivers) if (d.kind === 'virtual') s.add(d.scheme);
    for (const p of this.#platforms) for (const x of p.schemes) s.add(x);
    return [...s];
  }
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** The registry the package entry registers built-ins into, and `registerDriver` adds to. */
export const defaultRegistry = new Registry();

/** Register a driver with the default registry (the public API for third-party drivers). */
export function registerDriver(driver: Driver): () => void {
  return defaultRegistry.registerDriver(driver);
}

/** Register a platform with the default registry. */
export function registerPlatform(platform: Platform): () => void {
  return defaultRegistry.registerPlatform(platform);
}
