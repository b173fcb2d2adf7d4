/** A register window: one BAR (or part of one) of a device: defined once in pcie-mmio's contracts (see ./pci.ts), re-exported as types. */
export type { Mmio } from 'pcie-mmio/contracts';
