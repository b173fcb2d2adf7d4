/**
 * The window card's register map, transcribed from docs/hardware/window-card.md
 * for the device model. (The driver keeps its own transcription in
 * drivers/window/registers.ts: the layers may not share code, and two readings
 * of one datasheet is the point of having one.)
 */

export const PCI_VENDOR_ID = 0x1ded;
export const PCI_DEVICE_ID = 0x5749;
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

export const CAPS_MODEXP = 1 << 0;
export const CAPS_MODEXP_CRT = 1 << 1;
export const CAPS_ECMUL = 1 << 2;
export const CAPS_MODINV = 1 << 3;
export const CAPS_P256 = 1 << 8;
export const CAPS_P384 = 1 << 9;
export const CAPS_P521 = 1 << 10;
export const CAPS_ALL =
  CAPS_MODEXP | CAPS_MODEXP_CRT | CAPS_ECMUL | CAPS_MODINV | CAPS_P256 | CAPS_P384 | CAPS_P521;

export const GLOBAL_CTRL_SOFT_RESET = 1 << 0;
export const GLOBAL_STATUS_READY = 1 << 0;

/** Engine register blocks (§6). */
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

export const STATUS_IDLE = 0;
export const STATUS_BUSY = 1;
export const STATUS_DONE = 2;
export const STATUS_ERROR = 3;

export const ERR_BAD_OPCODE = 1;
export const ERR_BAD_LENGTH = 2;
export const ERR_BAD_OPERAND = 3;
export const ERR_NOT_ON_CURVE = 4;
export const ERR_AT_INFINITY = 5;
export const ERR_NOT_INVERTIBLE = 6;
export const ERR_INTERNAL = 7;

/** Operand windows (§7). */
export const WINDOW_BASE = 0x10000;
export const WINDOW_STRIDE = 0x2000;
export const SLOT_BYTES = 0x200;

export const OP_MODEXP = 0x01;
export const OP_MODEXP_CRT = 0x02;
export const OP_ECMUL = 0x03;
export const OP_MODINV = 0x04;

/** Values a garbage completion uses: a status no engine has, a length past the window. */
export const GARBAGE_STATUS = 9;
export const GARBAGE_RESULT_WORDS = 0xffff;

export function engineReg(engine: number, reg: number): number {
  return ENGINE_REG_BASE + ENGINE_REG_STRIDE * engine + reg;
}

export function slotOffset(engine: number, slot: number): number {
  return WINDOW_BASE + WINDOW_STRIDE * engine + SLOT_BYTES * slot;
}
