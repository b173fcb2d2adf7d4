/** The keyring driver (Linux kernel keyrings over keyctl): re-exports only; the driver object is in driver.ts. */

export { KEYRING_PRIORITY, KeyringDevice, type KeyringDeviceOptions } from './device.js';
export { KEYRING_OPTIONS, keyringDriver } from './driver.js';
export type { KeyctlCalls, KeyDescription, PkeyQuery } from './keyctl.js';
