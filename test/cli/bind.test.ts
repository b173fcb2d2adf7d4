/**
 * `pkaccel bind` / `unbind` on a fake sysfs tree (never the machine's /sys):
 * dry runs change nothing, refusals exit 1, malformed addresses exit 2, and a
 * real run writes exactly the sysfs files dpdk-devbind would.
 */

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildFakeSysfs, type FakeSysfs } from './fake-sysfs.js';
import { expectExit, json, requireBuiltBinary, runCli } from './run-cli.js';

interface Plan {
  action: string;
  address: string;
  targetDriver?: string;
  device: { ids: string; kernelDriver?: string; iommuGroup?: number; pkaccelDriver?: string };
  refusals: string[];
  nothingToDo: boolean;
  steps: string[];
  requirements: string[];
  dryRun: boolean;
  ok: boolean;
  outcome?: { executed: boolean; driverAfter?: string; error?: string };
}

let sysfs: FakeSysfs;
beforeAll(requireBuiltBinary);
beforeEach(() => {
  sysfs = buildFakeSysfs();
});
afterEach(() => sysfs.cleanup());

const bind = (...args: string[]) => runCli(['bind', ...args, '--sysfs-root', sysfs.root]);
const unbind = (...args: string[]) => runCli(['unbind', ...args, '--sysfs-root', sysfs.root]);

/** `bind <address> --dry-run --json [extra]` is refused (exit 1, ok false) with a refusal matching `why`. */
async function expectRefusedPlan(address: string, extra: readonly string[], why: RegExp): Promise<Plan> {
  const result = await bind(address, '--dry-run', '--json', ...extra);
  expectExit(result, 1);
  const plan = json<Plan>(result);
  expect(plan.ok).toBe(false);
  expect(plan.refusals.join('\n')).toMatch(why);
  return plan;
}

describe('pkaccel bind --dry-run', () => {
  it('plans the driver_override, unbind and probe writes for a claimed device, and changes nothing', async () => {
    const result = await bind('0000:00:03.0', '--to', 'vfio', '--dry-run', '--json');
    expectExit(result, 0);
    const plan = json<Plan>(result);
    expect(plan).toMatchObject({
      action: 'bind',
      address: '0000:00:03.0',
      targetDriver: 'vfio-pci',
      dryRun: true,
      ok: true,
      refusals: [],
      nothingToDo: false,
      device: { ids: '1af4:1054', kernelDriver: 'virtio-pci', iommuGroup: 7, pkaccelDriver: 'virtio-crypto' },
    });
    expect(plan.steps).toEqual([
      `echo vfio-pci > ${sysfs.root}/bus/pci/devices/0000:00:03.0/driver_override`,
      `echo 0000:00:03.0 > ${sysfs.root}/bus/pci/devices/0000:00:03.0/driver/unbind`,
      `echo 0000:00:03.0 > ${sysfs.root}/bus/pci/drivers_probe`,
    ]);
    expect(plan.outcome).toBeUndefined();
    const needs = plan.requirements.join('\n');
    expect(needs).toMatch(/IOMMU group 7/);
    expect(needs).toMatch(/0000:00:03\.1 shares IOMMU group 7 and is bound to virtio-pci/);
    expect(needs).toMatch(/\/dev\/vfio\/7/);
    expect(needs).toMatch(/no 2 MiB hugepages reserved/);
    expect(sysfs.read('bus/pci/devices/0000:00:03.0/driver_override')).toBe('(null)\n');
    expect(sysfs.read('bus/pci/drivers_probe')).toBe('');
    expect(sysfs.read('bus/pci/drivers/virtio-pci/unbind')).toBe('');
  });

  it('prints the same plan for people', async () => {
    const result = await bind('00:03.0', '--dry-run');
    expectExit(result, 0);
    expect(result.stdout).toContain('would run:');
    expect(result.stdout).toContain(
      `echo vfio-pci > ${sysfs.root}/bus/pci/devices/0000:00:03.0/driver_override`,
    );
    expect(result.stdout).toContain('needs:');
    expect(result.stdout).not.toContain('\u001b['); // NO_COLOR and not a terminal
  });

  it('refuses a disk held by its kernel driver, even with --force', async () => {
    for (const extra of [[], ['--force']])
      await expectRefusedPlan(
        '0000:00:04.0',
        extra,
        /in use by the kernel driver nvme and is not a crypto device/,
      );
    expect(sysfs.read('bus/pci/devices/0000:00:04.0/driver_override')).toBe('(null)\n');
  });

  it('refuses a host bridge, even with --force, and a refused --dry-run prints no commands', async () => {
    for (const extra of [[], ['--force']]) {
      const plan = await expectRefusedPlan(
        '0000:00:07.0',
        extra,
        /is a host bridge \(class 060000\).*not even with --force/,
      );
      expect(plan.steps).toEqual([]);
      const text = await bind('0000:00:07.0', '--dry-run', ...extra);
      expectExit(text, 1);
      expect(text.stdout).toMatch(/refused: 0000:00:07\.0 is a host bridge/);
      expect(text.stdout).not.toMatch(/would run|running|echo /);
    }
    const disk = await bind('0000:00:04.0', '--dry-run');
    expectExit(disk, 1);
    expect(disk.stdout).toMatch(/refused: /);
    expect(disk.stdout).not.toMatch(/would run|echo /);
    expect(sysfs.read('bus/pci/devices/0000:00:07.0/driver_override')).toBe('(null)\n');
  });

  it('refuses a device no registered driver matches unless --force', async () => {
    const refused = await bind('0000:00:05.0', '--dry-run', '--json');
    expectExit(refused, 1);
    expect(json<Plan>(refused).refusals.join('\n')).toMatch(
      /no registered pkaccel driver matches 0000:00:05\.0 \(1234:5678\)/,
    );
    const forced = await bind('0000:00:05.0', '--dry-run', '--json', '--force');
    expectExit(forced, 0);
    expect(json<Plan>(forced).refusals).toEqual([]);
  });

  it('explains that vfio needs an IOMMU group, and plans uio instead with its caveats', async () => {
    const vfio = await bind('0000:00:06.0', '--to', 'vfio', '--dry-run', '--json');
    expectExit(vfio, 1);
    expect(json<Plan>(vfio).refusals.join('\n')).toMatch(/no IOMMU group.*intel_iommu=on.*--to uio/);
    const uio = await bind('0000:00:06.0', '--to', 'uio', '--dry-run', '--json');
    expectExit(uio, 0);
    const plan = json<Plan>(uio);
    expect(plan.targetDriver).toBe('uio_pci_generic');
    expect(plan.steps).toEqual([
      `echo uio_pci_generic > ${sysfs.root}/bus/pci/devices/0000:00:06.0/driver_override`,
      `echo 0000:00:06.0 > ${sysfs.root}/bus/pci/drivers_probe`,
    ]);
    expect(plan.requirements.join('\n')).toMatch(/no DMA isolation/);
  });

  it('exits 2 on a malformed address or target, 1 on an address that does not exist', async () => {
    const malformed = await bind('03:zz.0', '--dry-run');
    expectExit(malformed, 2);
    expect(malformed.stderr).toMatch(/not a PCI address/);
    const badTarget = await bind('0000:00:03.0', '--to', 'igb', '--dry-run');
    expectExit(badTarget, 2);
    expect(badTarget.stderr).toMatch(/Allowed choices are vfio, uio/);
    const missing = await bind('0000:00:09.0', '--dry-run');
    expectExit(missing, 1);
    expect(missing.stderr).toMatch(/no PCI function 0000:00:09\.0/);
  });
});

