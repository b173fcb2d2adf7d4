import { closeSync, existsSync, openSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { addon } from '../lib/addon.js';
import { createEventFd } from '../lib/index.js';
import { requireAddon } from './helpers.js';

beforeAll(requireAddon);

describe('VFIO ioctl wrappers', () => {
  it('turn a failing ioctl into an Error with the errno code, never a crash', () => {
    const fd = createEventFd(); // not a VFIO fd: every VFIO ioctl fails with ENOTTY
    const v = addon().vfio;
    const calls: [string, () => unknown][] = [
      ['apiVersion', () => v.apiVersion(fd)],
      ['groupStatus', () => v.groupStatus(fd)],
      ['groupSetContainer', () => v.groupSetContainer(fd, fd)],
      ['setIommu', () => v.setIommu(fd, 3)],
      ['groupDeviceFd', () => v.groupDeviceFd(fd, '0000:00:03.0')],
      ['deviceInfo', () => v.deviceInfo(fd)],
      ['regionInfo', () => v.regionInfo(fd, 0)],
      ['irqInfo', () => v.irqInfo(fd, 2)],
      ['setIrqs', () => v.setIrqs(fd, 2, 0, 1 << 5, [fd], 0)],
      ['reset', () => v.reset(fd)],
      ['unmapDma', () => v.unmapDma(fd, 0x1_0000_0000n, 4096)],
    ];
    for (const [name, call] of calls) {
      expect(call, name).toThrow(expect.objectContaining({ code: 'ENOTTY' }));
    }
    expect(v.checkExtension(fd, 3)).toBe(0);
    closeSync(fd);
  });

  it('check their arguments before any ioctl', () => {
    const v = addon().vfio;
    expect(() => v.apiVersion(-1)).toThrow(RangeError);
    expect(() => v.regionInfo(0, 1.5)).toThrow(RangeError);
    expect(() => v.setIrqs(0, 2, -1, 0, [], 0)).toThrow(RangeError);
    expect(() => v.setIrqs(0, 2, 0, 0, ['x' as unknown as number], 0)).toThrow(TypeError);
    expect(() => v.mapDma(0, 12345, 0, 4096, 0n)).toThrow(/after close/); // no such region
    expect(() => v.groupDeviceFd(0, 42 as unknown as string)).toThrow(TypeError);
    // An IOVA that is not a 64-bit unsigned value, refused before the ioctl (which would fail otherwise: ENOTTY).
    expect(() => v.unmapDma(0, -1n, 4096)).toThrow(RangeError);
    expect(() => v.unmapDma(0, 1n << 64n, 4096)).toThrow(RangeError);
  });

  it('opens the real container when this machine has VFIO (read-only queries)', (ctx) => {
    if (!existsSync('/dev/vfio/vfio')) {
      ctx.skip(
        'no /dev/vfio/vfio on this machine (vfio module not loaded); the full path runs in the QEMU e2e test',
      );
      return;
    }
    const container = openSync('/dev/vfio/vfio', 'r+');
    expect(addon().vfio.apiVersion(container)).toBe(0);
    closeSync(container);
  });
});
