/**
 * Simulated cards for tests: open `sim:<model>?…` and probe it with a driver as the
 * registry does, run primitives on a queue pair, close what a test opened.
 */

import { afterEach, expect } from 'vitest';
import type { Completion, Device, PciDriver, PrimitiveRequest, QueuePair } from '../../core/driver/index.js';
import { trackProbeOptions } from '../../core/driver/probe-options.js';
import { parseDeviceSpec } from '../../core/platform/pci.js';
import { type RingDevice, ringDriver } from '../../drivers/ring/index.js';
import type { SimPciFunction } from '../../simulator/function.js';
import { SimulatorPlatform } from '../../simulator/platform.js';

export const platform = new SimulatorPlatform();

/** A simulated card and the device its driver made of it. */
export interface SimCard<D extends Device> {
  readonly fn: SimPciFunction;
  readonly device: D;
}

/**
 * Open the simulated card `spec` (`sim:ring?…`) and probe it with `driver` as the registry
 * does: the card model and the driver each read their options from one tracked set, and a
 * name neither knew is refused.
 */
export async function openSimCard<D extends Device>(driver: PciDriver, spec: string): Promise<SimCard<D>> {
  const parsed = parseDeviceSpec(spec);
  const tracked = trackProbeOptions(parsed.options);
  const fn = await platform.open({ ...parsed, options: tracked.options });
  let device: D;
  try {
    device = (await driver.probe(fn, tracked.options)) as D;
  } catch (error) {
    await fn.close();
    throw error;
  }
  try {
    tracked.check(`device spec "${parsed.text}"`);
  } catch (error) {
    await device.close();
    throw error;
  }
  return { fn, device };
}

/** The simulated PCI function `spec` (`sim:window?…`) without a driver, closed after the test that opened it. */
export async function openSimFunction(spec: string): Promise<SimPciFunction> {
  return closeAfterEach(await platform.open(parseDeviceSpec(spec)));
}

/** A ring card on the inline simulator with `options` (fault schedules: `faults=corrupt:1&seed=3`). */
export async function openRingDevice(options = ''): Promise<RingDevice> {
  const sep = options.length > 0 ? '&' : '';
  const { device } = await openSimCard<RingDevice>(ringDriver, `sim:ring?mode=inline${sep}${options}`);
  return device;
}

/** {@link openRingDevice}, closed after the test that opened it. */
export async function openRing(options = ''): Promise<RingDevice> {
  return closeAfterEach(await openRingDevice(options));
}

const toClose: Array<{ close(): Promise<void> }> = [];
let hooked = false;

/**
 * Close `thing` after the current test (the afterEach hook is registered once per test file):
 * everything is closed, then the first close that failed fails the test.
 */
export function closeAfterEach<T extends { close(): Promise<void> }>(thing: T): T {
  if (!hooked) {
    hooked = true;
    afterEach(async () => {
      const results = await Promise.allSettled(toClose.splice(0).map((t) => t.close()));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
  }
  toClose.push(thing);
  return thing;
}

/**
 * Harvest until `count` completions arrived; each wait rejects when `signal` aborts (by default
 * when that one wait takes more than 20 s).
 */
export async function collect(qp: QueuePair, count: number, signal?: AbortSignal): Promise<Completion[]> {
  const out: Completion[] = [];
  while (out.length < count) {
    qp.harvest((c) => out.push(c));
    if (out.length >= count) break;
    await qp.waitForCompletions(signal ?? AbortSignal.timeout(20_000));
  }
  return out;
}

/** Submit one request with `tag` and wait for its completion. */
export async function runOne(
  qp: QueuePair,
  request: PrimitiveRequest,
  tag = 1,
  signal?: AbortSignal,
): Promise<Completion> {
  const taken = qp.submit([{ tag, request }]);
  if (taken !== 1) throw new Error(`queue pair took ${taken} jobs, expected 1`);
  const [completion] = await collect(qp, 1, signal);
  return completion!;
}

/**
 * A corrupt fault's choice comes from the spec's seed: `corrupted(seed)` run twice with `seeds[0]`
 * gives the same wrong value, and with `seeds[1]` another wrong one.
 */
export async function expectSeededCorruption<T>(
  right: T,
  corrupted: (seed: number) => Promise<T>,
  seeds: readonly [number, number],
): Promise<void> {
  const [a, b, c] = [await corrupted(seeds[0]), await corrupted(seeds[0]), await corrupted(seeds[1])];
  expect(a).not.toEqual(right);
  expect(b).toEqual(a);
  expect(c).not.toEqual(right);
  expect(c).not.toEqual(a);
}

/** Remove the simulated card now and expect its device to have seen it: state `gone`. */
export async function expectGoneAfterRemoval(card: {
  readonly fn: SimPciFunction;
  readonly device: Device;
}): Promise<void> {
  card.fn.sim.removeNow();
  await card.fn.removed;
  await new Promise((r) => setImmediate(r));
  expect(card.device.state).toBe('gone');
}

/** A removed card's reset fails while it is still removed; reinserted, reset brings it back to `ready`. */
export async function expectResetAfterReinsert(card: {
  readonly fn: SimPciFunction;
  readonly device: Device;
}): Promise<void> {
  await expect(card.device.reset()).rejects.toMatchObject({
    code: 'device-gone',
    message: /still removed/,
  });
  card.fn.sim.reinsertNow();
  await card.device.reset();
  expect(card.device.state).toBe('ready');
}
