/**
 * Guest-only helpers over sysfs: find the virtio-crypto function and bind it to
 * a user-space driver. These run ONLY inside the QEMU guest (the guest script
 * refuses to start unless /proc/cmdline carries the harness's e2e.mode= flag);
 * on a development machine the PCI functions are its disk and network.
 */

import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';

const DEVICES = '/sys/bus/pci/devices';

export interface GuestPciFunction {
  readonly address: string;
  readonly vendor: number;
  readonly device: number;
  readonly classCode: number;
  readonly driver: string | undefined;
  readonly iommuGroup: number | undefined;
  /** Lines of the sysfs `resource` file that are in use: "index start-end flags". */
  readonly resources: readonly string[];
}

function readHex(path: string): number {
  return Number.parseInt(readFileSync(path, 'utf8').trim(), 16);
}

export function describeFunction(address: string): GuestPciFunction {
  const dir = `${DEVICES}/${address}`;
  const resources = readFileSync(`${dir}/resource`, 'utf8')
    .trim()
    .split('\n')
    .map((line, index) => ({ index, parts: line.trim().split(/\s+/) }))
    .filter(({ parts }) => parts[0] !== undefined && BigInt(parts[0]) !== 0n)
    .map(({ index, parts }) => `${index} ${parts[0]}-${parts[1]} ${parts[2]}`);
  let driver: string | undefined;
  let iommuGroup: number | undefined;
  try {
    driver = readlinkName(`${dir}/driver`);
  } catch {
    driver = undefined;
  }
  try {
    iommuGroup = Number(readlinkName(`${dir}/iommu_group`));
  } catch {
    iommuGroup = undefined;
  }
  return {
    address,
    vendor: readHex(`${dir}/vendor`),
    device: readHex(`${dir}/device`),
    classCode: readHex(`${dir}/class`),
    driver,
    iommuGroup,
    resources,
  };
}

/** The last path component a sysfs symlink points to (driver name, group number). */
function readlinkName(path: string): string {
  const real = realpathSync(path);
  return real.slice(real.lastIndexOf('/') + 1);
}

/** Every function with these IDs. */
export function findFunctions(vendor: number, device: number): GuestPciFunction[] {
  return readdirSync(DEVICES)
    .map(describeFunction)
    .filter((f) => f.vendor === vendor && f.device === device);
}

/** Bind to uio_pci_generic by ID (the module must be loaded); returns the /dev/uioN path. */
export function bindUio(fn: GuestPciFunction): string {
  writeFileSync('/sys/bus/pci/drivers/uio_pci_generic/new_id', `${hex4(fn.vendor)} ${hex4(fn.device)}`);
  const uioDir = `${DEVICES}/${fn.address}/uio`;
  const names = existsSync(uioDir) ? readdirSync(uioDir) : [];
  const name = names[0];
  if (name === undefined) throw new Error(`uio_pci_generic did not bind ${fn.address}`);
  return `/dev/${name}`;
}

/** Bind to vfio-pci with driver_override; returns the /dev/vfio/<group> path. */
export function bindVfio(fn: GuestPciFunction): string {
  if (fn.iommuGroup === undefined) throw new Error(`${fn.address} is in no IOMMU group (is the IOMMU on?)`);
  writeFileSync(`${DEVICES}/${fn.address}/driver_override`, 'vfio-pci');
  writeFileSync('/sys/bus/pci/drivers_probe', fn.address);
  const path = `/dev/vfio/${fn.iommuGroup}`;
  if (!existsSync(path)) throw new Error(`vfio-pci did not bind ${fn.address}: ${path} is missing`);
  return path;
}

export function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
