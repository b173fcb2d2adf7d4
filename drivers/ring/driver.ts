/**
 * The PKR-1 ring card's PCI driver (docs/hardware/ring-card.md): the match
 * table, the probe options, and probe — identify the card (§7 step 1), make
 * the device, `start()` it.
 *
 * Probe options (from the device spec's query string; the card model ignores them):
 *   queues       queue pairs to use, 1…NUM_QUEUES (default all)
 *   depth        ring depth, a power of two 2…MAX_DEPTH (default 256)
 *   irq          `poll`: do not use interrupts
 *   poll         polling period while waiting, ms (default 20; 1 with irq=poll)
 *   coalesce     interrupt after this many completions, 0…255 (default 1)
 *   coalesce_us  …or at most this many µs after the first one, 0…65535 (default 0)
 */

import {
  type PciDriver,
  type ProbeOptions,
  throwIfAborted,
  UnsupportedError,
} from '../../core/driver/index.js';
import type { PciFunction } from '../../core/platform/pci.js';
import { identify, RingDevice, type RingDeviceOptions, type RingIdentity } from './device.js';
import { MAX_DEPTH, PKR1_DEVICE_ID, PKR1_VENDOR_ID } from './registers.js';

/** Above the software provider (0) and the window card (300): the ring card does whole operations. */
export const RING_DRIVER_PRIORITY = 400;

function intOption(options: ProbeOptions, name: string, fallback: number, min: number, max: number): number {
  const text = options[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UnsupportedError(`ring driver option ${name}=${text}: expected an integer in ${min}..${max}`);
  }
  return value;
}

/** The driver's options for this card (limits from its identity registers). */
export function ringOptions(options: ProbeOptions, id: RingIdentity, priority: number): RingDeviceOptions {
  const depth = intOption(options, 'depth', 256, 2, Math.min(id.maxDepth, MAX_DEPTH));
  if ((depth & (depth - 1)) !== 0) throw new UnsupportedError(`ring depth ${depth} is not a power of two`);
  const coalesce = intOption(options, 'coalesce', 1, 0, 255);
  const coalesceUs = intOption(options, 'coalesce_us', 0, 0, 0xffff);
  return {
    queues: intOption(options, 'queues', id.queues, 1, id.queues),
    depth,
    useIrq: options.irq !== 'poll',
    pollMs: intOption(options, 'poll', options.irq === 'poll' ? 1 : 20, 0, 10_000),
    irqCtrl: (coalesceUs << 16) | (coalesce << 8),
    priority,
  };
}

export const ringDriver: PciDriver = {
  kind: 'pci',
  name: 'ring',
  priority: RING_DRIVER_PRIORITY,
  matches: [{ vendorId: PKR1_VENDOR_ID, deviceId: PKR1_DEVICE_ID }],
  async probe(fn: PciFunction, options: ProbeOptions, signal?: AbortSignal): Promise<RingDevice> {
    throwIfAborted(signal);
    const id = identify(fn.bar(0));
    const device = new RingDevice(fn, id, ringOptions(options, id, RING_DRIVER_PRIORITY), 'ring');
    await device.start(signal);
    return device;
  },
};
