/**
 * PCI discovery over sysfs, read-only: identity registers, current kernel driver,
 * IOMMU group, NUMA node, BARs from `resource`, and the uio node if bound to a uio
 * driver. The sysfs root is a parameter so tests can run on a tree they build.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { PciFunctionInfo } from './contracts.js';

export interface BarInfo {
  readonly index: number;
  /** Host physical start as the kernel assigned it, in hex ("0xfe000000": JSON-safe). */
  readonly start: string;
  readonly size: number;
  /** Linux IORESOURCE_* flags from sysfs. */
  readonly flags: number;
  readonly kind: 'memory' | 'io';
  readonly is64: boolean;
  readonly prefetchable: boolean;
}

export interface NativePciFunctionInfo extends PciFunctionInfo {
  /** The function's sysfs directory. */
  readonly sysfsPath: string;
  /** BARs 0–5 that exist (size > 0). */
  readonly bars: readonly BarInfo[];
  /** "uio0" when bound to a uio driver. */
  readonly uio?: string;
}

export interface SysfsOptions {
  /** Where sysfs is mounted (default "/sys"). */
  readonly sysfsRoot?: string;
  readonly signal?: AbortSignal;
}

const IORESOURCE_IO = 0x100;
const IORESOURCE_MEM = 0x200;
const IORESOURCE_PREFETCH = 0x2000;
const IORESOURCE_MEM_64 = 0x100000;

/** "0000:03:00.0": domain:bus:device.function in lower-case hex. */
export const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;

export function devicesDir(sysfsRoot = '/sys'): string {
  return join(sysfsRoot, 'bus', 'pci', 'devices');
}

/** Normalise "03:00.0" or "0000:03:00.0" to the full form; throws a RangeError otherwise. */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase();
  const full = /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(a) ? `0000:${a}` : a;
  if (!PCI_ADDRESS.test(full)) throw new RangeError(`not a PCI address: "${address}" (want 0000:03:00.0)`);
  return full;
}

async function readHex(path: string): Promise<number> {
  const text = (await readFile(path, 'utf8')).trim();
  const n = Number.parseInt(text, 16);
  if (!Number.isFinite(n)) throw new Error(`${path}: expected a hex number, got "${text}"`);
  return n;
}

async function optional<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch {
    return undefined;
  }
}

/** Parse sysfs `resource`: one "start end flags" line per resource, BARs 0–5 first. */
export function parseResource(text: string): BarInfo[] {
  const bars: BarInfo[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < 6 && index < lines.length; index++) {
    const fields = lines[index]!.trim().split(/\s+/);
    if (fields.length < 3) continue;
    const start = BigInt(fields[0]!);
    const end = BigInt(fields[1]!);
    const flags = Number(BigInt(fields[2]!) & 0xffffffffn);
    if (start === 0n && end === 0n) continue;
    const kind = flags & IORESOURCE_IO ? 'io' : flags & IORESOURCE_MEM ? 'memory' : undefined;
    if (!kind) continue;
    bars.push({
      index,
      start: `0x${start.toString(16)}`,
      size: Number(end - start + 1n),
      flags,
      kind,
      is64: (flags & IORESOURCE_MEM_64) !== 0,
      prefetchable: (flags & IORESOURCE_PREFETCH) !== 0,
    });
  }
  return bars;
}

/** Everything sysfs says about one function, without opening or touching it. */
export async function readPciFunction(
  address: string,
  options: SysfsOptions = {},
): Promise<NativePciFunctionInfo> {
  const bdf = normalizeAddress(address);
  const dir = join(devicesDir(options.sysfsRoot), bdf);
  const [vendorId, deviceId, subsystemVendorId, subsystemDeviceId, classCode, revision] = await Promise.all(
    ['vendor', 'device', 'subsystem_vendor', 'subsystem_device', 'class', 'revision'].map((f) =>
      readHex(join(dir, f)),
    ),
  );
  const driver = await optional(readlink(join(dir, 'driver')));
  const group = await optional(readlink(join(dir, 'iommu_group')));
  const numa = await optional(readFile(join(dir, 'numa_node'), 'utf8'));
  const resource = await optional(readFile(join(dir, 'resource'), 'utf8'));
  const uio = (await optional(readdir(join(dir, 'uio'))))?.find((n) => /^uio\d+$/.test(n));
  const numaNode = numa === undefined ? undefined : Number.parseInt(numa, 10);
  const iommuGroup = group === undefined ? undefined : Number.parseInt(basename(group), 10);
  return {
    address: bdf,
    vendorId: vendorId!,
    deviceId: deviceId!,
    subsystemVendorId: subsystemVendorId!,
    subsystemDeviceId: subsystemDeviceId!,
    classCode: classCode!,
    revision: revision!,
    ...(driver === undefined ? {} : { kernelDriver: basename(driver) }),
    ...(iommuGroup === undefined || Number.isNaN(iommuGroup) ? {} : { iommuGroup }),
    ...(numaNode === undefined || Number.isNaN(numaNode) || numaNode < 0 ? {} : { numaNode }),
    ...(uio === undefined ? {} : { uio }),
    sysfsPath: dir,
    bars: resource === undefined ? [] : parseResource(resource),
  };
}

/** Every PCI function sysfs lists, sorted by address. Read-only. */
export async function listPciFunctions(options: SysfsOptions = {}): Promise<NativePciFunctionInfo[]> {
  let names: string[];
  try {
    names = await readdir(devicesDir(options.sysfsRoot));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return []; // no PCI bus here (some containers)
    throw error;
  }
  const found: NativePciFunctionInfo[] = [];
  for (const name of names.filter((n) => PCI_ADDRESS.test(n)).sort()) {
    if (options.signal?.aborted) throw options.signal.reason;
    const info = await optional(readPciFunction(name, options));
    if (info) found.push(info); // a function removed while we looked is simply not listed
  }
  return found;
}
