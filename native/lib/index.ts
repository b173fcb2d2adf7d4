/**
 * pcie-mmio: the native platform of pkaccel. PCI discovery over sysfs; BARs mapped
 * through VFIO, uio_pci_generic or sysfs; exact-width register access; pinned DMA
 * memory; interrupts on the event loop. The C++ addon only maps, reads, writes, pins
 * and waits; everything here decides.
 */
export { type AddonStatus, addonStatus } from './addon.js';
export { type BindOptions, bindDevice, currentDriver, unbindDevice } from './bind.js';
export {
  FileConfigSpace,
  PCI_CAP_ID,
  type PciCapability,
  parseCapabilities,
  snapshotConfig,
} from './config.js';
export type * from './contracts.js';
export {
  type ChunkSource,
  type DmaChunk,
  DmaPool,
  hugepageChunks,
  memfdChunks,
  memfdDmaAllocator,
  PooledDmaBuffer,
} from './dma.js';
export { defaultErrors, type ErrorClasses } from './errors.js';
export { NativePciFunction, type OpenMode } from './function.js';
export { createEventFd, FdIrq, type FdIrqOptions, type IrqControl } from './irq.js';
export { detachArrayBuffer, type MapOptions, MappedWindow, mapFd, mapFile } from './mmio.js';
export {
  COMMAND_BUS_MASTER,
  COMMAND_INTX_DISABLE,
  COMMAND_MEMORY,
  PCI_COMMAND,
  updateCommand,
} from './modes.js';
export { physicalAddress } from './pagemap.js';
export { createNativePlatform, NativePlatform, type NativePlatformOptions } from './platform.js';
export {
  type BarInfo,
  listPciFunctions,
  type NativePciFunctionInfo,
  normalizeAddress,
  parseResource,
  readPciFunction,
  type SysfsOptions,
} from './sysfs.js';

import { addon } from './addon.js';

/** Shared memory (memfd) of `size` bytes; the caller closes the fd. */
export function createMemfd(size: number, name = 'pcie-mmio'): number {
  return addon().memfd(name, size, false);
}
