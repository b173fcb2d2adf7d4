/** The contracts of what a driver gets from the machine. */
export type { DmaAllocateOptions, DmaAllocator, DmaBuffer } from './dma.js';
export type { Irq } from './irq.js';
export type { Mmio } from './mmio.js';
export type {
  DeviceSpec,
  IrqSupport,
  PciConfigSpace,
  PciFunction,
  PciFunctionInfo,
  PciIdentity,
  Platform,
} from './pci.js';
export { parseDeviceSpec } from './pci.js';
export { spawnWorker } from './worker.js';
