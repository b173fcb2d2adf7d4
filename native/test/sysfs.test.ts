import { closeSync, constants, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  DeviceGoneError,
  InvalidInputError,
  UnsupportedError,
} from '../../core/driver/errors.js';
import { parseDeviceSpec } from '../../core/platform/pci.js';
import {
  bindDevice,
  createNativePlatform,
  listPciFunctions,
  normalizeAddress,
  PCI_CAP_ID,
  parseCapabilities,
  parseResource,
  snapshotConfig,
  unbindDevice,
} from '../lib/index.js';
import { BAR0_SIZE, buildFakeSysfs, FAKE_BDF, fakeConfig } from './fake-sysfs.js';
import { requireAddon, tempDir } from './helpers.js';

const errors = { AbortedError, DeviceGoneError, UnsupportedError, InvalidInputError };
let tmp: { dir: string; cleanup(): void } | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});
function fake(options?: Parameters<typeof buildFakeSysfs>[1]) {
  tmp = tempDir('pcie-mmio-sysfs-');
  return buildFakeSysfs(tmp.dir, options);
}

describe('discovery on this machine (read-only)', () => {
  it('lists every PCI function sysfs has, with its identity', async () => {
    const listed = readdirSync('/sys/bus/pci/devices', { withFileTypes: false }).sort();
    const found = await createNativePlatform({ errors }).enumerate();
    expect(found.map((f) => f.address)).toEqual(listed);
    for (const f of found) {
      expect(f.vendorId).toBe(
        Number.parseInt(readFileSync(join('/sys/bus/pci/devices', f.address, 'vendor'), 'utf8'), 16),
      );
      expect(f.classCode).toBeGreaterThanOrEqual(0);
      expect(f.classCode).toBeLessThan(1 << 24);
    }
  });

  it('honours an aborted signal', async () => {
    await expect(createNativePlatform({ errors }).enumerate(AbortSignal.abort())).rejects.toBeInstanceOf(
      AbortedError,
    );
  });
});

describe('sysfs parsing', () => {
  it('reads identity, driver, IOMMU group and BARs from a fake tree', async () => {
    const tree = fake({ driver: 'uio_pci_generic', uio: true });
    const [info, ...rest] = await listPciFunctions({ sysfsRoot: tree.sysfsRoot });
    expect(rest).toEqual([]);
    expect(info).toMatchObject({
      address: FAKE_BDF,
      vendorId: 0x1af4,
      deviceId: 0x1054,
      subsystemDeviceId: 0x11,
      classCode: 0x00ff00,
      revision: 1,
      kernelDriver: 'uio_pci_generic',
      iommuGroup: 7,
      uio: 'uio0',
    });
    expect(info!.numaNode).toBeUndefined();
    expect(JSON.parse(JSON.stringify(info)).bars[1].start).toBe('0xfe00000000'); // JSON-safe
    expect(info!.bars.map((b) => [b.index, b.size, b.kind, b.is64, b.prefetchable])).toEqual([
      [0, 4096, 'memory', false, false],
      [4, 0x4000, 'memory', true, true],
    ]);
  });

  it('parses resource lines, skipping empty and I/O-less entries', () => {
    const bars = parseResource('0x0000000000001000 0x000000000000101f 0x0000000000040101\n');
    expect(bars).toEqual([
      { index: 0, start: '0x1000', size: 32, flags: 0x40101, kind: 'io', is64: false, prefetchable: false },
    ]);
  });

  it('parses the standard capability list with vendor-specific bytes, and stops on a loop', () => {
    const caps = parseCapabilities(fakeConfig());
    expect(caps.map((c) => [c.id, c.offset])).toEqual([
      [PCI_CAP_ID.msix, 0x40],
      [PCI_CAP_ID.vendorSpecific, 0x50],
      [PCI_CAP_ID.powerManagement, 0x60],
    ]);
    expect([...caps[1]!.data!]).toEqual([0x09, 0x60, 16, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0]);
    const looping = fakeConfig();
    looping.writeUInt8(0x40, 0x61); // 0x60 → 0x40 again
    expect(parseCapabilities(looping)).toHaveLength(3);
  });

  it('parses the extended capability list of a 4 KiB config space', () => {
    const config = Buffer.alloc(4096);
    fakeConfig().copy(config);
    config.writeUInt32LE(0x0001 | (1 << 16) | (0x140 << 20), 0x100); // AER → 0x140
    config.writeUInt32LE(0x000b | (1 << 16), 0x140); // vendor-specific extended, end
    const ext = parseCapabilities(config).filter((c) => c.kind === 'extended');
    expect(ext.map((c) => [c.id, c.offset, c.version])).toEqual([
      [0x0001, 0x100, 1],
      [0x000b, 0x140, 1],
    ]);
  });

  it('normalises PCI addresses and rejects others', () => {
    expect(normalizeAddress('03:00.0')).toBe('0000:03:00.0');
    expect(normalizeAddress('0000:AF:1F.7')).toBe('0000:af:1f.7');
    for (const bad of ['', '3:0.0', '0000:03:00.8', '../../etc', '0000:03:00.0/x'])
      expect(() => normalizeAddress(bad), bad).toThrow(RangeError);
  });
});

