/**
 * The package entry and composition root: the only module that imports every
 * layer. It registers the built-in drivers and platforms with core and
 * re-exports the public API.
 */
export * from './core/api/index.js';
export * from './core/driver/index.js';
export type * from './core/platform/index.js';
export { parseDeviceSpec } from './core/platform/index.js';
export { defaultRegistry, Registry, registerDriver, registerPlatform } from './core/registry/registry.js';

import { defaultRegistry } from './core/registry/registry.js';
import { virtioCryptoDriver } from './drivers/virtio-crypto/index.js';
import { windowDriver } from './drivers/window/index.js';

defaultRegistry.registerDriver(windowDriver);
defaultRegistry.registerDriver(virtioCryptoDriver);
