/**
 * The window card's register map, transcribed from docs/hardware/window-card.md
 * for the device model, with the same names as the driver's transcription
 * (drivers/window/registers.ts). The two are kept apart on purpose: the layers
 * may not share code, and two readings of one datasheet is the point of having one.
 */

export const WINDOW_VENDOR_ID = 0x1ded;
export const WINDOW_DEVICE_ID = 0x5749;
export const PCI_CLASS_CODE = 0x108000;

export const BAR0_SIZE = 0x40000;

/** Global registers (§5). */
export const REG = {
  ID: 0x000,
  VERSION: 0x004,
  ENGINES: 0x008,
  CAPS: 0x00c,
  MAX_WORDS: 0x010,
  WINDOW_BASE: 0x014,
  WINDOW_STRIDE: 0x018,
  ENGINE_REG_BASE: 0x01c,
  GLOBAL_CTRL: 0x020,
  GLOBAL_STATUS: 0x024,
  IRQ_STATUS: 0x028,
  IRQ_MASK: 0x02c,
} as const;

export const ID_MAGIC = 0x504b4157;
export const VERSION_1_0 = 0x00010000;
export const MAX_ENGINES = 16;
export const MAX_WORDS = 128;

export const CAPS = {
  MODEXP: 1 << 0,
  MODEXP_CRT: 1 << 1,
  ECMUL: 1 << 2,
  MODINV: 1 << 3,
  P256: 1 << 8,
  P384: 1 << 9,
  P521: 1 << 10,
} as const;
export const CAPS_ALL =
  CAPS.MODEXP | CAPS.MODEXP_CRT | CAPS.ECMUL | CAPS.MODINV | CAPS.P256 | CAPS.P384 | CAPS.P521;

export const GLOBAL_CTRL_SOFT_RESET = 1 << 0;
export const GLOBAL_STATUS_READY = 1 << 0;

/** Engine register blocks (§6): engine i at ENGINE_REG_BASE + ENGINE_REG_STRIDE·i. */
export const ENGINE_REG_BASE = 0x1000;
export const ENGINE_REG_STRIDE = 0x40;
export const ENGINE = {
  OPCODE: 0x00,
  LEN_A: 0x04,
  LEN_B: 0x08,
  CTRL: 0x0c,
  STATUS: 0x10,
  ERROR: 0x14,
  RESULT_WORDS: 0x18,
  OP_COUNT: 0x1c,
} as const;

export const CTRL_START = 1 << 0;
export const CTRL_RESET = 1 << 1;

/** STATUS values (§6.1). */
export const STATUS = { IDLE: 0, BUSY: 1, DONE: 2, ERROR: 3 } as const;

/** ERROR codes (§6.2). */
export const ERROR = {
  BAD_OPCODE: 1,
  BAD_LENGTH: 2,
  BAD_OPERAND: 3,
  NOT_ON_CURVE: 4,
  AT_INFINITY: 5,
  NOT_INVERTIBLE: 6,
  INTERNAL: 7,
} as const;

/** Operand windows (§7): 16 slots of 512 bytes per engine. */
export const WINDOW_BASE = 0x10000;
export const WINDOW_STRIDE = 0x2000;
export const SLOT_BYTES = 0x200;

/** Opcodes (§8). */
export const OP = { MODEXP: 0x01, MODEXP_CRT: 0x02, ECMUL: 0x03, MODINV: 0x04 } as const;

/** Slots of each operation (§8). */
export const SLOT = {
  X: 0,
  EXPONENT: 1,
  MODULUS: 2,
  RESULT: 3,
  RESULT_Y: 4,
  P: 4,
  Q: 5,
  DP: 6,
  DQ: 7,
  QINV: 8,
  PX: 0,
  PY: 1,
  SCALAR: 2,
  CURVE_P: 9,
  CURVE_A: 10,
  CURVE_B: 11,
  CURVE_N: 12,
} as const;

/** Values a garbage completion uses: a status no engine has, a length past the window. */
export const GARBAGE_STATUS = 9;
export const GARBAGE_RESULT_WORDS = 0xffff;

export function engineReg(engine: number, reg: number): number {
  return ENGINE_REG_BASE + ENGINE_REG_STRIDE * engine + reg;
}

export function slotOffset(engine: number, slot: number): number {
  return WINDOW_BASE + WINDOW_STRIDE * engine + SLOT_BYTES * slot;
}
