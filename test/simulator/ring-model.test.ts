/**
 * The ring card model against its datasheet at register level (no driver):
 * reset values, queue configuration checks, interrupt masking and coalescing,
 * key-slot commands, DMA faults.
 */
import { describe, expect, it } from 'vitest';
import { bytesToBigint } from '../../core/driver/bytes.js';
import { CURVES } from '../../core/driver/curves.js';
import { ecMultiply } from '../../core/math/index.js';
import * as driverRegisters from '../../drivers/ring/registers.js';
import type { SimPciFunction } from '../../simulator/function.js';
import * as modelRegisters from '../../simulator/models/ring/registers.js';
import { EcSlotKey, multiply } from '../../simulator/pk-math.js';
import { openSimFunction } from '../support/sim.js';

function open(options = ''): Promise<SimPciFunction> {
  return openSimFunction(`sim:ring?mode=inline${options}`);
}

const Q0 = 0x1000;
const settle = () => new Promise((r) => setTimeout(r, 15));

/** Program queue 0 with `depth` entries; returns its rings. */
function programQueue(fn: SimPciFunction, depth: number, irqCtrl: number) {
  const bar = fn.bar(0);
  const sq = fn.dma.allocate(64 * depth, { align: 4096 });
  const cq = fn.dma.allocate(16 * depth, { align: 4096 });
  bar.write64(Q0 + 0x00, sq.busAddress);
  bar.write64(Q0 + 0x08, cq.busAddress);
  bar.write32(Q0 + 0x10, depth);
  bar.write32(Q0 + 0x14, 1);
  bar.write32(Q0 + 0x2c, irqCtrl);
  bar.write32(0x020, 1);
  return { bar, sq, cq };
}

describe('ring card model (registers)', () => {
  it('identification registers and reset values', async () => {
    const fn = await open('&queues=6&slots=10&engines=3');
    const bar = fn.bar(0);
    expect(bar.read32(0x000)).toBe(0x474e4952);
    expect(bar.read32(0x004)).toBe(0x00010001); // 1.1: witnesses, whole ECDH point, RSA_VERIFY
    expect(bar.read32(0x008)).toBe(0x33f);
    expect(bar.read32(0x00c)).toBe(6);
    expect(bar.read32(0x010)).toBe(4096);
    expect(bar.read32(0x014)).toBe(10);
    expect(bar.read32(0x018)).toBe(4096);
    expect(bar.read32(0x01c)).toBe(3);
    expect(bar.read32(0x024) & 1).toBe(1);
    expect(bar.read32(Q0 + 0x2c)).toBe(1); // IRQ_CTRL masked at reset
    expect(bar.read32(Q0 + 0x100 * 5 + 0x30)).toBe(5); // IRQ_VECTOR
    expect(fn.irqSupport).toEqual({ kind: 'msix', vectors: 6 });
  });

  it('refuses a bad queue configuration (depth not a power of two, zero base)', async () => {
    const fn = await open();
    const bar = fn.bar(0);
    bar.write32(Q0 + 0x10, 6);
    bar.write32(Q0 + 0x14, 1);
    expect(bar.read32(Q0 + 0x18)).toBe(2); // CONFIG_ERROR, not ENABLED
  });

  it('completions carry the tag, status and phase; the phase flips on wrap', async () => {
    const fn = await open();
    const { bar, sq, cq } = programQueue(fn, 2, 0);
    const view = new DataView(cq.bytes.buffer, cq.bytes.byteOffset, 32);
    const sqView = new DataView(sq.bytes.buffer, sq.bytes.byteOffset, 128);
    sqView.setUint32(4, 0xaaaa, true); // NOP, tag 0xaaaa
    bar.write32(Q0 + 0x1c, 1);
    await settle();
    expect(view.getUint32(0, true)).toBe(0xaaaa);
    expect(view.getUint16(4, true)).toBe(0);
    expect(view.getUint16(6, true) & 1).toBe(1);
    bar.write32(Q0 + 0x24, 1); // CQ_HEAD
    sqView.setUint32(64 + 4, 0xbbbb, true);
    sqView.setUint8(64, 0x77); // unknown opcode
    bar.write32(Q0 + 0x1c, 0);
    await settle();
    expect(view.getUint32(16, true)).toBe(0xbbbb);
    expect(view.getUint16(20, true)).toBe(1); // INVALID_OPCODE
    expect(view.getUint16(22, true) & 1).toBe(1);
    bar.write32(Q0 + 0x24, 0);
    sqView.setUint8(0, 0);
    sqView.setUint32(4, 0xcccc, true);
    bar.write32(Q0 + 0x1c, 1);
    await settle();
    expect(view.getUint32(0, true)).toBe(0xcccc);
    expect(view.getUint16(6, true) & 1).toBe(0); // second pass: phase 0
  });

  it('masked interrupts do not fire; unmasking fires for what completed meanwhile', async () => {
    const fn = await open();
    const { bar } = programQueue(fn, 8, 1);
    const irq = fn.openIrq(0);
    bar.write32(Q0 + 0x1c, 3); // three NOPs
    await settle();
    let fired = false;
    const wait = irq.wait().then((n) => {
      fired = true;
      return n;
    });
    await settle();
    expect(fired).toBe(false);
    bar.write32(Q0 + 0x2c, 0);
    expect(await wait).toBe(1);
  });

  it('coalescing: one interrupt per COALESCE_COUNT completions, the timer covers the rest', async () => {
    const fn = await open();
    const { bar } = programQueue(fn, 16, (2000 << 16) | (4 << 8)); // count 4, 2 ms
    const irq = fn.openIrq(0);
    bar.write32(Q0 + 0x1c, 8); // eight NOPs → two interrupts by count
    expect(await irq.wait()).toBeGreaterThanOrEqual(1);
    await settle();
    bar.write32(Q0 + 0x24, 8);
    bar.write32(Q0 + 0x1c, 9); // one more: below the count, the 2 ms timer fires it
    const events = await irq.wait(AbortSignal.timeout(1000));
    expect(events).toBeGreaterThanOrEqual(1);
  });

  it('DMA outside host memory: DMA_FAULT status, DEV_STATUS.DMA_FAULT and the counter set', async () => {
    const fn = await open();
    const { bar, sq, cq } = programQueue(fn, 4, 0);
    const d = new DataView(sq.bytes.buffer, sq.bytes.byteOffset, 64);
    d.setUint8(0, 0x01); // RSA_PUBLIC with operands nowhere
    d.setUint32(4, 1, true);
    d.setBigUint64(0x28, 0xdead_0000n, true);
    d.setUint32(0x30, 128, true);
    d.setUint32(0x10, 64, true);
    d.setUint32(0x20, 64, true);
    d.setUint16(0x34, 64, true);
    bar.write32(Q0 + 0x1c, 1);
    await settle();
    const c = new DataView(cq.bytes.buffer, cq.bytes.byteOffset, 16);
    expect(c.getUint16(4, true)).toBe(5);
    expect(bar.read32(0x024) & 4).toBe(4);
    expect(bar.read32(0x028)).toBe(1);
    expect(fn.sim.dmaFaults).toBe(1);
  });

  it('key commands: bad slot and bad blob are refused; function reset clears everything', async () => {
    const fn = await open('&slots=4');
    const bar = fn.bar(0);
    const blob = fn.dma.allocate(64);
    blob.bytes[0] = 1; // P-256
    blob.bytes[32] = 5; // d = 5 (31 zero bytes then 0x05 at the end)
    blob.bytes.copyWithin(32, 32);
    bar.write64(0x040, blob.busAddress);
    bar.write32(0x048, 33);
    bar.write32(0x04c, 9);
    bar.write32(0x050, 2);
    expect(bar.read32(0x054) & 0xffff).toBe(4); // KEY_SLOT_EMPTY: slot out of range
    bar.write32(0x04c, 1);
    bar.write32(0x048, 20);
    bar.write32(0x050, 2);
    expect(bar.read32(0x054) & 0xffff).toBe(2); // wrong length
    bar.write32(0x048, 33);
    bar.write32(0x050, 2);
    const ok = bar.read32(0x054);
    expect(ok & 0xffff).toBe(0);
    expect(ok >>> 16).toBe(3); // third command finished
    bar.write32(0x020, 2); // function-level reset
    expect(bar.read32(0x054)).toBe(0);
    expect(bar.read32(0x04c)).toBe(0);
    expect(bar.read32(0x024) & 1).toBe(1);
  });
});

