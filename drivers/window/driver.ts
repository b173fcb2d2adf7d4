/**
 * The window card's PCI driver: claims 1ded:5749 (docs/hardware/window-card.md)
 * and probes it into a WindowDevice.
 *
 * Probe options (from the device spec's query string, e.g.
 * `sim:window?engines=4&timeout_ms=2000`; the card model ignores these):
 *   timeout_ms  how long one operation may run before its engine is reset (default 10000)
 *   poll_ms     with interrupts: safety-net poll period (default 20)
 *   poll_ms_noirq  without an interrupt line: poll period (default 1)
 */

import type { Device, PciDriver, ProbeOptions } from '../../core/driver/device.js';
import { InvalidInputError, throwIfAborted } from '../../core/driver/errors.js';
import type { PciFunction } from '../../core/platform/pci.js';
import { WindowDevice } from './device.js';
import { WINDOW_DEVICE_ID, WINDOW_VENDOR_ID } from './registers.js';

/** Above the software provider (which registers at 0–100): a card that is there is preferred. */
export const WINDOW_DRIVER_PRIORITY = 300;

function msOption(options: ProbeOptions, key: string, fallback: number): number {
  const text = options[key];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidInputError(`window driver option ${key}=${text}: expected milliseconds ≥ 0`);
  }
  return value;
}

export const windowDriver: PciDriver = {
  kind: 'pci',
  name: 'window',
  priority: WINDOW_DRIVER_PRIORITY,
  matches: [{ vendorId: WINDOW_VENDOR_ID, deviceId: WINDOW_DEVICE_ID }],
  async probe(fn: PciFunction, options: ProbeOptions, signal?: AbortSignal): Promise<Device> {
    throwIfAborted(signal);
    return WindowDevice.bringUp(
      fn,
      {
        driverName: 'window',
        priority: WINDOW_DRIVER_PRIORITY,
        timeoutMs: msOption(options, 'timeout_ms', 10_000),
        pollMs: msOption(options, 'poll_ms', 20),
        pollMsNoIrq: msOption(options, 'poll_ms_noirq', 1),
      },
      signal,
    );
  },
};
