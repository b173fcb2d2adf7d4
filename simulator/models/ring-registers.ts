/** PKR-1 ring card register map and wire formats, as docs/hardware/ring-card.md states them (model side). */

export const RING_VENDOR_ID = 0x1ded;
export const RING_DEVICE_ID = 0x0a01;

export const MAGIC_VALUE = 0x474e4952;
export const VERSION_VALUE = 0x00010000;
export const CAPS_VALUE = 0x31f;
export const BAR0_SIZE = 0x10000;

/** §3.1–3.3 global registers. */
export const R = {
  MAGIC: 0x000,
  VERSION: 0x004,
  CAPS: 0x008,
  NUM_QUEUES: 0x00c,
  MAX_DEPTH: 0x010,
  NUM_KEY_SLOTS: 0x014,
  MAX_RSA_BITS: 0x018,
  NUM_ENGINES: 0x01c,
  DEV_CTRL: 0x020,
  DEV_STATUS: 0x024,
  DMA_FAULTS: 0x028,
  KCMD_ADDR_LO: 0x040,
  KCMD_ADDR_HI: 0x044,
  KCMD_LEN: 0x048,
  KCMD_SLOT: 0x04c,
  KCMD_OP: 0x050,
  KCMD_STATUS: 0x054,
} as const;

/** §3.4 queue-pair registers, relative to QUEUE_BASE + QUEUE_STRIDE·q. */
export const QUEUE_BASE = 0x1000;
export const QUEUE_STRIDE = 0x100;
export const Q = {
  SQ_BASE_LO: 0x00,
  SQ_BASE_HI: 0x04,
  CQ_BASE_LO: 0x08,
  CQ_BASE_HI: 0x0c,
  DEPTH: 0x10,
  CTRL: 0x14,
  STATUS: 0x18,
  SQ_TAIL: 0x1c,
  SQ_HEAD: 0x20,
  CQ_HEAD: 0x24,
  CQ_TAIL: 0x28,
  IRQ_CTRL: 0x2c,
  IRQ_VECTOR: 0x30,
} as const;

export const DEV_CTRL_ENABLE = 1;
export const DEV_CTRL_RESET = 2;
export const DEV_STATUS_READY = 1;
export const DEV_STATUS_RESETTING = 2;
export const DEV_STATUS_DMA_FAULT = 4;
export const Q_STATUS_ENABLED = 1;
export const Q_STATUS_CONFIG_ERROR = 2;
export const Q_STATUS_STALLED = 4;
export const IRQ_MASK = 1;

export const DESCRIPTOR_BYTES = 64;
export const COMPLETION_BYTES = 16;
export const FLAG_KEY_SLOT = 1;
export const PHASE = 1;

export const OP = {
  NOP: 0x00,
  RSA_PUBLIC: 0x01,
  RSA_PRIVATE_CRT: 0x02,
  ECDSA_SIGN: 0x03,
  ECDSA_VERIFY: 0x04,
  ECDH: 0x05,
} as const;

export const KCMD = { LOAD_RSA: 1, LOAD_EC: 2, ERASE: 3, ERASE_ALL: 4 } as const;

export const STATUS = {
  OK: 0,
  INVALID_OPCODE: 1,
  INVALID_OPERAND: 2,
  BAD_DESCRIPTOR: 3,
  KEY_SLOT_EMPTY: 4,
  DMA_FAULT: 5,
  ENGINE_ERROR: 6,
  UNSUPPORTED: 7,
  BUSY: 0xffff,
} as const;

export const CURVE_IDS = { 1: 'P-256', 2: 'P-384' } as const;
export const MIN_RSA_BITS = 512;
export const MAX_RSA_BITS = 4096;
export const MAX_DEPTH = 4096;
