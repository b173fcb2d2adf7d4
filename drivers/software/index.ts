/** The software provider (node:crypto): re-exports only; the driver object is in driver.ts. */

export { SOFTWARE_CAPABILITIES } from './capabilities.js';
export { SOFTWARE_PRIORITY, SoftwareDevice, type SoftwareDeviceOptions } from './device.js';
export { SOFTWARE_OPTIONS, softwareDriver } from './driver.js';
