/**
 * The simulated card families: each declares itself in its folder, found there
 * by simulator/models/index.ts (no list names them), and the platform derives its
 * default cards, its listing and its option checks from the declarations.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { parseProbeOptions, trackProbeOptions } from '../../core/driver/probe-options.js';
import { parseDeviceSpec } from '../../core/platform/pci.js';
import type { SimPciFunction } from '../../simulator/function.js';
import { builtInFamilies, findFamilies, loadModel } from '../../simulator/models/index.js';
import { SIMULATOR_OPTIONS, SimulatorPlatform } from '../../simulator/platform.js';

const platform = new SimulatorPlatform();
const open: SimPciFunction[] = [];
afterEach(async () => {
  for (const fn of open.splice(0)) await fn.close();
});

describe('simulated card families', () => {
  it('every folder with a family.ts is a family; its model module has its name', async () => {
    const families = await builtInFamilies();
    // Offered by default first, then by name.
    expect(families.map((f) => f.name)).toEqual(['ring', 'window', 'virtio']);
    for (const family of families) {
      expect(family.modelUrl.pathname).toMatch(new RegExp(`/simulator/models/${family.module}\\.ts$`));
      const definition = await loadModel(family.name);
      expect(definition.name).toBe(family.name);
      expect(await loadModel(family.name, family.modelUrl)).toBe(definition);
    }
    await expect(loadModel('nonesuch')).rejects.toThrow(
      'no simulated device model "nonesuch"; known models: ring, window, virtio',
    );
  });

  it('a folder without families has none; two families of one name are refused', async () => {
    expect(await findFamilies([new URL('./', import.meta.url)])).toEqual([]);
    const models = new URL('../../simulator/models/', import.meta.url);
    await expect(findFamilies([models, models])).rejects.toThrow(
      'two simulated card families are named "ring"',
    );
  });

  it('defaultSpecs and models() come from the declarations', async () => {
    expect(await platform.defaultSpecs()).toEqual(
      (await builtInFamilies()).filter((f) => f.offeredByDefault).map((f) => `sim:${f.name}`),
    );
    expect(await platform.defaultSpecs()).toEqual(['sim:ring', 'sim:window']);
    const models = await platform.models();
    expect(models.map((m) => m.spec)).toEqual(['sim:ring', 'sim:window', 'sim:virtio']);
    const window = models.find((m) => m.name === 'window')!;
    expect(window.offeredByDefault).toBe(true);
    expect(Object.keys(window.options ?? {})).toEqual(['engines', 'curves', 'irq']);
    expect(models.find((m) => m.name === 'virtio')?.offeredByDefault).toBe(false);
  });

  it('a plain spec with a name nobody knows is refused, listing the valid ones', async () => {
    await expect(platform.open(parseDeviceSpec('sim:window?mode=inline&enignes=3'))).rejects.toThrow(
      /unknown option "enignes".*engines/,
    );
    await expect(platform.open(parseDeviceSpec('sim:window?mode=inline&engines=17'))).rejects.toThrow(
      /"engines" must be an integer from 1 to 16/,
    );
  });

  it('with the registry ledger, the card and a driver each read their names', async () => {
    const spec = parseDeviceSpec('sim:window?mode=inline&engines=3&poll=5&bogus=1');
    const tracked = trackProbeOptions(spec.options);
    const fn = await platform.open({ ...spec, options: tracked.options });
    open.push(fn);
    expect(fn.bar(0).read32(0x008)).toBe(3);
    parseProbeOptions(tracked.options, { poll: { kind: 'int', default: 20 } }, 'a driver');
    expect(() => tracked.check('device spec')).toThrow(/unknown option "bogus"/);
    const clean = trackProbeOptions({ mode: 'inline', seed: '7', poll: '5' });
    open.push(await platform.open({ ...spec, options: clean.options }));
    parseProbeOptions(clean.options, { poll: { kind: 'int', default: 20 } }, 'a driver');
    expect(() => clean.check('device spec')).not.toThrow();
    expect(Object.keys(SIMULATOR_OPTIONS)).toContain('seed');
  });
});
