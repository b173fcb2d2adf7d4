/**
 * The shapes pkaccel's core/platform contracts give a platform (Mmio, DmaBuffer,
 * DmaAllocator, Irq, PciFunction, Platform), restated here so that pcie-mmio is a
 * package of its own that imports nothing from pkaccel. TypeScript compares them
 * structurally: the composition root's `registerPlatform(createNativePlatform(…))`
 * fails to compile the day they drift apart.
 */

export interface Mmio {
  readonly size: number;
  read8(offset: number): number;
  read16(offset: number): number;
  read32(offset: number): number;
  read64(offset: number): bigint;
  write8(offset: number, value: number): void;
  write16(offset: number, value: number): void;
  write32(offset: number, value: number): void;
  write64(offset: number, value: bigint): void;
  readBlock(offset: number, target: Uint8Array): void;
  writeBlock(offset: number, source: Uint8Array): void;
  barrier(): void;
}

export interface DmaBuffer {
  readonly busAddress: bigint;
  readonly size: number;
  readonly bytes: Uint8Array;
  zero(): void;
  free(): void;
}

export interface DmaAllocateOptions {
  readonly align?: number;
}

export interface DmaAllocator {
  allocate(size: number, options?: DmaAllocateOptions): DmaBuffer;
  close(): void;
}

export interface Irq {
  readonly vector: number;
  wait(signal?: AbortSignal): Promise<number>;
  enable(): void;
  disable(): void;
  unmask(): void;
  close(): void;
}

export interface PciIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly subsystemVendorId: number;
  readonly subsystemDeviceId: number;
  readonly classCode: number;
  readonly revision: number;
}

export interface PciFunctionInfo extends PciIdentity {
  readonly address: string;
  readonly kernelDriver?: string;
  readonly iommuGroup?: number;
  readonly numaNode?: number;
}

export interface PciConfigSpace {
  readonly size: number;
  read8(offset: number): number;
  read16(offset: number): number;
  read32(offset: number): number;
  write16(offset: number, value: number): void;
  write32(offset: number, value: number): void;
}

export interface IrqSupport {
  readonly kind: 'msix' | 'msi' | 'intx' | 'none';
  readonly vectors: number;
}

export interface PciFunction {
  readonly info: PciFunctionInfo;
  readonly config: PciConfigSpace;
  bar(index: number): Mmio;
  readonly dma: DmaAllocator;
  readonly irqSupport: IrqSupport;
  openIrq(vector: number): Irq;
  readonly removed: Promise<void>;
  close(): Promise<void>;
}

export interface DeviceSpec {
  readonly text: string;
  readonly scheme: string;
  readonly target: string;
  readonly options: Readonly<Record<string, string>>;
}

export interface Platform {
  readonly name: string;
  readonly schemes: readonly string[];
  enumerate(signal?: AbortSignal): Promise<readonly PciFunctionInfo[]>;
  open(spec: DeviceSpec, signal?: AbortSignal): Promise<PciFunction>;
  readonly isFallback?: boolean;
  defaultSpecs?(): readonly string[];
}