describe('ring card register maps', () => {
  it('the driver and the model read the datasheet the same way: every shared name has the same value', () => {
    const driver = driverRegisters as Record<string, unknown>;
    const model = modelRegisters as Record<string, unknown>;
    const shared = Object.keys(driver).filter((name) => Object.hasOwn(model, name));
    // Everything the driver has, the model has too (the model adds only BAR0_SIZE, CAPS_VALUE, CURVE_BY_ID, HASH_BY_ID).
    expect(Object.keys(driver).filter((name) => !Object.hasOwn(model, name))).toEqual([]);
    expect(shared.length).toBeGreaterThan(30);
    for (const name of shared) {
      const a = driver[name];
      const b = model[name];
      if (typeof a === 'function' && typeof b === 'function') {
        for (const q of [0, 1, 5])
          for (const reg of [0, 0x1c, 0x30])
            expect((b as (q: number, r: number) => number)(q, reg), name).toBe(
              (a as (q: number, r: number) => number)(q, reg),
            );
      } else {
        expect(b, name).toEqual(a);
      }
    }
  });
});

describe('ring card engine math (simulator/pk-math.ts)', () => {
  it('multiply (OpenSSL with y recovered) equals core/math ecMultiply, edge scalars included', () => {
    for (const name of ['P-256', 'P-384'] as const) {
      const curve = CURVES[name];
      const Q = ecMultiply(curve, 0x1234_5678_9abc_def0n)!;
      const scalars = [1n, 2n, 3n, curve.n - 1n, curve.n - 2n, curve.n, curve.n + 5n, 0n];
      for (let i = 0; i < 12; i++) scalars.push((curve.n * BigInt(i * 7919 + 1)) / 104729n + BigInt(i));
      for (const k of scalars) {
        expect(multiply(curve, k, Q), `${name} k=${k}`).toEqual(ecMultiply(curve, k, Q));
        expect(multiply(curve, k), `${name} k=${k}·G`).toEqual(ecMultiply(curve, k));
      }
    }
  });

  it("a slot key's ECDH (its contexts keyed once) returns d·P whole, as ecMultiply gives it, call after call", () => {
    for (const name of ['P-256', 'P-384'] as const) {
      const curve = CURVES[name];
      const L = curve.bytes;
      for (const d of [1n, 2n, 0xdead_beefn, curve.n / 3n, curve.n - 2n, curve.n - 1n]) {
        const key = new EcSlotKey(name, d);
        for (const e of [7n, 0x1234_5678_9abc_def0n, 7n]) {
          const P = ecMultiply(curve, e)!;
          const shared = ecMultiply(curve, d, P)!;
          const out = key.ecdh(P.x, P.y);
          expect(bytesToBigint(out.subarray(0, L)), `${name} d=${d} e=${e} x`).toBe(shared.x);
          expect(bytesToBigint(out.subarray(L)), `${name} d=${d} e=${e} y`).toBe(shared.y);
        }
      }
    }
  });
});
