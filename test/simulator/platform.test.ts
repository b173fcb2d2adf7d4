import { describe, expect, it } from 'vitest';
import { DeviceGoneError } from '../../core/driver/errors.js';
import { parseDeviceSpec } from '../../core/platform/pci.js';
import { Registry } from '../../core/registry/registry.js';
import { ringDriver } from '../../drivers/ring/index.js';
import type { SimPciFunction } from '../../simulator/function.js';
import { SimulatorPlatform } from '../../simulator/platform.js';
import { closeAfterEach } from '../support/sim.js';

const platform = new SimulatorPlatform();
async function open(spec: string): Promise<SimPciFunction> {
  return closeAfterEach(await platform.open(parseDeviceSpec(spec)));
}

describe('simulator platform', () => {
  it('is the fallback platform with one ring and one window card by default', async () => {
    expect(platform.isFallback).toBe(true);
    expect(platform.schemes).toEqual(['sim']);
    expect(await platform.defaultSpecs()).toEqual(['sim:ring', 'sim:window']);
  });

  it('auto: never a simulated card; with simulateWhenNoCard and no hardware, one ring and one window card', async () => {
    const registry = new Registry();
    registry.registerPlatform(platform);
    registry.registerDriver(ringDriver);
    expect(await registry.autoSpecs()).toEqual({ specs: [], cards: 0, simulated: [] });
    expect(await registry.autoSpecs(undefined, { simulateWhenNoCard: true })).toEqual({
      specs: ['sim:ring', 'sim:window'],
      cards: 0,
      simulated: ['sim:ring', 'sim:window'],
    });
  });

  it('rejects bad options before starting a model, naming them', async () => {
    await expect(open('sim:ring?engine=fast')).rejects.toThrow(/engine=fast/);
    await expect(open('sim:ring?faults=explode:0.5')).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(open('sim:ring?faults=hang@0')).rejects.toThrow(/count from 1/);
    await expect(open('sim:ring?depth=3000')).rejects.toThrow(/depth=3000/);
    await expect(open('sim:ring?mode=sideways')).rejects.toThrow(/mode "sideways"/);
  });

  it('rejects an unknown model with a message naming it', async () => {
    await expect(open('sim:nosuch')).rejects.toThrow(/no simulated device model "nosuch"/);
  });

  for (const mode of ['inline', 'worker'] as const) {
    describe(`${mode} mode`, () => {
      it('opens a ring card: identity, config space, register reads', async () => {
        const fn = await open(`sim:ring?mode=${mode}`);
        expect(fn.info.vendorId).toBe(0x1ded);
        expect(fn.info.address).toMatch(/^sim:ring#\d+$/);
        expect(fn.config.read16(0)).toBe(0x1ded);
        expect(fn.config.read16(2)).toBe(0x0a01);
        const bar = fn.bar(0);
        expect(bar.read32(0)).toBe(0x474e4952);
        expect(bar.read32(0x0c)).toBe(4);
      });

      it('applies posted writes in order before a read (a read flushes the FIFO)', async () => {
        const fn = await open(`sim:ring?mode=${mode}`);
        const bar = fn.bar(0);
        for (let i = 0; i < 3000; i++) bar.write32(0x04c, i); // KCMD_SLOT: more writes than the FIFO holds
        expect(bar.read32(0x04c)).toBe(2999);
        bar.write64(0x040, 0x1_2345_6789n);
        expect(bar.read32(0x040)).toBe(0x2345_6789);
        expect(bar.read32(0x044)).toBe(1);
      });

      it('checks bounds and alignment of register accesses', async () => {
        const fn = await open(`sim:ring?mode=${mode}`);
        const bar = fn.bar(0);
        expect(() => bar.read32(2)).toThrow(RangeError);
        expect(() => bar.read32(bar.size)).toThrow(RangeError);
        expect(() => bar.write32(-4, 0)).toThrow(RangeError);
        expect(() => fn.bar(3)).toThrow(/no BAR 3/);
      });

      it('surprise removal: all-ones reads and `removed` resolves', async () => {
        const fn = await open(`sim:ring?mode=${mode}`);
        fn.sim.removeNow();
        await fn.removed;
        expect(fn.bar(0).read32(0)).toBe(0xffffffff);
        expect(fn.config.read16(0)).toBe(0xffff);
      });
    });
  }

  it('DMA allocator: alignment, bus addresses, reuse, double free, zero()', async () => {
    const fn = await open('sim:ring?mode=inline');
    const a = fn.dma.allocate(100, { align: 4096 });
    expect(a.busAddress % 4096n).toBe(0n);
    expect(a.busAddress >= 0x1_0000_0000n).toBe(true);
    const b = fn.dma.allocate(64);
    expect(b.busAddress >= a.busAddress + 100n).toBe(true);
    a.bytes.fill(7);
    expect(fn.sim.arena[Number(a.busAddress - fn.sim.arenaBusBase)]).toBe(7);
    a.zero();
    expect(a.bytes.every((x) => x === 0)).toBe(true);
    const before = fn.dma.freeBytes;
    a.free();
    expect(() => a.free()).toThrow(/freed twice/);
    expect(() => a.bytes).toThrow(/after free/);
    b.free();
    expect(fn.dma.freeBytes).toBeGreaterThan(before);
    // After freeing everything the arena is one extent again: the largest buffer fits.
    const all = fn.dma.allocate(fn.sim.arena.length);
    expect(all.size).toBe(fn.sim.arena.length);
    expect(() => fn.dma.allocate(64)).toThrow(RangeError);
  });

  it('interrupts: counted events, disable/enable, abort and close reject', async () => {
    const fn = await open('sim:ring?mode=inline');
    const bar = fn.bar(0);
    const irq = fn.openIrq(1);
    expect(() => fn.openIrq(1)).toThrow(/already open/);
    expect(() => fn.openIrq(99)).toThrow(RangeError);
    // Program queue 1 with a NOP ring and let the model raise vector 1 twice.
    const sq = fn.dma.allocate(64 * 4, { align: 64 });
    const cq = fn.dma.allocate(16 * 4, { align: 64 });
    const q = 0x1100;
    bar.write64(q + 0x00, sq.busAddress);
    bar.write64(q + 0x08, cq.busAddress);
    bar.write32(q + 0x10, 4);
    bar.write32(q + 0x14, 1);
    bar.write32(q + 0x2c, 0); // unmask, no coalescing
    bar.write32(0x020, 1);
    irq.disable();
    bar.write32(q + 0x1c, 2); // two NOPs (all-zero descriptors)
    await new Promise((r) => setTimeout(r, 20));
    let resolved = false;
    const pending = irq.wait().then((n) => {
      resolved = true;
      return n;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(resolved).toBe(false); // disabled: counted, not delivered
    irq.enable();
    expect(await pending).toBe(2);
    const controller = new AbortController();
    const aborted = irq.wait(controller.signal);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'aborted' });
    const closing = irq.wait();
    irq.close();
    await expect(closing).rejects.toBeInstanceOf(DeviceGoneError);
  });
});
