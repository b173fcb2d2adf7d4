/**
 * The window card model against its datasheet, register by register, through the
 * simulated platform's Mmio (no driver): identification, reset values, operand
 * word order, each opcode, error codes, interrupt status/mask semantics, resets.
 */

import { describe, expect, it } from 'vitest';
import { CURVES, type CurveParams } from '../../core/driver/index.js';
import { ecMultiply, modInv, modPow } from '../../core/math/index.js';
import type { Irq, Mmio } from '../../core/platform/index.js';
import type { SimPciFunction } from '../../simulator/function.js';
import {
  CAPS,
  CAPS_ALL,
  CTRL_RESET,
  CTRL_START,
  ENGINE,
  ERROR,
  engineReg,
  ID_MAGIC,
  OP,
  REG,
  STATUS,
  slotOffset,
  WINDOW_DEVICE_ID,
  WINDOW_VENDOR_ID,
} from '../../simulator/models/window/registers.js';
import { leBytes, rsaKey } from '../drivers/window/helpers.js';
import { openSimFunction } from '../support/sim.js';

async function card(query = ''): Promise<{ fn: SimPciFunction; mmio: Mmio }> {
  const fn = await openSimFunction(`sim:window?mode=inline${query ? `&${query}` : ''}`);
  return { fn, mmio: fn.bar(0) };
}

function put(mmio: Mmio, engine: number, slot: number, words: number, value: bigint): void {
  mmio.writeBlock(slotOffset(engine, slot), leBytes(value, words * 4));
}

/** ECMUL's curve parameters on engine 0: p, a, b, n in slots 9 to 12. */
function putCurve(mmio: Mmio, curve: CurveParams, words: number): void {
  for (const [slot, v] of [
    [9, curve.p],
    [10, curve.a],
    [11, curve.b],
    [12, curve.n],
  ] as const)
    put(mmio, 0, slot, words, v);
}

function get(mmio: Mmio, engine: number, slot: number, words: number): bigint {
  const bytes = new Uint8Array(words * 4);
  mmio.readBlock(slotOffset(engine, slot), bytes);
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

function start(mmio: Mmio, engine: number, opcode: number, lenA: number, lenB: number): void {
  mmio.write32(engineReg(engine, ENGINE.OPCODE), opcode);
  mmio.write32(engineReg(engine, ENGINE.LEN_A), lenA);
  mmio.write32(engineReg(engine, ENGINE.LEN_B), lenB);
  mmio.write32(engineReg(engine, ENGINE.CTRL), CTRL_START);
}

/** Let the inline model's scheduled work run until the engine leaves BUSY. */
async function settle(mmio: Mmio, engine: number, tries = 10_000): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const status = mmio.read32(engineReg(engine, ENGINE.STATUS));
    if (status !== STATUS.BUSY) return status;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error('engine stayed BUSY');
}

describe('window model: identification and reset values (§5, §6)', () => {
  it('has the datasheet identity, registers and reset values', async () => {
    const { fn, mmio } = await card('engines=3');
    expect(fn.info.vendorId).toBe(WINDOW_VENDOR_ID);
    expect(fn.info.deviceId).toBe(WINDOW_DEVICE_ID);
    expect(fn.irqSupport).toEqual({ kind: 'msi', vectors: 1 });
    expect(mmio.size).toBe(0x40000);
    expect(mmio.read32(REG.ID)).toBe(ID_MAGIC);
    expect(mmio.read32(REG.VERSION)).toBe(0x00010000);
    expect(mmio.read32(REG.ENGINES)).toBe(3);
    expect(mmio.read32(REG.CAPS)).toBe(CAPS_ALL);
    expect(mmio.read32(REG.MAX_WORDS)).toBe(128);
    expect(mmio.read32(REG.WINDOW_BASE)).toBe(0x10000);
    expect(mmio.read32(REG.WINDOW_STRIDE)).toBe(0x2000);
    expect(mmio.read32(REG.ENGINE_REG_BASE)).toBe(0x1000);
    expect(mmio.read32(REG.GLOBAL_STATUS)).toBe(1);
    expect(mmio.read32(REG.IRQ_STATUS)).toBe(0);
    expect(mmio.read32(REG.IRQ_MASK)).toBe(0xffffffff);
    for (let e = 0; e < 3; e++) expect(mmio.read32(engineReg(e, ENGINE.STATUS))).toBe(STATUS.IDLE);
    // Read-only registers ignore writes; engine blocks past N do not exist.
    mmio.write32(REG.ID, 0);
    mmio.write32(engineReg(3, ENGINE.OPCODE), 5);
    expect(mmio.read32(REG.ID)).toBe(ID_MAGIC);
    expect(mmio.read32(engineReg(3, ENGINE.OPCODE))).toBe(0);
  });

  it('takes its options: curves narrows CAPS, irq=none drops the vector, bad values are refused', async () => {
    const { fn, mmio } = await card('curves=P-256&irq=none&engines=1');
    expect(mmio.read32(REG.CAPS) & 0x700).toBe(CAPS.P256);
    expect(fn.irqSupport.kind).toBe('none');
    await expect(card('engines=17')).rejects.toThrow(/engines/);
    await expect(card('engine=fast')).rejects.toThrow(/engine=fast/);
    await expect(card('engine=timed&service=-1')).rejects.toThrow(/service=-1/);
  });
});

