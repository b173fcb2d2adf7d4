/**
 * The native Platform (scheme "pci"): lists this machine's PCI functions from sysfs
 * and opens `pci:0000:03:00.0[?mode=vfio|uio|sysfs&irq=poll|intx|msi|msix]`.
 * Without `mode`, the function's current kernel driver decides: vfio-pci → vfio,
 * a uio driver → uio, no driver → sysfs. A function bound to any other kernel driver
 * belongs to that driver and is not opened (it is this machine's disk or network).
 */
import { addonStatus } from './addon.js';
import type { DeviceSpec, PciFunctionInfo, Platform } from './contracts.js';
import { defaultErrors, type ErrorClasses } from './errors.js';
import { type FunctionParts, NativePciFunction, type OpenMode } from './function.js';
import { type ModeContext, openSysfs, openUio } from './modes.js';
import { listPciFunctions, type NativePciFunctionInfo, readPciFunction } from './sysfs.js';
import { openVfio } from './vfio.js';

export interface NativePlatformOptions {
  /** Where sysfs is mounted (default "/sys"); tests point it at a tree they built. */
  readonly sysfsRoot?: string;
  /** Where /dev/uioN and /dev/vfio live (default "/dev"). */
  readonly devRoot?: string;
  /** Default "/proc/self/pagemap". */
  readonly pagemapPath?: string;
  /** pkaccel's error classes, handed in by the composition root. */
  readonly errors?: ErrorClasses;
}

const UIO_DRIVERS = new Set(['uio_pci_generic', 'igb_uio']);

function modeFor(info: NativePciFunctionInfo, asked: string | undefined, errors: ErrorClasses): OpenMode {
  if (asked !== undefined && asked !== 'auto') {
    if (asked === 'vfio' || asked === 'uio' || asked === 'sysfs') return asked;
    throw new errors.InvalidInputError(
      `unknown mode "${asked}" in device spec (want vfio, uio, sysfs or auto)`,
    );
  }
  if (info.kernelDriver === 'vfio-pci') return 'vfio';
  if (info.uio !== undefined || (info.kernelDriver !== undefined && UIO_DRIVERS.has(info.kernelDriver)))
    return 'uio';
  if (info.kernelDriver === undefined) return 'sysfs';
  throw new errors.UnsupportedError(
    `${info.address} is driven by the kernel driver ${info.kernelDriver}; bind it to vfio-pci or uio_pci_generic first`,
  );
}

export class NativePlatform implements Platform {
  readonly name = 'native';
  readonly schemes = ['pci'] as const;
  readonly #options: NativePlatformOptions;
  readonly #errors: ErrorClasses;

  constructor(options: NativePlatformOptions = {}) {
    this.#options = options;
    this.#errors = options.errors ?? defaultErrors;
  }

  async enumerate(signal?: AbortSignal): Promise<readonly NativePciFunctionInfo[]> {
    if (signal?.aborted)
      throw new this.#errors.AbortedError('PCI enumeration aborted', { cause: signal.reason });
    try {
      return await listPciFunctions({ sysfsRoot: this.#options.sysfsRoot, signal });
    } catch (error) {
      if (signal?.aborted)
        throw new this.#errors.AbortedError('PCI enumeration aborted', { cause: signal.reason });
      throw error;
    }
  }

  async open(spec: DeviceSpec, signal?: AbortSignal): Promise<NativePciFunction> {
    const { errors } = { errors: this.#errors };
    if (!this.schemes.includes(spec.scheme as 'pci'))
      throw new errors.InvalidInputError(`the native platform opens pci:<address> specs, not "${spec.text}"`);
    // Without the addon no pci: device can open: say why first (the tools the build missed).
    const addon = addonStatus();
    if (!addon.loaded)
      throw new errors.UnsupportedError(`cannot open "${spec.text}": ${addon.reason}`, {
        cause: addon.error,
      });
    let info: NativePciFunctionInfo;
    try {
      info = await readPciFunction(spec.target, { sysfsRoot: this.#options.sysfsRoot });
    } catch (error) {
      throw new errors.InvalidInputError(`cannot open "${spec.text}": ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (signal?.aborted)
      throw new errors.AbortedError('opening the PCI function aborted', { cause: signal.reason });
    const mode = modeFor(info, spec.options.mode, errors);
    const ctx: ModeContext = {
      info,
      errors,
      devRoot: this.#options.devRoot ?? '/dev',
      options: spec.options,
      ...(this.#options.pagemapPath === undefined ? {} : { pagemapPath: this.#options.pagemapPath }),
    };
    const parts: FunctionParts =
      mode === 'vfio' ? openVfio(ctx) : mode === 'uio' ? openUio(ctx) : openSysfs(ctx);
    return new NativePciFunction(parts, errors);
  }
}

/** The platform the composition root registers: `createNativePlatform({ errors })`. */
export function createNativePlatform(options: NativePlatformOptions = {}): NativePlatform {
  return new NativePlatform(options);
}

export type { PciFunctionInfo };