describe('pkaccel bind and unbind, for real on the fake tree', () => {
  it('writes driver_override, unbinds the old driver and asks the bus to probe', async () => {
    const result = await bind('0000:00:03.0', '--to', 'uio', '--json');
    const plan = json<Plan>(result);
    expect(sysfs.read('bus/pci/devices/0000:00:03.0/driver_override')).toBe('uio_pci_generic');
    expect(sysfs.read('bus/pci/drivers/virtio-pci/unbind')).toBe('0000:00:03.0');
    expect(sysfs.read('bus/pci/drivers_probe')).toBe('0000:00:03.0');
    // A fake tree has no kernel behind it: the driver link does not move, and the command says so.
    expect(plan.outcome).toEqual({ executed: true, driverAfter: 'virtio-pci' });
    expectExit(result, 1);
  });

  it('unbind refuses the disk, and has nothing to do for an unbound function', async () => {
    const disk = await unbind('0000:00:04.0', '--json');
    expectExit(disk, 1);
    expect(sysfs.read('bus/pci/drivers/nvme/unbind')).toBe('');
    const idle = await unbind('0000:00:06.0', '--json');
    expectExit(idle, 0);
    expect(json<Plan>(idle).nothingToDo).toBe(true);
  });

  it('unbind --dry-run plans the unbind and the override reset', async () => {
    const result = await unbind('0000:00:03.0', '--dry-run', '--json');
    expectExit(result, 0);
    expect(json<Plan>(result).steps).toEqual([
      `echo 0000:00:03.0 > ${sysfs.root}/bus/pci/devices/0000:00:03.0/driver/unbind`,
      `echo > ${sysfs.root}/bus/pci/devices/0000:00:03.0/driver_override`,
    ]);
    expect(sysfs.read('bus/pci/drivers/virtio-pci/unbind')).toBe('');
  });
});