describe('window model: operations (§8)', () => {
  it('MODEXP reads little-endian words, least significant first, and writes the result in slot 3', async () => {
    const { mmio } = await card();
    const m = (1n << 127n) - 1n; // odd, 4 words
    const x = 0x0123456789abcdef_fedcba9876543210n % m;
    const e = 65537n;
    // Word order by hand: word 0 at slot offset 0 holds the low 32 bits.
    for (let w = 0; w < 4; w++) {
      mmio.write32(slotOffset(0, 0) + 4 * w, Number((x >> BigInt(32 * w)) & 0xffffffffn));
      mmio.write32(slotOffset(0, 2) + 4 * w, Number((m >> BigInt(32 * w)) & 0xffffffffn));
    }
    mmio.write32(slotOffset(0, 1), 65537);
    start(mmio, 0, OP.MODEXP, 4, 1);
    expect(mmio.read32(engineReg(0, ENGINE.STATUS))).toBe(STATUS.BUSY);
    expect(await settle(mmio, 0)).toBe(STATUS.DONE);
    expect(mmio.read32(engineReg(0, ENGINE.RESULT_WORDS))).toBe(4);
    expect(get(mmio, 0, 3, 4)).toBe(modPow(x, e, m));
    expect(mmio.read32(engineReg(0, ENGINE.OP_COUNT))).toBe(1);
  });

  it('MODEXP_CRT computes c^d mod n from p, q, dP, dQ, qInv', async () => {
    const { mmio } = await card();
    const { material: k } = rsaKey(1024);
    const c = 0xdeadbeefn ** 20n % k.n;
    put(mmio, 1, 0, 32, c);
    put(mmio, 1, 4, 16, k.p);
    put(mmio, 1, 5, 16, k.q);
    put(mmio, 1, 6, 16, k.dp);
    put(mmio, 1, 7, 16, k.dq);
    put(mmio, 1, 8, 16, k.qi);
    start(mmio, 1, OP.MODEXP_CRT, 32, 16);
    expect(await settle(mmio, 1)).toBe(STATUS.DONE);
    expect(get(mmio, 1, 3, 32)).toBe(modPow(c, k.d, k.n));
  });

  it('ECMUL multiplies on each curve with the parameters the host wrote', async () => {
    const { mmio } = await card();
    for (const curve of Object.values(CURVES)) {
      const words = Math.ceil(curve.bytes / 4);
      const k = (curve.n - 12345n) / 3n;
      putCurve(mmio, curve, words);
      put(mmio, 0, 0, words, curve.gx);
      put(mmio, 0, 1, words, curve.gy);
      put(mmio, 0, 2, words, k);
      start(mmio, 0, OP.ECMUL, words, words);
      expect(await settle(mmio, 0)).toBe(STATUS.DONE);
      const want = ecMultiply(curve, k)!;
      expect({ x: get(mmio, 0, 3, words), y: get(mmio, 0, 4, words) }).toEqual(want);
    }
  });

  it('MODINV inverts, and reports NOT_INVERTIBLE for a shared factor', async () => {
    const { mmio } = await card();
    put(mmio, 0, 0, 1, 17n);
    put(mmio, 0, 2, 1, 3120n);
    start(mmio, 0, OP.MODINV, 1, 1);
    expect(await settle(mmio, 0)).toBe(STATUS.DONE);
    expect(get(mmio, 0, 3, 1)).toBe(modInv(17n, 3120n));
    put(mmio, 0, 0, 1, 15n);
    start(mmio, 0, OP.MODINV, 1, 1);
    expect(await settle(mmio, 0)).toBe(STATUS.ERROR);
    expect(mmio.read32(engineReg(0, ENGINE.ERROR))).toBe(ERROR.NOT_INVERTIBLE);
  });

  it('reports BAD_OPCODE, BAD_LENGTH, BAD_OPERAND and NOT_ON_CURVE', async () => {
    const { mmio } = await card('curves=P-256');
    const error = async (opcode: number, lenA: number, lenB: number) => {
      start(mmio, 0, opcode, lenA, lenB);
      expect(await settle(mmio, 0)).toBe(STATUS.ERROR);
      return mmio.read32(engineReg(0, ENGINE.ERROR));
    };
    expect(await error(9, 1, 1)).toBe(ERROR.BAD_OPCODE);
    expect(await error(OP.MODEXP, 0, 1)).toBe(ERROR.BAD_LENGTH);
    expect(await error(OP.MODEXP, 129, 1)).toBe(ERROR.BAD_LENGTH);
    put(mmio, 0, 2, 1, 10n); // even modulus
    expect(await error(OP.MODEXP, 1, 1)).toBe(ERROR.BAD_OPERAND);
    // P-384 parameters on a card that only has P-256.
    putCurve(mmio, CURVES['P-384'], 12);
    put(mmio, 0, 2, 12, 5n);
    expect(await error(OP.ECMUL, 12, 12)).toBe(ERROR.BAD_OPERAND);
    const p256 = CURVES['P-256'];
    putCurve(mmio, p256, 8);
    put(mmio, 0, 0, 8, p256.gx);
    put(mmio, 0, 1, 8, p256.gy + 1n);
    put(mmio, 0, 2, 8, 5n);
    expect(await error(OP.ECMUL, 8, 8)).toBe(ERROR.NOT_ON_CURVE);
    // Errors do not count as completed operations.
    expect(mmio.read32(engineReg(0, ENGINE.OP_COUNT))).toBe(0);
  });

  it('null engine echoes the input at once', async () => {
    const { mmio } = await card('engine=null');
    put(mmio, 0, 0, 1, 5n);
    put(mmio, 0, 2, 1, 7n);
    start(mmio, 0, OP.MODEXP, 1, 1);
    expect(await settle(mmio, 0)).toBe(STATUS.DONE);
    expect(get(mmio, 0, 3, 1)).toBe(5n);
  });

  it('timed engine completes with the right result after its modeled service time', async () => {
    const { mmio } = await card('engine=timed&service=2');
    put(mmio, 0, 0, 1, 5n);
    put(mmio, 0, 1, 1, 3n);
    put(mmio, 0, 2, 1, 7n);
    start(mmio, 0, OP.MODEXP, 1, 1);
    expect(await settle(mmio, 0)).toBe(STATUS.DONE);
    expect(get(mmio, 0, 3, 1)).toBe(125n % 7n);
  });
});

