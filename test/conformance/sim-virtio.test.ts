/**
 * Wycheproof on the virtio-crypto driver over sim:virtio, both as the spec
 * describes the device and as QEMU 7.2 behaves (RSA PKCS#1 v1.5 only; the rest is
 * unsupported on this device and counted as such).
 */
import { defaultRegistry } from '../../core/registry/registry.js';
import { virtioCryptoDriver } from '../../drivers/virtio-crypto/index.js';
import { simulatorPlatform } from '../../simulator/platform.js';
import { defineWycheproofSuite } from './wycheproof.js';

// Registering again replaces by name, so this holds whether or not the package entry already did it.
defaultRegistry.registerPlatform(simulatorPlatform);
defaultRegistry.registerDriver(virtioCryptoDriver);

defineWycheproofSuite('sim:virtio?mode=inline', { allowUnsupported: true });
defineWycheproofSuite('sim:virtio?mode=inline&profile=qemu-7.2', { allowUnsupported: true });
