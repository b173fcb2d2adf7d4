/** The driver contracts: everything a driver module imports from core, besides core/platform. */
export * from './bytes.js';
export * from './capabilities.js';
export * from './curves.js';
export type * from './device.js';
export * from './errors.js';
export * from './key-store.js';
export * from './keys.js';
export * from './primitives.js';
export * from './probe-options.js';
export * from './service-estimate.js';
export * from './virtual-driver.js';
