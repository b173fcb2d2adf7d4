/**
 * What a driver gets from the machine for one PCI function: its identity, its
 * config space, its BARs as register windows, DMA memory and interrupts.
 * `native/` implements it over sysfs/UIO/VFIO; `simulator/` over device models.
 */

import type { DmaAllocator } from './dma.js';
import type { Irq } from './irq.js';
import type { Mmio } from './mmio.js';

/**
 * The identity registers of a PCI function.
 *
 * @category Platform contracts
 */
export interface PciIdentity {
  /** The vendor ID (config offset 0x00). */
  readonly vendorId: number;
  /** The device ID (config offset 0x02). */
  readonly deviceId: number;
  /** The subsystem vendor ID (config offset 0x2c). */
  readonly subsystemVendorId: number;
  /** The subsystem ID (config offset 0x2e). */
  readonly subsystemDeviceId: number;
  /** The 24-bit class code (base class, subclass, programming interface). */
  readonly classCode: number;
  /** The revision ID (config offset 0x08). */
  readonly revision: number;
}

/**
 * A PCI function as a platform found it, before anything is opened.
 *
 * @category Platform contracts
 */
export interface PciFunctionInfo extends PciIdentity {
  /** Domain:bus:device.function ("0000:03:00.0"), or a platform's own address ("sim:ring#0"). */
  readonly address: string;
  /** The kernel driver bound to it now, if any (native only). */
  readonly kernelDriver?: string;
  /** IOMMU group number, if the function is in one (native only). */
  readonly iommuGroup?: number;
  /** The NUMA node the function is attached to, if the machine says (native only). */
  readonly numaNode?: number;
}

/**
 * Config-space access (for capability walks such as virtio's, and INTx control).
 *
 * @category Platform contracts
 */
export interface PciConfigSpace {
  /** Bytes of config space that can be read (256, or 4096 for PCIe extended config space). */
  readonly size: number;
  /** An unsigned 8-bit value at `offset`. */
  read8(offset: number): number;
  /** An unsigned 16-bit value at `offset` (little-endian, aligned). */
  read16(offset: number): number;
  /** An unsigned 32-bit value at `offset` (little-endian, aligned). */
  read32(offset: number): number;
  /** Write 16 bits at `offset` (the command register, MSI-X control). */
  write16(offset: number, value: number): void;
  /** Write 32 bits at `offset`. */
  write32(offset: number, value: number): void;
}

/**
 * How interrupts are delivered on this function; a driver asks for vectors within this.
 *
 * @category Platform contracts
 */
export interface IrqSupport {
  /** The interrupt mechanism: MSI-X, MSI, legacy INTx, or none (poll). */
  readonly kind: 'msix' | 'msi' | 'intx' | 'none';
  /** How many vectors can be opened (1 for INTx). */
  readonly vectors: number;
}

/**
 * An opened PCI function: everything a hardware driver touches.
 *
 * @category Platform contracts
 */
export interface PciFunction {
  /** Its identity and address. */
  readonly info: PciFunctionInfo;
  /** Its config space. */
  readonly config: PciConfigSpace;
  /** Map BAR `index` as a register window. Throws if the BAR does not exist or is not memory. */
  bar(index: number): Mmio;
  /** DMA memory for this function (bus addresses valid for this device). */
  readonly dma: DmaAllocator;
  /** The interrupts it can deliver. */
  readonly irqSupport: IrqSupport;
  /** Open interrupt vector `vector` (0-based; 0 for INTx). */
  openIrq(vector: number): Irq;
  /**
   * Resolves when the platform sees the function disappear (surprise removal);
   * never rejects. Drivers race it against their waits.
   */
  readonly removed: Promise<void>;
  /** Unmap everything, free DMA memory and interrupts. Closing twice is a no-op. */
  close(): Promise<void>;
}

/**
 * A source of PCI functions: the real machine (`native/`) or the simulator.
 * A platform answers the device specs of its schemes ("pci" for native,
 * "sim" for the simulator) and can list what it has.
 *
 * @category Platform contracts
 */
export interface Platform {
  /** The platform's name ("native", "simulator"). */
  readonly name: string;
  /** The device-spec schemes this platform opens, e.g. ["pci"] or ["sim"]. */
  readonly schemes: readonly string[];
  /** Every PCI function this platform can see, read-only (no binding, no opening). */
  enumerate(signal?: AbortSignal): Promise<readonly PciFunctionInfo[]>;
  /**
   * Open the function a spec names (`scheme:rest`, options already split from the
   * query string), ready for a driver to probe.
   */
  open(spec: DeviceSpec, signal?: AbortSignal): Promise<PciFunction>;
  /** Whether `auto` should use this platform's devices when no hardware is found. */
  readonly isFallback?: boolean;
  /** The device specs `auto` should open from this platform when it is the fallback (a platform that finds its cards on disk answers later). */
  defaultSpecs?(): readonly string[] | Promise<readonly string[]>;
}

/**
 * A parsed device spec: `scheme:target?key=value&key=value`.
 *
 * @category Platform contracts
 */
export interface DeviceSpec {
  /** The spec as written. */
  readonly text: string;
  /** "software", "sim", "pci", … */
  readonly scheme: string;
  /** What follows the scheme's colon, without the query ("ring", "0000:03:00.0", ""). */
  readonly target: string;
  /** The query string's options (`?engines=8&poll=5`); read them with `parseProbeOptions`. */
  readonly options: Readonly<Record<string, string>>;
}

/**
 * Parse `scheme[:target][?k=v&…]`. Throws an InvalidInputError-like TypeError on an empty spec.
 *
 * @category Platform contracts
 */
export function parseDeviceSpec(text: string): DeviceSpec {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new TypeError('empty device spec');
  const q = trimmed.indexOf('?');
  const head = q < 0 ? trimmed : trimmed.slice(0, q);
  const query = q < 0 ? '' : trimmed.slice(q + 1);
  const colon = head.indexOf(':');
  const scheme = colon < 0 ? head : head.slice(0, colon);
  const target = colon < 0 ? '' : head.slice(colon + 1);
  const options: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) options[k] = v;
  return { text: trimmed, scheme, target, options };
}
