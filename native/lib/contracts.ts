/**
 * The platform contracts: what a driver gets from the machine for one PCI
 * function (identity, config space, BARs as register windows, DMA memory,
 * interrupts) and what a platform is (a source of PCI functions). They are
 * defined once, here, so that pcie-mmio is a package of its own that imports
 * nothing from pkaccel; pkaccel's core/platform re-exports them (types only:
 * nothing of pcie-mmio's code reaches core). pcie-mmio implements them over
 * sysfs/UIO/VFIO, pkaccel's simulator over device models.
 */

/**
 * A register window: one BAR (or part of one) of a device. Implemented by
 * `native/` (pcie-mmio: UIO/VFIO/sysfs mappings) and by `simulator/` (a
 * SharedArrayBuffer BAR); a driver cannot tell which.
 *
 * All multi-byte accesses are little-endian, as PCI defines them. Offsets are in
 * bytes from the start of the window; an access must lie inside the window and be
 * naturally aligned, or it throws a RangeError (it never touches memory outside).
 *
 * @category Platform contracts
 */
export interface Mmio {
  /** Size of the window in bytes. */
  readonly size: number;
  /** An unsigned 8-bit value. */
  read8(offset: number): number;
  /** An unsigned 16-bit value. */
  read16(offset: number): number;
  /** An unsigned 32-bit value. */
  read32(offset: number): number;
  /** An unsigned 64-bit value. */
  read64(offset: number): bigint;
  /** `value` is taken modulo 2^8. */
  write8(offset: number, value: number): void;
  /** `value` is taken modulo 2^16. */
  write16(offset: number, value: number): void;
  /** `value` is taken modulo 2^32 (negative numbers are their two's complement). */
  write32(offset: number, value: number): void;
  /** `value` is taken modulo 2^64. */
  write64(offset: number, value: bigint): void;
  /** Copy `target.length` bytes from the window at `offset` into `target`. */
  readBlock(offset: number, target: Uint8Array): void;
  /** Copy `source` into the window at `offset`. */
  writeBlock(offset: number, source: Uint8Array): void;
  /**
   * Order every earlier write (to this window and to DMA memory) before every later
   * one, as a device sees them: call it between filling descriptors and ringing a
   * doorbell.
   */
  barrier(): void;
}

/**
 * Memory a device reads and writes by DMA. A buffer has a bus address (what the
 * device is told) and a zero-copy byte view (what the host reads and writes).
 * Drivers allocate their rings and operand buffers once, at probe time, and reuse
 * them: nothing on a hot path allocates DMA memory.
 *
 * @category Platform contracts
 */
export interface DmaBuffer {
  /** The address the device uses for byte 0 of the buffer (an IOVA under an IOMMU). */
  readonly busAddress: bigint;
  /** Length in bytes. */
  readonly size: number;
  /** The host's view of the same bytes; invalid (throws or is detached) after `free()`. */
  readonly bytes: Uint8Array;
  /** Overwrite the whole buffer with zeros: required after it held private key material. */
  zero(): void;
  /** Return the buffer to its allocator. Freeing twice throws an Error. */
  free(): void;
}

/**
 * How a DMA buffer is allocated.
 *
 * @category Platform contracts
 */
export interface DmaAllocateOptions {
  /** Alignment of the bus address in bytes (a power of two; default 64). */
  readonly align?: number;
}

/**
 * Hands out DMA buffers for one device.
 *
 * @category Platform contracts
 */
export interface DmaAllocator {
  /** A buffer of at least `size` bytes, zero-filled. Throws a RangeError if it cannot. */
  allocate(size: number, options?: DmaAllocateOptions): DmaBuffer;
  /** Free every buffer still allocated; the allocator is unusable afterwards. */
  close(): void;
}

/**
 * One interrupt source of a device (an MSI-X vector, MSI, or the INTx line),
 * delivered on the event loop (native: uv_poll on an eventfd or a uio fd;
 * simulator: Atomics.waitAsync).
 *
 * @category Platform contracts
 */
export interface Irq {
  /** Which vector of the device this is (0 for INTx). */
  readonly vector: number;
  /**
   * Resolves when the interrupt has fired at least once since the last `wait()`
   * resolved (fired events are counted, not lost, while nobody waits), with the
   * number of events. Rejects with an AbortedError when the signal aborts, and
   * with a DeviceGoneError when the interrupt is closed while waiting.
   * At most one wait may be pending at a time.
   */
  wait(signal?: AbortSignal): Promise<number>;
  /** Let the interrupt fire (the default after opening). */
  enable(): void;
  /** Stop the interrupt from firing; pending events stay counted. */
  disable(): void;
  /**
   * Re-arm a level-triggered interrupt after it was serviced (INTx through UIO or
   * VFIO needs this; a no-op where the platform re-arms by itself).
   */
  unmask(): void;
  /** Release the interrupt; a pending wait rejects. Closing twice is a no-op. */
  close(): void;
}

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
