/**
 * Adding a card family touches no file outside the family: a PCI driver, the
 * platform that finds its card, its simulated card (a model folder, found by the
 * simulator with no list naming it) and a fallback provider not named
 * `software`, all from test/cli/family/, registered into a fresh Registry. Core
 * opens the card for `auto`, picks the fallback by its role, refuses unknown spec
 * options with the driver's list, and the CLI lists the family in its help and
 * opens it — with no change to core, the CLI, the simulator or the package entry.
 */

import { diffieHellman, generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Io } from '../../cli/io.js';
import { createStyle } from '../../cli/io.js';
import { run } from '../../cli/program.js';
import {
  type Accelerator,
  InvalidInputError,
  openAccelerator,
  Registry,
  resolveDeviceSelection,
} from '../../index.js';
import { SimulatorPlatform } from '../../simulator/platform.js';
import { ACME_ADDRESS, acmeDriver, acmePlatform, ranOn, referenceDriver } from './family/driver.js';
import { ACME_ID_REGISTER } from './family/models/acme/model.js';

function registry(): Registry {
  const r = new Registry();
  r.registerPlatform(acmePlatform);
  r.registerDriver(acmeDriver);
  r.registerDriver(referenceDriver);
  return r;
}

function captureIo(): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    outIsTTY: false,
    errIsTTY: false,
    style: createStyle(false),
    stdout: () => out,
    stderr: () => err,
  };
}

const CARD = `acmebus:${ACME_ADDRESS}`;

/** An X25519 agreement through the accelerator equals node's. */
async function expectX25519(accel: Accelerator): Promise<void> {
  const mine = generateKeyPairSync('x25519');
  const peer = generateKeyPairSync('x25519');
  const own = await accel.subtle.importKey(
    'pkcs8',
    mine.privateKey.export({ format: 'der', type: 'pkcs8' }),
    'X25519',
    false,
    ['deriveBits'],
  );
  const peerKey = await accel.subtle.importKey(
    'spki',
    peer.publicKey.export({ format: 'der', type: 'spki' }),
    'X25519',
    true,
    [],
  );
  const bits = await accel.subtle.deriveBits({ name: 'X25519', public: peerKey }, own, 256);
  expect(Buffer.from(bits)).toEqual(
    diffieHellman({ privateKey: mine.privateKey, publicKey: peer.publicKey }),
  );
}

beforeEach(() => {
  ranOn.length = 0;
});

