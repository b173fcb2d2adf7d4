/** One interrupt source of a device: defined once in pcie-mmio's contracts (see ./pci.ts), re-exported as types. */
export type { Irq } from 'pcie-mmio/contracts';
