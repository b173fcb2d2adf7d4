/** The simple dispatch path: highest-priority capable device, first alternative it supports, tags, abort. */

import { describe, expect, it } from 'vitest';
import { SimpleExecutor } from '../../core/api/simple-executor.js';
import type { Device } from '../../core/driver/device.js';
import { OkpPrivateKeyMaterial, type PrimitiveRequest } from '../../core/driver/index.js';
import { parseDeviceSpec } from '../../core/platform/pci.js';
import { fakeDriver } from './fake-driver.js';

const key = new OkpPrivateKeyMaterial('X25519', new Uint8Array(32), {
  kind: 'okp-public',
  curve: 'X25519',
  x: new Uint8Array(32),
});
const x25519: PrimitiveRequest = { op: 'x25519', key, peer: new Uint8Array(32).fill(9) };
const keygen: PrimitiveRequest = { op: 'keygen', spec: { kind: 'okp', curve: 'X25519' } };

async function device(
  name: string,
  priority: number,
  ops: PrimitiveRequest['op'][],
  gate?: { open: boolean },
) {
  const { driver, log } = fakeDriver({
    gate,
    name,
    scheme: name,
    priority,
    capabilities: ops.map((op) => ({ op })),
    compute: (r) => Uint8Array.of(r.op.length, priority & 0xff),
  });
  return { device: (await driver.open(parseDeviceSpec(name))) as Device, log };
}

describe('SimpleExecutor', () => {
  it('picks the highest-priority device that can do any alternative, and its first supported alternative', async () => {
    const low = await device('low', 1, ['x25519', 'keygen']);
    const high = await device('high', 9, ['keygen']);
    const exec = new SimpleExecutor([low.device, high.device]);
    expect(exec.supports(x25519)).toBe(true);
    const both = await exec.runFirst([x25519, keygen]);
    expect(both).toMatchObject({ index: 1, device: 'high' });
    const onlyLow = await exec.runFirst([x25519]);
    expect(onlyLow).toMatchObject({ index: 0, device: 'low' });
    expect(await exec.run(x25519)).toEqual(Uint8Array.of(6, 1));
    expect(high.log.ops).toEqual(['keygen']);
    expect(low.log.ops).toEqual(['x25519', 'x25519']);
  });

  it('builds a lazy alternative only for the device chosen, and refuses what nobody can do', async () => {
    const only = await device('only', 1, ['keygen']);
    const exec = new SimpleExecutor([only.device]);
    let built = 0;
    const lazy = {
      probe: keygen,
      build: () => {
        built++;
        return keygen;
      },
    };
    await exec.runFirst([x25519, lazy]);
    expect(built).toBe(1);
    await expect(exec.runFirst([x25519])).rejects.toMatchObject({ code: 'unsupported' });
    await only.device.close();
    await expect(exec.runFirst([keygen])).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('runs many jobs concurrently through one queue pair (beyond its depth) and honours abort', async () => {
    const gate = { open: true };
    const dev = await device('busy', 1, ['x25519'], gate);
    const exec = new SimpleExecutor([dev.device]);
    const results = await Promise.all(Array.from({ length: 50 }, () => exec.run(x25519)));
    expect(results).toHaveLength(50);
    expect(dev.log.ops).toHaveLength(50);
    await expect(exec.run(x25519, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'aborted',
    });
    gate.open = false; // the next job stays on the device
    const controller = new AbortController();
    const pending = exec.run(x25519, { signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    gate.open = true;
    // The executor still works after an abandoned job.
    expect(await exec.run(x25519)).toEqual(Uint8Array.of(6, 1));
  });
});
