/** DMA memory: buffers with bus addresses, and their allocator: defined once in pcie-mmio's contracts (see ./pci.ts), re-exported as types. */
export type { DmaAllocateOptions, DmaAllocator, DmaBuffer } from 'pcie-mmio/contracts';