describe('a card family added from the test tree', () => {
  it('auto opens the card and the fallback provider chosen by role', async () => {
    const r = registry();
    const selection = await resolveDeviceSelection({ registry: r, devices: 'auto', env: {} });
    expect(selection).toEqual({
      source: 'devices',
      specs: [CARD, 'reference'],
      cards: 1,
      simulated: [],
      usedSimulatorFallback: false,
    });
    expect(r.fallbackDriver()?.name).toBe('reference');
    const accel = await openAccelerator({ registry: r, devices: 'auto' });
    try {
      expect(accel.devices.map((d) => [d.id, d.driver])).toEqual([
        [`acme:${ACME_ADDRESS}`, 'acme'],
        ['reference', 'reference'],
      ]);
      // The card (priority 500) gets the work; the fallback only what the card cannot take.
      await expectX25519(accel);
      expect(ranOn).toContain(`acme:${ACME_ADDRESS}`);
      expect(ranOn).not.toContain('reference');
      // Devices print as data, not getters.
      expect(inspect(accel.devices)).not.toMatch(/Getter/);
      expect(inspect(accel.devices)).toMatch(/state: 'ready'/);
      expect(JSON.parse(JSON.stringify(accel.devices))[0]).toMatchObject({
        id: `acme:${ACME_ADDRESS}`,
        driver: 'acme',
        state: 'ready',
        capabilities: [{ op: 'x25519' }],
      });
    } finally {
      await accel.close();
    }
  });

  it("refuses an unknown spec option with the driver's list, and a bad value naming it", async () => {
    const r = registry();
    await expect(openAccelerator({ registry: r, devices: [`${CARD}?enginez=4`] })).rejects.toThrow(
      new InvalidInputError(
        `device spec "${CARD}?enginez=4": unknown option "enginez"; valid options: engines, irq`,
      ),
    );
    await expect(openAccelerator({ registry: r, devices: [`${CARD}?engines=abc`] })).rejects.toThrow(
      'acme driver: option "engines" must be an integer from 1 to 8, got "abc"',
    );
    await expect(openAccelerator({ registry: r, devices: ['reference?workers=2'] })).rejects.toThrow(
      'device spec "reference?workers=2": unknown option "workers"; it takes no options',
    );
    const accel = await openAccelerator({ registry: r, devices: [`${CARD}?engines=4`] });
    expect(accel.devices[0]!.model).toBe('ACME X1 (4 engines)');
    await accel.close();
  });

  it('the CLI help lists the family; the CLI opens it and refuses its bad specs with exit 2', async () => {
    const r = registry();
    const help = captureIo();
    expect(await run(['node', 'pkaccel', '--help'], { registry: r, io: help, env: {} })).toBe(0);
    expect(help.stdout()).toMatch(/^ {2}acme +PCI acae:0001; options: engines=N irq=msix\|poll — ACME X1/m);
    expect(help.stdout()).toMatch(/^ {2}reference +spec "reference", role fallback/m);
    expect(help.stdout()).toMatch(/auto = the cards found \+ reference/);
    expect(help.stdout()).not.toMatch(/sim:ring|Simulated cards|role fallback.*software/);

    const devices = captureIo();
    const code = await run(['node', 'pkaccel', 'devices', '--json', '--sysfs-root', '/nonexistent'], {
      registry: r,
      io: devices,
      env: {},
    });
    expect(devices.stderr()).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(devices.stdout()) as { devices: { id: string; state: string }[] };
    expect(out.devices.map((d) => [d.id, d.state])).toEqual([
      [`acme:${ACME_ADDRESS}`, 'ready'],
      ['reference', 'ready'],
    ]);

    const bad = captureIo();
    expect(
      await run(['node', 'pkaccel', 'devices', '--devices', `${CARD}?enginez=4`], {
        registry: r,
        io: bad,
        env: {},
      }),
    ).toBe(2);
    expect(bad.stdout()).toBe('');
    expect(bad.stderr()).toBe(
      `error: device spec "${CARD}?enginez=4": unknown option "enginez"; valid options: engines, irq\n`,
    );
  });

  it('a card that fails to open is a failure (exit 1) reported in the table, not a usage error', async () => {
    const r = registry();
    const io = captureIo();
    const code = await run(['node', 'pkaccel', 'selftest', '--devices', 'acmebus:0000:00:0b.0', '--json'], {
      registry: r,
      io,
      env: {},
    });
    expect(code).toBe(1);
    const out = JSON.parse(io.stdout()) as { devices: { opened: boolean; error: string }[] };
    expect(out.devices[0]).toMatchObject({ opened: false, error: 'DeviceError: no card at 0000:00:0b.0' });
  });

  it('its simulated card: the model folder is found, listed, opened on a worker and claimed by the driver', async () => {
    const simulator = new SimulatorPlatform({ modelFolders: [new URL('./family/models/', import.meta.url)] });
    const r = new Registry();
    r.registerPlatform(simulator);
    r.registerDriver(acmeDriver);
    r.registerDriver(referenceDriver);
    expect((await simulator.models()).map((m) => m.spec)).toEqual(['sim:acme']);

    const help = captureIo();
    expect(await run(['node', 'pkaccel', '--help'], { registry: r, io: help, env: {} })).toBe(0);
    expect(help.stdout()).toMatch(/^Simulated cards: sim:acme \(acme\)$/m);

    // Not offered by default: auto with simulateWhenNoCard opens no simulated card.
    expect(await r.autoSpecs(undefined, { simulateWhenNoCard: true })).toEqual({
      specs: ['reference'],
      cards: 0,
      simulated: [],
    });

    // Worker mode (the default): the worker loads the model from the test tree.
    const accel = await openAccelerator({ registry: r, devices: ['sim:acme?engines=3'] });
    try {
      expect(accel.devices.map((d) => [d.id, d.driver, d.model])).toEqual([
        ['acme:sim:acme#0', 'acme', 'ACME X1 (3 engines)'],
      ]);
      const [card] = simulator.openFunctions;
      expect(card?.sim.mode).toBe('worker');
      expect(card?.bar(0).read32(ACME_ID_REGISTER)).toBe(0xacae0001);
      await expectX25519(accel);
      expect(ranOn).toEqual(['acme:sim:acme#0']);
    } finally {
      await accel.close();
    }
    expect(simulator.openFunctions).toEqual([]);
  });
});
