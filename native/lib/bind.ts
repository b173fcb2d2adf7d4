/**
 * Binding a function to uio_pci_generic or vfio-pci through `driver_override`, and
 * back. For the CLI and for QEMU guests only: on a development machine the PCI
 * functions are its disk and network. To make that mistake hard, writing under the
 * real /sys needs `{ allowRealSysfs: true }`; tests pass a temporary sysfs tree.
 */
import { existsSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { devicesDir, normalizeAddress } from './sysfs.js';

export interface BindOptions {
  readonly sysfsRoot?: string;
  /** Required to write under the real /sys: you are rebinding a device of this machine. */
  readonly allowRealSysfs?: boolean;
}

function paths(address: string, options: BindOptions) {
  const root = options.sysfsRoot ?? '/sys';
  if (resolve(root) === '/sys' && options.allowRealSysfs !== true)
    throw new Error(
      `refusing to rebind ${address} under the real /sys without allowRealSysfs: true ` +
        '(only inside a QEMU guest or on a machine whose device you mean to hand over)',
    );
  const bdf = normalizeAddress(address);
  const dev = join(devicesDir(root), bdf);
  if (!existsSync(dev)) throw new Error(`no PCI function ${bdf} under ${root}`);
  return { root, bdf, dev };
}

/** The kernel driver bound now, if any. */
export function currentDriver(address: string, sysfsRoot = '/sys'): string | undefined {
  try {
    return basename(readlinkSync(join(devicesDir(sysfsRoot), normalizeAddress(address), 'driver')));
  } catch {
    return undefined;
  }
}

/** Unbind the function from whatever driver has it and clear driver_override. */
export function unbindDevice(address: string, options: BindOptions = {}): void {
  const { bdf, dev } = paths(address, options);
  if (existsSync(join(dev, 'driver'))) writeFileSync(join(dev, 'driver', 'unbind'), bdf);
  writeFileSync(join(dev, 'driver_override'), '\n');
}

/**
 * Bind the function to `driver` (uio_pci_generic or vfio-pci): set driver_override,
 * unbind the current driver, ask the bus to probe. The driver's module must be loaded.
 */
export function bindDevice(
  address: string,
  driver: 'uio_pci_generic' | 'vfio-pci',
  options: BindOptions = {},
): void {
  const { root, bdf, dev } = paths(address, options);
  if (!existsSync(join(root, 'bus', 'pci', 'drivers', driver)))
    throw new Error(`kernel driver ${driver} is not loaded (modprobe ${driver.replace('-', '_')})`);
  writeFileSync(join(dev, 'driver_override'), driver);
  if (existsSync(join(dev, 'driver'))) {
    if (currentDriver(bdf, root) === driver) return;
    writeFileSync(join(dev, 'driver', 'unbind'), bdf);
  }
  writeFileSync(join(root, 'bus', 'pci', 'drivers_probe'), bdf);
}
