/**
 * PKR-1 ring card register map and wire-format constants (docs/hardware/ring-card.md §1–§6),
 * driver side. The model keeps its own copy (simulator/models/ring/registers.ts), derived from
 * the same datasheet, with the same names: a deliberate duplicate (the driver must not import
 * the simulator, and two readings of the datasheet that disagree are a bug a test finds —
 * test/simulator/ring-model.test.ts compares them).
 */

export const PKR1_VENDOR_ID = 0x1ded;
export const PKR1_DEVICE_ID = 0x0a01;

/** §3.1 `MAGIC`: ASCII "RING". */
export const MAGIC = 0x474e4952;
/** §3.1 `VERSION`: programming model 1.1 (major in bits 31:16, minor in 15:0). */
export const VERSION = 0x00010001;
export const VERSION_MAJOR = VERSION >>> 16;
export const VERSION_MINOR = VERSION & 0xffff;

/** §3.1–§3.3 global registers (BAR0 offsets). */
export const REG = {
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

/** §3.4 queue-pair registers: at QUEUE_BASE + QUEUE_STRIDE·q. */
export const QUEUE_BASE = 0x1000;
export const QUEUE_STRIDE = 0x100;
export const QREG = {
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

/** BAR0 offset of register `reg` of queue pair `q`. */
export function queueReg(q: number, reg: number): number {
  return QUEUE_BASE + QUEUE_STRIDE * q + reg;
}

/** §3.1 `CAPS` bits. */
export const CAPS_BIT = {
  RSA_PUBLIC: 1 << 0,
  RSA_PRIVATE_CRT: 1 << 1,
  ECDSA_SIGN: 1 << 2,
  ECDSA_VERIFY: 1 << 3,
  ECDH: 1 << 4,
  RSA_VERIFY: 1 << 5,
  P256: 1 << 8,
  P384: 1 << 9,
} as const;

export const DEV_CTRL_ENABLE = 1;
export const DEV_CTRL_RESET = 2;
export const DEV_STATUS_READY = 1;
export const DEV_STATUS_RESETTING = 2;
export const DEV_STATUS_DMA_FAULT = 4;
export const Q_CTRL_ENABLE = 1;
export const Q_STATUS_ENABLED = 1;
export const Q_STATUS_CONFIG_ERROR = 2;
export const Q_STATUS_STALLED = 4;
export const IRQ_CTRL_MASK = 1;

/** §4.1 submission descriptor: size and field offsets. */
export const DESCRIPTOR_BYTES = 64;
export const DESC = {
  OPCODE: 0x00,
  FLAGS: 0x01,
  KEY_SLOT: 0x02,
  TAG: 0x04,
  SRC_ADDR: 0x08,
  SRC_LEN: 0x10,
  DST_ADDR: 0x18,
  DST_LEN: 0x20,
  KEY_ADDR: 0x28,
  KEY_LEN: 0x30,
  PARAM: 0x34,
} as const;
export const DESC_FLAG_KEY_SLOT = 1;

/** §4.2 completion: size and field offsets. */
export const COMPLETION_BYTES = 16;
export const CQE = { TAG: 0x00, STATUS: 0x04, FLAGS: 0x06, RESULT_LEN: 0x08, SQ_HEAD: 0x0c } as const;
export const COMPLETION_PHASE = 1;

/** §4.3 opcodes. */
export const OPCODE = {
  NOP: 0x00,
  RSA_PUBLIC: 0x01,
  RSA_PRIVATE_CRT: 0x02,
  ECDSA_SIGN: 0x03,
  ECDSA_VERIFY: 0x04,
  ECDH: 0x05,
  RSA_VERIFY: 0x06,
} as const;

/** §4.4 byte 1 of an `ECDSA_VERIFY` result: what the x field holds. */
export const WITNESS_FLAGS = { POINT: 0x00, INFINITY: 0x01, NOT_COMPUTED: 0x02 } as const;

/** §4.3 `RSA_VERIFY` padding block: its size, scheme and hash IDs. */
export const RSA_PAD_BLOCK_BYTES = 8;
export const RSA_PAD_SCHEME = { PKCS1_V15: 1, PSS: 2 } as const;
export const HASH_ID = { 'SHA-1': 1, 'SHA-256': 2, 'SHA-384': 3, 'SHA-512': 4 } as const;

/** §6 key-slot commands. */
export const KCMD = { LOAD_RSA: 1, LOAD_EC: 2, ERASE: 3, ERASE_ALL: 4 } as const;

/** §5 status codes. */
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

/** The highest status a completion may carry; anything above it means the card is broken. */
export const MAX_COMPLETION_STATUS = STATUS.UNSUPPORTED;

/** §4.1 `param` curve IDs. */
export const CURVE_ID = { 'P-256': 1, 'P-384': 2 } as const;

/** §2 limits. */
export const MIN_RSA_BITS = 512;
export const MAX_RSA_BITS = 4096;
export const MAX_DEPTH = 4096;
