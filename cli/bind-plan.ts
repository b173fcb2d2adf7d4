/**
 * What `pkaccel bind` / `unbind` would do to a PCI function, and whether it may:
 * the dpdk-devbind of pkaccel. Planning reads sysfs only; the plan lists the
 * sysfs writes as shell commands (what --dry-run prints), the refusals, and what
 * the machine needs besides (IOMMU group, hugepages, module, permissions).
 */

import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type NativePciFunctionInfo, normalizeAddress, readPciFunction } from 'pcie-mmio';
import { hex4 } from '../core/encoding/bytes.js';
import type { Registry } from '../index.js';
import { UsageError } from './exit-codes.js';
import { isCryptoDevice, USER_SPACE_DRIVERS } from './hardware.js';

export type BindTarget = 'vfio' | 'uio';

export const KERNEL_DRIVER_OF: Readonly<Record<BindTarget, 'vfio-pci' | 'uio_pci_generic'>> = {
  vfio: 'vfio-pci',
  uio: 'uio_pci_generic',
};

export interface BindPlan {
  readonly action: 'bind' | 'unbind';
  readonly address: string;
  readonly sysfsRoot: string;
  /** The kernel driver `bind` hands the function to. */
  readonly targetDriver?: 'vfio-pci' | 'uio_pci_generic';
  readonly device: {
    readonly ids: string;
    readonly classCode: string;
    readonly kernelDriver?: string;
    readonly iommuGroup?: number;
    readonly pkaccelDriver?: string;
  };
  /** Reasons not to do it; any refusal stops the command (exit 1). */
  readonly refusals: readonly string[];
  /** Already in the asked-for state. */
  readonly nothingToDo: boolean;
  /** The sysfs writes, as the shell commands that do the same; none when the plan is refused. */
  readonly steps: readonly string[];
  /** What the machine needs besides the binding, and why. */
  readonly requirements: readonly string[];
}

export interface PlanOptions {
  readonly sysfsRoot: string;
  readonly force: boolean;
}

async function readFunction(address: string, sysfsRoot: string): Promise<NativePciFunctionInfo> {
  let bdf: string;
  try {
    bdf = normalizeAddress(address);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!existsSync(join(sysfsRoot, 'bus', 'pci', 'devices', bdf)))
    throw new Error(`no PCI function ${bdf} under ${sysfsRoot}/bus/pci/devices`);
  return readPciFunction(bdf, { sysfsRoot });
}

function groupMembers(
  sysfsRoot: string,
  group: number,
  self: string,
): { address: string; driver?: string }[] {
  const dir = join(sysfsRoot, 'kernel', 'iommu_groups', String(group), 'devices');
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n !== self)
    .map((address) => {
      try {
        return {
          address,
          driver: basename(readlinkSync(join(sysfsRoot, 'bus', 'pci', 'devices', address, 'driver'))),
        };
      } catch {
        return { address };
      }
    });
}

function hugepagesReserved(sysfsRoot: string): number {
  try {
    return Number.parseInt(
      readFileSync(join(sysfsRoot, 'kernel', 'mm', 'hugepages', 'hugepages-2048kB', 'nr_hugepages'), 'utf8'),
      10,
    );
  } catch {
    return 0;
  }
}

function deviceFacts(info: NativePciFunctionInfo, registry: Registry): BindPlan['device'] {
  const driver = registry.driverFor(info);
  return {
    ids: `${hex4(info.vendorId)}:${hex4(info.deviceId)}`,
    classCode: info.classCode.toString(16).padStart(6, '0'),
    ...(info.kernelDriver === undefined ? {} : { kernelDriver: info.kernelDriver }),
    ...(info.iommuGroup === undefined ? {} : { iommuGroup: info.iommuGroup }),
    ...(driver === undefined ? {} : { pkaccelDriver: driver.name }),
  };
}

/** PCI base class 06: bridges (host, ISA, PCI-to-PCI, …). Never handed to user space. */
const BRIDGE_BASE_CLASS = 0x06;
const BRIDGE_NAMES: Readonly<Record<number, string>> = {
  0: 'host bridge',
  1: 'ISA bridge',
  4: 'PCI-to-PCI bridge',
};

/** The refusals every rebinding shares: an unclaimed device, or one a non-crypto kernel driver holds. */
function commonRefusals(info: NativePciFunctionInfo, registry: Registry, force: boolean): string[] {
  const refusals: string[] = [];
  const ids = `${hex4(info.vendorId)}:${hex4(info.deviceId)}`;
  if (registry.driverFor(info) === undefined && !force) {
    const names = registry.drivers.filter((d) => d.kind === 'pci').map((d) => d.name);
    refusals.push(
      `no registered pkaccel driver matches ${info.address} (${ids}); drivers: ${names.join(', ') || 'none'} ` +
        '(use --force to rebind it anyway)',
    );
  }
  if (info.classCode >> 16 === BRIDGE_BASE_CLASS) {
    refusals.push(
      `${info.address} is a ${BRIDGE_NAMES[(info.classCode >> 8) & 0xff] ?? 'bridge'} (class ` +
        `${info.classCode.toString(16).padStart(6, '0')}): the devices and memory behind it depend on it, ` +
        'so pkaccel will not take it away (not even with --force)',
    );
    return refusals;
  }
  const kernel = info.kernelDriver;
  if (kernel !== undefined && USER_SPACE_DRIVERS[kernel] === undefined && !isCryptoDevice(info, registry)) {
    refusals.push(
      `${info.address} is in use by the kernel driver ${kernel} and is not a crypto device ` +
        `(class ${info.classCode.toString(16).padStart(6, '0')}); it may be this machine's disk or network, ` +
        'so pkaccel will not take it away (not even with --force)',
    );
  }
  return refusals;
}

