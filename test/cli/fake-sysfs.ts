/**
 * A fake sysfs tree in a temp directory, for `devices` and `bind`: never the
 * machine's real /sys. Functions:
 * - 0000:00:03.0 virtio-crypto (1af4:1054), bound to virtio-pci, IOMMU group 7
 *   shared with 0000:00:03.1 (also virtio-pci);
 * - 0000:00:04.0 an NVMe disk (144d:a808, class 010802) bound to nvme, group 8;
 * - 0000:00:05.0 an encryption controller (class 108000) no pkaccel driver claims, unbound, group 9;
 * - 0000:00:06.0 virtio-crypto with no kernel driver and no IOMMU group;
 * - 0000:00:07.0 a host bridge (8086:1237, class 060000) with no kernel driver, group 10.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface FakeFunction {
  readonly address: string;
  readonly vendor: number;
  readonly device: number;
  readonly classCode: number;
  readonly driver?: string;
  readonly iommuGroup?: number;
}

export const FUNCTIONS: readonly FakeFunction[] = [
  {
    address: '0000:00:03.0',
    vendor: 0x1af4,
    device: 0x1054,
    classCode: 0x00ff00,
    driver: 'virtio-pci',
    iommuGroup: 7,
  },
  {
    address: '0000:00:03.1',
    vendor: 0x1af4,
    device: 0x1041,
    classCode: 0x020000,
    driver: 'virtio-pci',
    iommuGroup: 7,
  },
  {
    address: '0000:00:04.0',
    vendor: 0x144d,
    device: 0xa808,
    classCode: 0x010802,
    driver: 'nvme',
    iommuGroup: 8,
  },
  { address: '0000:00:05.0', vendor: 0x1234, device: 0x5678, classCode: 0x108000, iommuGroup: 9 },
  { address: '0000:00:06.0', vendor: 0x1af4, device: 0x1054, classCode: 0x00ff00 },
  { address: '0000:00:07.0', vendor: 0x8086, device: 0x1237, classCode: 0x060000, iommuGroup: 10 },
];

const KERNEL_DRIVERS = ['virtio-pci', 'nvme', 'vfio-pci', 'uio_pci_generic'];

export interface FakeSysfs {
  readonly root: string;
  read(relative: string): string;
  cleanup(): void;
}

const hex = (n: number, digits: number) => `0x${n.toString(16).padStart(digits, '0')}\n`;

export function buildFakeSysfs(): FakeSysfs {
  const dir = mkdtempSync(join(tmpdir(), 'pkaccel-cli-sysfs-'));
  const root = join(dir, 'sys');
  const pci = join(root, 'bus', 'pci');
  mkdirSync(join(pci, 'devices'), { recursive: true });
  writeFileSync(join(pci, 'drivers_probe'), '');
  for (const name of KERNEL_DRIVERS) {
    mkdirSync(join(pci, 'drivers', name), { recursive: true });
    writeFileSync(join(pci, 'drivers', name, 'unbind'), '');
  }
  const hugepages = join(root, 'kernel', 'mm', 'hugepages', 'hugepages-2048kB');
  mkdirSync(hugepages, { recursive: true });
  writeFileSync(join(hugepages, 'nr_hugepages'), '0\n');
  for (const f of FUNCTIONS) {
    const dev = join(pci, 'devices', f.address);
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, 'vendor'), hex(f.vendor, 4));
    writeFileSync(join(dev, 'device'), hex(f.device, 4));
    writeFileSync(join(dev, 'subsystem_vendor'), hex(f.vendor, 4));
    writeFileSync(join(dev, 'subsystem_device'), hex(0x11, 4));
    writeFileSync(join(dev, 'class'), hex(f.classCode, 6));
    writeFileSync(join(dev, 'revision'), hex(1, 2));
    writeFileSync(join(dev, 'numa_node'), '-1\n');
    writeFileSync(join(dev, 'driver_override'), '(null)\n');
    writeFileSync(join(dev, 'resource'), '0x00000000fe000000 0x00000000fe000fff 0x0000000000040200\n');
    if (f.driver !== undefined) symlinkSync(join(pci, 'drivers', f.driver), join(dev, 'driver'));
    if (f.iommuGroup !== undefined) {
      const group = join(root, 'kernel', 'iommu_groups', String(f.iommuGroup));
      mkdirSync(join(group, 'devices'), { recursive: true });
      symlinkSync(dev, join(group, 'devices', f.address));
      symlinkSync(group, join(dev, 'iommu_group'));
    }
  }
  return {
    root,
    read: (relative) => readFileSync(join(root, relative), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
