/**
 * The hardware side of `pkaccel devices`: PCI functions from the sysfs scan
 * (read-only), matched against the registered drivers, with whether pkaccel can
 * open each one now and, if not, the command that would make it usable.
 */

import { listPciFunctions, type NativePciFunctionInfo } from 'pcie-mmio';
import { hex4 } from '../core/encoding/bytes.js';
import type { Registry } from '../index.js';

/** Kernel drivers that hand a function to user space (what `pkaccel bind` binds to). */
export const USER_SPACE_DRIVERS: Readonly<Record<string, 'vfio' | 'uio'>> = {
  'vfio-pci': 'vfio',
  uio_pci_generic: 'uio',
  igb_uio: 'uio',
};

/** PCI base class 0x10: encryption/decryption controllers. */
const CRYPTO_BASE_CLASS = 0x10;

export interface HardwareFunction {
  readonly address: string;
  /** "1af4:1054" */
  readonly ids: string;
  readonly classCode: string;
  /** The registered pkaccel driver that claims these IDs, if any. */
  readonly pkaccelDriver?: string;
  readonly kernelDriver?: string;
  readonly iommuGroup?: number;
  readonly numaNode?: number;
  /** Whether pkaccel can open it as it is bound now. */
  readonly usable: boolean;
  /** How pkaccel would open it (vfio, uio, or sysfs when no kernel driver holds it). */
  readonly mode?: 'vfio' | 'uio' | 'sysfs';
  /** When not usable: the command that would make it so. */
  readonly bindCommand?: string;
  /** The device spec that opens it. */
  readonly spec: string;
}

/** A crypto device: an encryption controller by class code, or one a pkaccel driver claims. */
export function isCryptoDevice(info: NativePciFunctionInfo, registry: Registry): boolean {
  return info.classCode >> 16 === CRYPTO_BASE_CLASS || registry.driverFor(info) !== undefined;
}

export function describeFunction(info: NativePciFunctionInfo, registry: Registry): HardwareFunction {
  const driver = registry.driverFor(info);
  const userSpace = info.kernelDriver === undefined ? undefined : USER_SPACE_DRIVERS[info.kernelDriver];
  const mode = info.kernelDriver === undefined ? 'sysfs' : userSpace;
  const usable = driver !== undefined && mode !== undefined;
  const base = {
    address: info.address,
    ids: `${hex4(info.vendorId)}:${hex4(info.deviceId)}`,
    classCode: info.classCode.toString(16).padStart(6, '0'),
    ...(driver ? { pkaccelDriver: driver.name } : {}),
    ...(info.kernelDriver === undefined ? {} : { kernelDriver: info.kernelDriver }),
    ...(info.iommuGroup === undefined ? {} : { iommuGroup: info.iommuGroup }),
    ...(info.numaNode === undefined ? {} : { numaNode: info.numaNode }),
    usable,
    spec: `pci:${info.address}`,
  };
  if (usable) return { ...base, mode };
  if (driver === undefined) return base;
  const to = info.iommuGroup === undefined ? 'uio' : 'vfio';
  return { ...base, bindCommand: `pkaccel bind ${info.address} --to ${to}` };
}

/**
 * Every PCI function under `sysfsRoot` that a registered driver claims (all of
 * them with `all`). Reads sysfs only; binds nothing.
 */
export async function scanHardware(
  registry: Registry,
  options: { sysfsRoot?: string; all?: boolean; signal?: AbortSignal },
): Promise<HardwareFunction[]> {
  const functions = await listPciFunctions({
    ...(options.sysfsRoot === undefined ? {} : { sysfsRoot: options.sysfsRoot }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return functions
    .filter((info) => options.all === true || registry.driverFor(info) !== undefined)
    .map((info) => describeFunction(info, registry));
}