/** What both plans start from: the function as sysfs shows it, its sysfs folder, and the refusals every plan has. */
async function readForPlan(registry: Registry, address: string, options: PlanOptions) {
  const { sysfsRoot } = options;
  const info = await readFunction(address, sysfsRoot);
  const bdf = info.address;
  const dev = join(sysfsRoot, 'bus', 'pci', 'devices', bdf);
  return { sysfsRoot, info, bdf, dev, refusals: commonRefusals(info, registry, options.force) };
}

export async function planBind(
  registry: Registry,
  address: string,
  to: BindTarget,
  options: PlanOptions,
): Promise<BindPlan> {
  const { sysfsRoot, info, bdf, dev, refusals } = await readForPlan(registry, address, options);
  const target = KERNEL_DRIVER_OF[to];
  const requirements: string[] = [];
  const steps: string[] = [];
  const moduleLoaded = existsSync(join(sysfsRoot, 'bus', 'pci', 'drivers', target));
  if (!moduleLoaded) {
    steps.push(`modprobe ${target.replace('-', '_')}`);
    requirements.push(
      `the kernel module ${target} is not loaded: modprobe ${target.replace('-', '_')} (as root)`,
    );
  }
  if (to === 'vfio') {
    if (info.iommuGroup === undefined) {
      refusals.push(
        `${bdf} has no IOMMU group, so vfio-pci cannot take it: turn the IOMMU on (VT-d/AMD-Vi in firmware, ` +
          'intel_iommu=on or amd_iommu=on on the kernel command line), or bind with --to uio',
      );
    } else {
      const others = groupMembers(sysfsRoot, info.iommuGroup, bdf);
      requirements.push(
        `IOMMU group ${info.iommuGroup}: vfio opens whole groups, so every function in it must be bound to vfio-pci ` +
          `or to no driver; pkaccel then opens /dev/vfio/${info.iommuGroup}, which must be readable and writable ` +
          'by the user running it (root, or chown/udev rule)',
      );
      const blocking = others.filter((o) => o.driver !== undefined && o.driver !== 'vfio-pci');
      for (const o of blocking)
        requirements.push(
          `${o.address} shares IOMMU group ${info.iommuGroup} and is bound to ${o.driver}: ` +
            'the group cannot be opened until it is unbound or bound to vfio-pci too',
        );
    }
  } else {
    requirements.push(
      'uio_pci_generic gives no DMA isolation (the card can reach all memory) and only legacy INTx interrupts; ' +
        'pkaccel translates DMA addresses through /proc/self/pagemap, which needs root',
    );
  }
  const hugepages = hugepagesReserved(sysfsRoot);
  requirements.push(
    hugepages > 0
      ? `${hugepages} hugepages of 2 MiB are reserved (DMA memory comes from them)`
      : `no 2 MiB hugepages reserved: echo 64 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages ` +
          `(DMA buffers come from hugepages; ${to === 'uio' ? 'needed for uio, whose buffers must be physically contiguous' : 'recommended for vfio'})`,
  );
  const nothingToDo = info.kernelDriver === target;
  if (!nothingToDo) {
    steps.push(`echo ${target} > ${join(dev, 'driver_override')}`);
    if (info.kernelDriver !== undefined) steps.push(`echo ${bdf} > ${join(dev, 'driver', 'unbind')}`);
    steps.push(`echo ${bdf} > ${join(sysfsRoot, 'bus', 'pci', 'drivers_probe')}`);
  }
  return {
    action: 'bind',
    address: bdf,
    sysfsRoot,
    targetDriver: target,
    device: deviceFacts(info, registry),
    refusals,
    nothingToDo,
    // A refused plan lists no commands: nothing a reader could paste to do what was refused.
    steps: nothingToDo || refusals.length > 0 ? [] : steps,
    requirements,
  };
}

export async function planUnbind(
  registry: Registry,
  address: string,
  options: PlanOptions,
): Promise<BindPlan> {
  const { sysfsRoot, info, bdf, dev, refusals } = await readForPlan(registry, address, options);
  const nothingToDo = info.kernelDriver === undefined;
  const steps =
    nothingToDo || refusals.length > 0
      ? []
      : [`echo ${bdf} > ${join(dev, 'driver', 'unbind')}`, `echo > ${join(dev, 'driver_override')}`];
  return {
    action: 'unbind',
    address: bdf,
    sysfsRoot,
    device: deviceFacts(info, registry),
    refusals,
    nothingToDo,
    steps,
    requirements: [
      `to hand it back to the kernel's own driver afterwards: echo ${bdf} > ${join(sysfsRoot, 'bus', 'pci', 'drivers_probe')}`,
    ],
  };
}