describe('opening a function of a fake tree', () => {
  beforeAll(requireAddon);

  it('sysfs mode maps resourceN as the BAR, gives config space, and refuses DMA and interrupts', async () => {
    const tree = fake();
    const platform = createNativePlatform({ sysfsRoot: tree.sysfsRoot, devRoot: tree.devRoot, errors });
    const fn = await platform.open(parseDeviceSpec(`pci:${FAKE_BDF}`));
    expect(fn.info.vendorId).toBe(0x1af4);
    expect(fn.irqSupport).toEqual({ kind: 'none', vectors: 0 });
    const bar = fn.bar(0);
    expect(fn.bar(0)).toBe(bar); // opened once
    expect(bar.size).toBe(BAR0_SIZE);
    bar.write32(0x10, 0x11223344);
    expect(readFileSync(join(tree.device, 'resource0')).readUInt32LE(0x10)).toBe(0x11223344);
    expect(fn.config.read16(0)).toBe(0x1af4);
    expect(parseCapabilities(snapshotConfig(fn.config)).map((c) => c.id)).toEqual([0x11, 0x09, 0x01]);
    expect(() => fn.bar(1)).toThrow(UnsupportedError);
    expect(() => fn.bar(9)).toThrow(RangeError);
    expect(() => fn.dma.allocate(64)).toThrow(UnsupportedError);
    expect(() => fn.openIrq(0)).toThrow(RangeError);
    await fn.close();
    await fn.close(); // a no-op
    expect(() => bar.read32(0)).toThrow(/after close/);
    expect(() => fn.bar(0)).toThrow(DeviceGoneError);
  });

  it('refuses a function a kernel driver owns, a bad address and an unknown mode', async () => {
    const tree = fake({ driver: 'nvme' });
    const platform = createNativePlatform({ sysfsRoot: tree.sysfsRoot, devRoot: tree.devRoot, errors });
    await expect(platform.open(parseDeviceSpec(`pci:${FAKE_BDF}`))).rejects.toBeInstanceOf(UnsupportedError);
    await expect(platform.open(parseDeviceSpec('pci:0000:09:00.0'))).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(platform.open(parseDeviceSpec(`pci:${FAKE_BDF}?mode=magic`))).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });

  it('uio mode: INTx from the uio fd, unmasked through the command register', async () => {
    const tree = fake({ driver: 'uio_pci_generic', uio: true });
    // keep a writer open on the FIFO that stands in for /dev/uio0
    const writer = openSync(join(tree.devRoot, 'uio0'), constants.O_RDWR | constants.O_NONBLOCK);
    const platform = createNativePlatform({ sysfsRoot: tree.sysfsRoot, devRoot: tree.devRoot, errors });
    const fn = await platform.open(parseDeviceSpec(`pci:${FAKE_BDF}`));
    const command = () => readFileSync(join(tree.device, 'config')).readUInt16LE(4);
    expect(command() & 0b110).toBe(0b110); // memory space and bus master enabled
    expect(fn.irqSupport).toEqual({ kind: 'intx', vectors: 1 });
    const irq = fn.openIrq(0);
    const count = Buffer.alloc(4);
    count.writeUInt32LE(41);
    const first = irq.wait();
    writeSync(writer, count);
    await expect(first).resolves.toBe(1);
    irq.disable();
    expect(command() & 0x400).toBe(0x400);
    irq.enable();
    const second = irq.wait();
    count.writeUInt32LE(44);
    writeSync(writer, count);
    await expect(second).resolves.toBe(3);
    irq.unmask();
    expect(command() & 0x400).toBe(0);
    const pending = irq.wait();
    await fn.close();
    await expect(pending).rejects.toBeInstanceOf(DeviceGoneError);
    closeSync(writer);
  });
});

describe('binding helpers (fake sysfs only)', () => {
  it('binds through driver_override, unbinding the current driver first', () => {
    const tree = fake({ driver: 'nvme' });
    bindDevice(FAKE_BDF, 'uio_pci_generic', { sysfsRoot: tree.sysfsRoot });
    expect(readFileSync(join(tree.device, 'driver_override'), 'utf8')).toBe('uio_pci_generic');
    expect(readFileSync(join(tree.sysfsRoot, 'bus/pci/drivers/nvme/unbind'), 'utf8')).toBe(FAKE_BDF);
    expect(readFileSync(join(tree.sysfsRoot, 'bus/pci/drivers_probe'), 'utf8')).toBe(FAKE_BDF);
    unbindDevice(FAKE_BDF, { sysfsRoot: tree.sysfsRoot });
    expect(readFileSync(join(tree.device, 'driver_override'), 'utf8')).toBe('\n');
  });

  it('refuses the real /sys without allowRealSysfs, and unknown drivers or devices', () => {
    expect(() => bindDevice(FAKE_BDF, 'vfio-pci')).toThrow(/refusing/);
    expect(() => unbindDevice(FAKE_BDF, { sysfsRoot: '/sys/' })).toThrow(/refusing/);
    const tree = fake();
    expect(() => bindDevice('0000:09:00.0', 'vfio-pci', { sysfsRoot: tree.sysfsRoot })).toThrow(
      /no PCI function/,
    );
  });
});