describe('window model: interrupts (§9) and resets (§6.3, §10)', () => {
  async function nextEvents(irq: Irq): Promise<number> {
    return irq.wait(AbortSignal.timeout(10_000));
  }

  it('sets IRQ_STATUS whatever the mask, signals only unmasked engines, and W1C clears', async () => {
    const { fn, mmio } = await card();
    const irq = fn.openIrq(0);
    put(mmio, 0, 0, 1, 2n);
    put(mmio, 0, 1, 1, 3n);
    put(mmio, 0, 2, 1, 11n);
    // Masked (reset state): the bit is set, no message.
    start(mmio, 0, OP.MODEXP, 1, 1);
    await settle(mmio, 0);
    expect(mmio.read32(REG.IRQ_STATUS)).toBe(0b1);
    // Unmasking a pending engine sends exactly one message.
    mmio.write32(REG.IRQ_MASK, ~0b1);
    expect(await nextEvents(irq)).toBe(1);
    // W1C: writing 0 changes nothing, writing the bit clears it.
    mmio.write32(REG.IRQ_STATUS, 0);
    expect(mmio.read32(REG.IRQ_STATUS)).toBe(0b1);
    mmio.write32(REG.IRQ_STATUS, 0b1);
    expect(mmio.read32(REG.IRQ_STATUS)).toBe(0);
    // Engine 1 is still masked, engine 0 is not: two completions, one message.
    for (const e of [1, 0]) {
      put(mmio, e, 0, 1, 2n);
      put(mmio, e, 1, 1, 3n);
      put(mmio, e, 2, 1, 11n);
      start(mmio, e, OP.MODEXP, 1, 1);
      await settle(mmio, e);
    }
    expect(mmio.read32(REG.IRQ_STATUS)).toBe(0b11);
    expect(await nextEvents(irq)).toBe(1);
    irq.close();
  });

  it('engine RESET aborts a running operation, zeroes the window and clears the engine bit', async () => {
    const { mmio } = await card('faults=hang@1');
    put(mmio, 0, 0, 1, 2n);
    put(mmio, 0, 2, 1, 11n);
    start(mmio, 0, OP.MODEXP, 1, 1);
    expect(await settle(mmio, 0, 20).catch(() => 'busy')).toBe('busy');
    mmio.write32(engineReg(0, ENGINE.CTRL), CTRL_RESET);
    expect(mmio.read32(engineReg(0, ENGINE.STATUS))).toBe(STATUS.IDLE);
    expect(get(mmio, 0, 0, 1)).toBe(0n);
    expect(get(mmio, 0, 2, 1)).toBe(0n);
    expect(mmio.read32(engineReg(0, ENGINE.OPCODE))).toBe(OP.MODEXP);
  });

  it('SOFT_RESET zeroes every window and masks interrupts again', async () => {
    const { mmio } = await card();
    put(mmio, 1, 15, 128, (1n << 4000n) - 1n);
    mmio.write32(REG.IRQ_MASK, 0);
    mmio.write32(REG.GLOBAL_CTRL, 1);
    expect(mmio.read32(REG.GLOBAL_STATUS)).toBe(1);
    expect(get(mmio, 1, 15, 128)).toBe(0n);
    expect(mmio.read32(REG.IRQ_MASK)).toBe(0xffffffff);
  });
});
