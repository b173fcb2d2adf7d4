/** The virtio-crypto driver (OASIS VIRTIO crypto device, akcipher service). */
export { VIRTIO_CRYPTO_PCI_DEVICE_ID, VIRTIO_VENDOR_ID } from './constants.js';
export { encodeRsaPrivateKey, encodeRsaPublicKey } from './der.js';
export { VirtioCryptoDevice } from './device.js';
export { virtioCryptoDriver } from './driver.js';
