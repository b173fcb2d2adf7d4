/**
 * The driver and the device model each transcribe the datasheet's register map
 * (deliberately two readings of one document, in layers that may not share code),
 * with the same names. Here the two copies are compared name by name: a name both
 * have must mean the same number, and the core of each map must be in both.
 */

import { describe, expect, it } from 'vitest';
import * as virtioDriver from '../../drivers/virtio-crypto/registers.js';
import * as windowDriver from '../../drivers/window/registers.js';
import * as virtioModel from '../../simulator/models/virtio/registers.js';
import * as windowModel from '../../simulator/models/window/registers.js';

type Module = Readonly<Record<string, unknown>>;

/** Names both modules export, with the values that differ (a key both objects have, or a scalar). */
function compare(driver: Module, model: Module): { shared: string[]; differences: string[] } {
  const shared = Object.keys(driver).filter((name) => Object.hasOwn(model, name));
  const differences: string[] = [];
  for (const name of shared) {
    const a = driver[name];
    const b = model[name];
    if (typeof a === 'function' || typeof b === 'function') continue;
    if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
      for (const key of Object.keys(a)) {
        if (!Object.hasOwn(b, key)) continue;
        const x = (a as Record<string, unknown>)[key];
        const y = (b as Record<string, unknown>)[key];
        if (x !== y) differences.push(`${name}.${key}: driver ${String(x)}, model ${String(y)}`);
      }
    } else if (a !== b) differences.push(`${name}: driver ${String(a)}, model ${String(b)}`);
  }
  return { shared, differences };
}

describe('register maps: driver and model agree', () => {
  it('window card', () => {
    const { shared, differences } = compare(windowDriver, windowModel);
    expect(differences).toEqual([]);
    for (const name of ['REG', 'CAPS', 'ENGINE', 'STATUS', 'ERROR', 'OP', 'SLOT', 'ID_MAGIC', 'WINDOW_BASE'])
      expect(shared).toContain(name);
    // Every key of the big tables is in both copies.
    const [driver, model]: Module[] = [windowDriver, windowModel];
    for (const name of ['REG', 'CAPS', 'ENGINE', 'STATUS', 'ERROR', 'OP', 'SLOT'])
      expect(Object.keys(model![name] as object).sort()).toEqual(Object.keys(driver![name] as object).sort());
    for (const engine of [0, 3]) {
      expect(windowModel.engineReg(engine, windowModel.ENGINE.STATUS)).toBe(
        windowDriver.engineReg(engine, windowDriver.ENGINE.STATUS),
      );
      expect(windowModel.slotOffset(engine, 12)).toBe(windowDriver.slotOffset(engine, 12));
    }
  });

  it('virtio-crypto', () => {
    const { shared, differences } = compare(virtioDriver, virtioModel);
    expect(differences).toEqual([]);
    for (const name of [
      'VIRTIO_VENDOR_ID',
      'VIRTIO_CRYPTO_PCI_DEVICE_ID',
      'CommonCfg',
      'Status',
      'Isr',
      'Desc',
      'CryptoCfg',
      'Opcode',
      'KeyType',
      'RsaPadding',
      'RsaHash',
      'CryptoStatus',
      'REQUEST_HEADER_SIZE',
      'CREATE_SESSION_INPUT_SIZE',
    ])
      expect(shared).toContain(name);
    const [driver, model]: Module[] = [virtioDriver, virtioModel];
    for (const name of ['CommonCfg', 'Status', 'CryptoCfg', 'Opcode', 'CryptoStatus'])
      expect(Object.keys(model![name] as object).sort()).toEqual(Object.keys(driver![name] as object).sort());
  });
});
