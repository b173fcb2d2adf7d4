/** The virtio-crypto driver (OASIS VIRTIO crypto device, akcipher service). Re-exports only. */
export { encodeRsaPrivateKey, encodeRsaPublicKey } from './der.js';
export { VirtioCryptoDevice } from './device.js';
export { VIRTIO_PROBE_OPTIONS, virtioCryptoDriver } from './driver.js';
export { VIRTIO_CRYPTO_PCI_DEVICE_ID, VIRTIO_VENDOR_ID } from './registers.js';
