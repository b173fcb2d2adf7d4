/**
 * Loads the compiled addon (build/Release/pcie_mmio.node) and types its surface.
 * If the addon is missing, the reason is kept and thrown, naming the missing build
 * tool, by the first call that needs it; discovery and the binding helpers, which
 * are plain TypeScript over sysfs, keep working without it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface RegionInfo {
  readonly flags: number;
  readonly size: number;
  readonly offset: number;
}

export interface VfioAddon {
  apiVersion(containerFd: number): number;
  checkExtension(containerFd: number, extension: number): number;
  groupStatus(groupFd: number): number;
  groupSetContainer(groupFd: number, containerFd: number): void;
  setIommu(containerFd: number, type: number): void;
  groupDeviceFd(groupFd: number, address: string): number;
  deviceInfo(deviceFd: number): { flags: number; numRegions: number; numIrqs: number };
  regionInfo(deviceFd: number, index: number): RegionInfo;
  irqInfo(deviceFd: number, index: number): { flags: number; count: number };
  setIrqs(
    deviceFd: number,
    index: number,
    start: number,
    action: number,
    eventfds: number[],
    count: number,
  ): void;
  reset(deviceFd: number): void;
  mapDma(containerFd: number, region: number, offset: number, size: number, iova: bigint): void;
  unmapDma(containerFd: number, iova: bigint, size: number): void;
}

/** An opaque poller handle (a napi External). */
export type PollerHandle = { readonly __poller: unique symbol };

export interface Addon {
  /** mmap flags: 1 writable, 2 mlock (pin), 4 populate. Returns a region handle. */
  mapFd(fd: number, offset: number, size: number, flags: number): number;
  unmap(region: number): boolean;
  buffer(region: number): ArrayBuffer;
  /** A new ArrayBuffer over part of a region; detached by unmap. */
  view(region: number, offset: number, length: number): ArrayBuffer;
  /** Detach an ArrayBuffer made by buffer()/view(); false if it was detached already. */
  detach(arrayBuffer: ArrayBuffer): boolean;
  /** Whether an access to the region raised SIGBUS (the file shrank, the device went away). */
  regionBroken(region: number): boolean;
  address(region: number): bigint;
  memfd(name: string, size: number, hugetlb: boolean): number;
  read8(region: number, offset: number): number;
  read16(region: number, offset: number): number;
  read32(region: number, offset: number): number;
  read64(region: number, offset: number): bigint;
  write8(region: number, offset: number, value: number): void;
  write16(region: number, offset: number, value: number): void;
  write32(region: number, offset: number, value: number): void;
  write64(region: number, offset: number, value: bigint): void;
  readBlock(region: number, offset: number, target: Uint8Array): void;
  writeBlock(region: number, offset: number, source: Uint8Array): void;
  barrier(): void;
  eventfd(): number;
  pollOpen(fd: number, readSize: 4 | 8, callback: (value: number, errno: number) => void): PollerHandle;
  pollRef(poller: PollerHandle, keepAlive: boolean): void;
  pollPause(poller: PollerHandle, paused: boolean): void;
  pollClose(poller: PollerHandle): boolean;
  vfio: VfioAddon;
}

// Both lib/*.ts (under vitest) and dist/*.js sit one level below the package root.
const packageRoot = new URL('../', import.meta.url);
const addonPath = new URL('build/Release/pcie_mmio.node', packageRoot);
const failureRecord = new URL('build/BUILD_FAILED.json', packageRoot);

function explain(cause: unknown): Error {
  let detail = '';
  if (existsSync(failureRecord)) {
    try {
      const record = JSON.parse(readFileSync(failureRecord, 'utf8')) as {
        missing?: string[];
        reason?: string;
      };
      if (record.missing && record.missing.length > 0)
        detail = ` The build found no ${record.missing.join(', ')} on PATH: install ${record.missing.join(' and ')} (Debian: apt-get install python3 make g++) and run \`npm rebuild pcie-mmio\`.`;
      else if (record.reason) detail = ` The build failed: ${record.reason}`;
    } catch {
      // an unreadable record adds nothing; the main message still stands
    }
  }
  const message =
    `pcie-mmio: the native addon ${addonPath.pathname} could not be loaded; it is built by node-gyp ` +
    `(python3, make and a C++17 g++) when the package installs.${detail}`;
  return new Error(message, { cause });
}

let loaded: Addon | undefined;
let loadError: Error | undefined;
try {
  loaded = createRequire(import.meta.url)(addonPath.pathname) as Addon;
} catch (error) {
  loadError = explain(error);
}

/** The addon, or the explanation of why it is missing (thrown). */
export function addon(): Addon {
  if (loaded === undefined) throw loadError ?? new Error('pcie-mmio: native addon not loaded');
  return loaded;
}

/** Whether the addon loaded, and if not why: for a CLI's `doctor` and for tests that must skip. */
export function addonStatus(): { readonly loaded: true } | { readonly loaded: false; readonly error: Error } {
  return loaded !== undefined
    ? { loaded: true }
    : { loaded: false, error: loadError ?? new Error('unknown') };
}
