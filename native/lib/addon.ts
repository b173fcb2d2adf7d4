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

/** What the install-time build recorded when it could not build the addon. */
interface BuildFailure {
  readonly reason: string;
  readonly missing: readonly string[];
}

function readFailure(): BuildFailure | undefined {
  if (!existsSync(failureRecord)) return undefined;
  try {
    const record = JSON.parse(readFileSync(failureRecord, 'utf8')) as { missing?: unknown; reason?: unknown };
    const missing = Array.isArray(record.missing) ? record.missing.map(String) : [];
    const reason = typeof record.reason === 'string' ? record.reason : 'the build failed';
    return { reason, missing };
  } catch {
    return { reason: `the build failed (its record ${failureRecord.pathname} is unreadable)`, missing: [] };
  }
}

const REBUILD =
  '`npm rebuild pcie-mmio` (where pkaccel is installed from its tarball: `npm rebuild pkaccel`)';

function explain(cause: unknown, failure: BuildFailure | undefined): { reason: string; error: Error } {
  let reason: string;
  if (failure !== undefined && failure.missing.length > 0)
    reason =
      `the native addon was not built: ${failure.missing.join(', ')} not found on PATH when the package was ` +
      `installed. Install ${failure.missing.join(' and ')} (Debian/Ubuntu: apt-get install python3 make g++) ` +
      `and run ${REBUILD}.`;
  else if (failure !== undefined)
    reason = `the native addon was not built: ${failure.reason}. Fix that and run ${REBUILD}.`;
  else if (!existsSync(addonPath))
    reason =
      'the native addon was not built: its install script did not run (npm --ignore-scripts, or an ' +
      `allowScripts policy that does not allow pkaccel/pcie-mmio). Run ${REBUILD}.`;
  else
    reason =
      `the native addon ${addonPath.pathname} exists but does not load (${(cause as Error)?.message ?? cause}); ` +
      `it may have been built for another Node version: run ${REBUILD}.`;
  const error = new Error(
    `pcie-mmio: ${reason} It is built by node-gyp (python3, make and a C++17 g++) when the package installs; ` +
      'without it only the pci: platform (real cards) is unavailable.',
    { cause },
  );
  return { reason, error };
}

let loaded: Addon | undefined;
let loadError: Error | undefined;
let loadReason: string | undefined;
let buildFailure: BuildFailure | undefined;
try {
  loaded = createRequire(import.meta.url)(addonPath.pathname) as Addon;
} catch (error) {
  buildFailure = readFailure();
  ({ reason: loadReason, error: loadError } = explain(error, buildFailure));
}

/** The addon, or the explanation of why it is missing (thrown). */
export function addon(): Addon {
  if (loaded === undefined) throw loadError ?? new Error('pcie-mmio: native addon not loaded');
  return loaded;
}

/** Whether the native addon is usable, and if not why (see addonStatus). */
export type AddonStatus =
  | {
      readonly loaded: true;
      readonly built: true;
      readonly reason: undefined;
      readonly missingTools: readonly string[];
    }
  | {
      readonly loaded: false;
      /** false: never built (tools missing, build failed, install script not run); true: built but not loadable. */
      readonly built: boolean;
      /** One plain sentence for users: what is wrong and the command that fixes it. */
      readonly reason: string;
      /** The build tools the install-time build did not find on PATH (python3, make, g++, node-gyp). */
      readonly missingTools: readonly string[];
      /** The Error the first call that needs the addon throws. */
      readonly error: Error;
    };

/**
 * Whether the addon loaded, and if not why, without throwing: for `pkaccel devices`,
 * the first `pci:` open and tests that must skip. The install-time build records the
 * missing tools in build/BUILD_FAILED.json; this reads that record.
 */
export function addonStatus(): AddonStatus {
  if (loaded !== undefined) return { loaded: true, built: true, reason: undefined, missingTools: [] };
  return {
    loaded: false,
    built: buildFailure === undefined && existsSync(addonPath),
    reason: loadReason ?? 'the native addon is not loaded',
    missingTools: buildFailure?.missing ?? [],
    error: loadError ?? new Error('pcie-mmio: native addon not loaded'),
  };
}
