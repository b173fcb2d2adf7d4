/** `pkaccel devices` on a fake sysfs tree and configured devices, and the command's help and exit codes. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFakeSysfs, type FakeSysfs } from './fake-sysfs.js';
import { expectExit, json, requireBuiltBinary, runCli } from './run-cli.js';

interface DevicesJson {
  sysfsRoot: string;
  hardware: {
    address: string;
    ids: string;
    pkaccelDriver?: string;
    kernelDriver?: string;
    iommuGroup?: number;
    usable: boolean;
    mode?: string;
    bindCommand?: string;
    spec: string;
  }[];
  selection: { source: string; specs: string[]; usedSimulatorFallback: boolean };
  devices: {
    spec: string;
    id?: string;
    driver?: string;
    state: string;
    summary?: string;
    capabilities?: { op: string }[];
    error?: string;
  }[];
}

let sysfs: FakeSysfs;
beforeAll(() => {
  requireBuiltBinary();
  sysfs = buildFakeSysfs();
});
afterAll(() => sysfs.cleanup());

describe('pkaccel devices', () => {
  it('lists the claimed PCI functions with their binding state and the configured devices', async () => {
    const result = await runCli(`devices --json --sysfs-root ${sysfs.root} --devices software,sim:ring`);
    expectExit(result, 0);
    const out = json<DevicesJson>(result);
    expect(out.hardware.map((h) => h.address)).toEqual(['0000:00:03.0', '0000:00:06.0']);
    expect(out.hardware[0]).toMatchObject({
      ids: '1af4:1054',
      pkaccelDriver: 'virtio-crypto',
      kernelDriver: 'virtio-pci',
      iommuGroup: 7,
      usable: false,
      bindCommand: 'pkaccel bind 0000:00:03.0 --to vfio',
      spec: 'pci:0000:00:03.0',
    });
    expect(out.hardware[1]).toMatchObject({ usable: true, mode: 'sysfs' });
    expect(out.hardware[1]!.bindCommand).toBeUndefined();
    expect(out.selection).toEqual({
      source: 'devices',
      specs: ['software', 'sim:ring'],
      cards: 0,
      simulated: [],
      usedSimulatorFallback: false,
    });
    const [software, ring] = out.devices;
    expect(software).toMatchObject({ spec: 'software', driver: 'software', state: 'ready' });
    expect(software!.capabilities!.map((c) => c.op)).toContain('rsa-private');
    expect(software!.summary).toMatch(/^RSA .*ECDSA P-256\/P-384\/P-521/);
    expect(ring).toMatchObject({ spec: 'sim:ring', driver: 'ring', state: 'ready' });
    expect(ring!.summary).toMatch(/key slots/);
  });

  it('--all lists unclaimed functions too; the text table names the bind command', async () => {
    const all = json<DevicesJson>(
      await runCli(['devices', '--json', '--all', '--sysfs-root', sysfs.root, '--devices', 'software']),
    );
    expect(all.hardware.map((h) => h.address)).toEqual([
      '0000:00:03.0',
      '0000:00:03.1',
      '0000:00:04.0',
      '0000:00:05.0',
      '0000:00:06.0',
      '0000:00:07.0',
    ]);
    expect(all.hardware.find((h) => h.address === '0000:00:04.0')).toMatchObject({
      kernelDriver: 'nvme',
      usable: false,
    });
    const text = await runCli(['devices', '--sysfs-root', sysfs.root, '--devices', 'software']);
    expectExit(text, 0);
    expect(text.stdout).toMatch(/0000:00:03\.0 +1af4:1054 .*no: pkaccel bind 0000:00:03\.0 --to vfio/);
    expect(text.stdout).toMatch(/software +software +node:crypto/);
  });

  it('takes the device list from PKACCEL_DEVICES; a spec no driver handles is a usage error (exit 2)', async () => {
    const ok = await runCli(['devices', '--json', '--sysfs-root', sysfs.root], {
      PKACCEL_DEVICES: 'software',
    });
    expectExit(ok, 0);
    expect(json<DevicesJson>(ok).selection.source).toBe('PKACCEL_DEVICES');
    const result = await runCli(['devices', '--json', '--sysfs-root', sysfs.root], {
      PKACCEL_DEVICES: 'software,nosuch:device',
    });
    expectExit(result, 2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/nosuch.*registered schemes: .*software.*sim/);
  });

  it('auto with no card found uses the simulator and says so', async () => {
    const result = await runCli(['devices', '--json', '--sysfs-root', sysfs.root]);
    const out = json<DevicesJson>(result);
    expect(out.selection.source).toBe('auto');
    // The native platform scans the machine's own /sys for auto (read-only); this machine has no card.
    if (out.selection.usedSimulatorFallback) {
      expect(out.selection.specs).toEqual(expect.arrayContaining(['sim:ring', 'software']));
      expect(JSON.stringify(out)).toMatch(/no accelerator card found: using the simulator/);
    } else {
      expect(out.selection.specs.some((s) => s.startsWith('pci:'))).toBe(true);
    }
    expectExit(result, 0);
  });
});

describe('pkaccel command line', () => {
  it('has --help on every command and exits 0', async () => {
    for (const command of [[], ['devices'], ['bind'], ['unbind'], ['selftest'], ['speed'], ['stats']]) {
      const result = await runCli([...command, '--help']);
      expect(result.code, `pkaccel ${command.join(' ')} --help`).toBe(0);
      expect(result.stdout).toMatch(/^Usage: pkaccel/);
    }
  });

  it('exits 2 on usage errors and prints the version', async () => {
    expectExit(await runCli([]), 2);
    expectExit(await runCli(['frobnicate']), 2);
    expectExit(await runCli(['devices', '--bogus']), 2);
    const version = await runCli(['--version']);
    expectExit(version, 0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
