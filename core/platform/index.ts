/** The contracts of what a driver gets from the machine (types: pcie-mmio's contracts module, see ./pci.ts). */
export type * from 'pcie-mmio/contracts';
export { parseDeviceSpec } from './pci.js';
export { spawnWorker } from './worker.js';
