/**
 * A fake sysfs tree with one PCI function, built in a temp directory: identity
 * files, `resource`, `resource0` (a regular file standing in for a 4 KiB BAR), a
 * 256-byte `config` with a capability list (MSI-X and a virtio-style
 * vendor-specific capability), optionally a uio node whose /dev/uioN is a FIFO the
 * test writes event counts into.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FAKE_BDF = '0000:00:03.0';
export const BAR0_SIZE = 4096;

export interface FakeTree {
  readonly sysfsRoot: string;
  readonly devRoot: string;
  readonly device: string;
}

export function fakeConfig(): Buffer {
  const c = Buffer.alloc(256);
  c.writeUInt16LE(0x1af4, 0x00);
  c.writeUInt16LE(0x1054, 0x02);
  c.writeUInt16LE(0x0000, 0x04); // command
  c.writeUInt16LE(0x0010, 0x06); // status: capability list
  c.writeUInt8(0x40, 0x34);
  // 0x40: MSI-X → 0x50
  c.writeUInt8(0x11, 0x40);
  c.writeUInt8(0x50, 0x41);
  // 0x50: vendor-specific, 16 bytes (virtio common cfg: cfg_type 1, bar 4, offset 0, length 0x1000) → 0x60
  Buffer.from([0x09, 0x60, 16, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0]).copy(c, 0x50);
  // 0x60: power management, end of list
  c.writeUInt8(0x01, 0x60);
  c.writeUInt8(0x00, 0x61);
  return c;
}

export function buildFakeSysfs(dir: string, options: { driver?: string; uio?: boolean } = {}): FakeTree {
  const sysfsRoot = join(dir, 'sys');
  const devRoot = join(dir, 'dev');
  const devices = join(sysfsRoot, 'bus', 'pci', 'devices');
  const device = join(devices, FAKE_BDF);
  mkdirSync(device, { recursive: true });
  mkdirSync(devRoot, { recursive: true });
  const files: Record<string, string> = {
    vendor: '0x1af4\n',
    device: '0x1054\n',
    subsystem_vendor: '0x1af4\n',
    subsystem_device: '0x0011\n',
    class: '0x00ff00\n',
    revision: '0x01\n',
    numa_node: '-1\n',
    driver_override: '(null)\n',
    resource: [
      '0x00000000fe000000 0x00000000fe000fff 0x0000000000040200',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x000000fe00000000 0x000000fe00003fff 0x000000000014220c',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '',
    ].join('\n'),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(device, name), text);
  writeFileSync(join(device, 'resource0'), Buffer.alloc(BAR0_SIZE));
  writeFileSync(join(device, 'resource4'), Buffer.alloc(0x4000));
  writeFileSync(join(device, 'config'), fakeConfig());
  mkdirSync(join(sysfsRoot, 'kernel', 'iommu_groups', '7'), { recursive: true });
  symlinkSync(join(sysfsRoot, 'kernel', 'iommu_groups', '7'), join(device, 'iommu_group'));
  writeFileSync(join(sysfsRoot, 'bus', 'pci', 'drivers_probe'), '');
  for (const name of ['uio_pci_generic', 'vfio-pci', 'nvme']) {
    const d = join(sysfsRoot, 'bus', 'pci', 'drivers', name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'unbind'), '');
  }
  if (options.driver)
    symlinkSync(join(sysfsRoot, 'bus', 'pci', 'drivers', options.driver), join(device, 'driver'));
  if (options.uio) {
    mkdirSync(join(device, 'uio', 'uio0'), { recursive: true });
    execFileSync('mkfifo', [join(devRoot, 'uio0')]);
  }
  return { sysfsRoot, devRoot, device };
}
