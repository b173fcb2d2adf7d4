/**
 * Numbers of the virtio-pci modern transport (VIRTIO 1.2 §4.1), the split
 * virtqueue (§2.7) and the crypto device's akcipher service, transcribed from
 * docs/hardware/virtio-crypto.md for the device model, with the names of the
 * driver's transcription (drivers/virtio-crypto/registers.ts); plus where this
 * model places the structures in its BAR (as QEMU does).
 */

export const VIRTIO_VENDOR_ID = 0x1af4;
/** 0x1040 + device ID 20 (crypto): a modern-only function. */
export const VIRTIO_CRYPTO_PCI_DEVICE_ID = 0x1054;

/** virtio_pci_cap.cfg_type (§4.1.4). */
export const VirtioPciCapType = { common: 1, notify: 2, isr: 3, device: 4, pci: 5 } as const;
export const PCI_CAP_ID_VENDOR = 0x09;

/** Where the structures are: BAR 4, as QEMU places them. */
export const BAR = 4;
export const BAR_SIZE = 0x4000;
export const COMMON = 0x0;
export const ISR = 0x1000;
export const DEVICE = 0x2000;
export const NOTIFY = 0x3000;
export const NOTIFY_MULTIPLIER = 4;

/** struct virtio_pci_common_cfg offsets (§4.1.4.3). */
export const CommonCfg = {
  deviceFeatureSelect: 0,
  deviceFeature: 4,
  driverFeatureSelect: 8,
  driverFeature: 12,
  configMsixVector: 16,
  numQueues: 18,
  deviceStatus: 20,
  configGeneration: 21,
  queueSelect: 22,
  queueSize: 24,
  queueMsixVector: 26,
  queueEnable: 28,
  queueNotifyOff: 30,
  queueDescLo: 32,
  queueDescHi: 36,
  queueDriverLo: 40,
  queueDriverHi: 44,
  queueDeviceLo: 48,
  queueDeviceHi: 52,
  /** The structure's size up to queue_device (what every modern device has). */
  size: 56,
} as const;

/** Device status bits (§2.1). */
export const Status = {
  acknowledge: 1,
  driver: 2,
  driverOk: 4,
  featuresOk: 8,
  deviceNeedsReset: 64,
  failed: 128,
} as const;

/** MSI-X "no vector" (§4.1.5.1.2). */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;

/** ISR status bits (§4.1.4.5). */
export const Isr = { queue: 1, config: 2 } as const;

/** Feature bits (§6). */
export const Feature = { version1: 32n } as const;

/** Split virtqueue descriptor flags (§2.7.5). */
export const Desc = { next: 1, write: 2 } as const;
export const DESC_SIZE = 16;
/** The largest split ring this model offers. */
export const MAX_QUEUE_SIZE = 1024;
/** A chain longer than this is a driver bug (loop); the device then needs a reset. */
export const MAX_CHAIN = 16;

/** struct virtio_crypto_config offsets (§5.9.4). */
export const CryptoCfg = {
  status: 0,
  maxDataQueues: 4,
  cryptoServices: 8,
  akcipherAlgo: 44,
  maxSize: 48,
  size: 56,
} as const;

export const VIRTIO_CRYPTO_S_HW_READY = 1;

/** Bit numbers in crypto_services. */
export const Service = { cipher: 0, hash: 1, mac: 2, aead: 3, akcipher: 4 } as const;

/** Bit numbers in akcipher_algo. */
export const AkcipherAlgo = { rsa: 1 } as const;

/** VIRTIO_CRYPTO_OPCODE(service, op) = service << 8 | op, service AKCIPHER = 4. */
export const Opcode = {
  encrypt: 0x0400,
  decrypt: 0x0401,
  sign: 0x0402,
  verify: 0x0403,
  createSession: 0x0404,
  destroySession: 0x0405,
} as const;

export const KeyType = { public: 1, private: 2 } as const;
export const RsaPadding = { raw: 0, pkcs1: 1 } as const;

/** VIRTIO_CRYPTO_RSA_* hash values. */
export const RsaHash = { none: 0, md5: 4, sha1: 5, sha256: 6, sha384: 7, sha512: 8, sha224: 9 } as const;

/** Status values of control and data requests. */
export const CryptoStatus = {
  ok: 0,
  err: 1,
  badmsg: 2,
  notsupp: 3,
  invsess: 4,
  nospc: 5,
  keyRejected: 6,
} as const;

/** Size of the device-readable header of every control and data request. */
export const REQUEST_HEADER_SIZE = 72;
/** Device-writable part of a session create: session_id (le64), status (le32), padding. */
export const CREATE_SESSION_INPUT_SIZE = 16;
