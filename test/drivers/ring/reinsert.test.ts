/**
 * Surprise removal and re-insertion (docs/hardware/simulator.md, ring-card.md §7):
 * a removed card reads all-ones and its device goes `gone`; inserted again it is
 * in its power-on state, `removed` is a new pending promise, and the device's
 * `reset()` brings it back to `ready` — keys reload, results are right, and a
 * second removal is seen again.
 */
import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DeviceGoneError } from '../../../core/driver/index.js';
import { bytesOf, type Card, card, harvestAll, openCard, rsaKey, runOne } from './harness.js';

const key = rsaKey(2048);
const input = bytesOf(0x5eed5eedn ** 7n, 256);

function isCorrectSignature(value: Uint8Array): boolean {
  const b64 = (v: bigint) => Buffer.from(v.toString(16).padStart(512, '0'), 'hex').toString('base64url');
  const pub = createPublicKey({ format: 'jwk', key: { kty: 'RSA', n: b64(key.n), e: 'AQAB' } });
  return Buffer.from(publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, value)).equals(
    Buffer.from(input),
  );
}

async function signOnce(c: Card): Promise<boolean> {
  const done = await runOne(c.device.queuePairs[0]!, { op: 'rsa-private', key, input });
  return done.ok && isCorrectSignature(done.value as Uint8Array);
}

/** Poll `condition` (a loaded machine may be slow): true once it holds, false after `ms`. */
async function eventually(condition: () => boolean, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

describe('ring card: surprise removal and re-insertion', () => {
  for (const mode of ['inline', 'worker'] as const) {
    it(`${mode}: removed → gone; reinsertNow → power-on state; reset → ready, right results; removal seen again`, async () => {
      const c = await card(`mode=${mode}&depth=8`);
      const { fn, device } = c;
      expect(await signOnce(c)).toBe(true);
      const firstRemoval = fn.removed;

      fn.sim.removeNow();
      await fn.removed;
      expect(await eventually(() => device.state === 'gone')).toBe(true);
      expect(fn.sim.present).toBe(false);
      expect(fn.bar(0).read32(0x000)).toBe(0xffffffff);
      await expect(device.reset()).rejects.toBeInstanceOf(DeviceGoneError); // not back yet
      expect(device.state).toBe('gone');

      fn.sim.reinsertNow();
      expect(fn.sim.present).toBe(true);
      expect(fn.sim.insertions).toBe(1);
      expect(fn.removed).not.toBe(firstRemoval);
      const bar = fn.bar(0);
      expect(bar.read32(0x000)).toBe(0x474e4952); // MAGIC
      expect(bar.read32(0x020)).toBe(0); // DEV_CTRL: power-on state, not what the driver left
      expect(bar.read32(0x1000 + 0x14)).toBe(0); // queue 0 disabled

      await device.reset();
      expect(device.state).toBe('ready');
      expect(await signOnce(c)).toBe(true); // the key was reloaded into the fresh card

      fn.sim.removeNow(); // the re-armed watch sees the next removal too
      expect(await eventually(() => device.state === 'gone')).toBe(true);
    });
  }

  it('spec option reinsert=<ms>: the remove fault takes the card away and it comes back by itself', async () => {
    const c = await card('mode=worker&depth=8&faults=remove@2&reinsert=100');
    const { fn, device } = c;
    const states: string[] = [];
    device.subscribe((e) => {
      if (e.type === 'state') states.push(e.state);
    });
    expect(await signOnce(c)).toBe(true);
    const qp = device.queuePairs[0]!;
    qp.submit([{ tag: 99, request: { op: 'rsa-private', key, input } }]);
    const [lost] = await harvestAll(qp, 1);
    expect(lost).toMatchObject({ tag: 99, ok: false, error: { code: 'device-gone' } });
    expect(device.state).toBe('gone');
    expect(await eventually(() => fn.sim.present)).toBe(true);
    expect(fn.sim.insertions).toBe(1);
    await device.reset();
    expect(device.state).toBe('ready');
    expect(await signOnce(c)).toBe(true);
    expect(states).toEqual(['gone', 'resetting', 'ready']);
  });

  it('a bad reinsert value is refused when the card is opened', async () => {
    await expect(openCard('mode=inline&reinsert=soon')).rejects.toThrow(/reinsert/);
  });
});
