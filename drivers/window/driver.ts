/**
 * The window card's PCI driver: claims 1ded:5749 (docs/hardware/window-card.md)
 * and probes it into a WindowDevice.
 *
 * Probe options (from the device spec's query string, e.g.
 * `sim:window?engines=4&timeout=2000`; `engines` is the simulated card's):
 *   timeout    how long one operation may run before its engine is reset, ms (default 10000)
 *   poll       with an interrupt line: safety-net poll period, ms (default 20)
 *   pollNoIrq  without an interrupt line: poll period, ms (default 1)
 *   rate       the card's declared ops/s: the scheduler's starting estimate (core/driver/service-estimate)
 */

import type { Device, PciDriver, ProbeOptions } from '../../core/driver/device.js';
import { throwIfAborted } from '../../core/driver/errors.js';
import { type ProbeOptionSchema, parseProbeOptions } from '../../core/driver/probe-options.js';
import { RATE_OPTION } from '../../core/driver/service-estimate.js';
import type { PciFunction } from '../../core/platform/pci.js';
import { WindowDevice } from './device.js';
import { WINDOW_DEVICE_ID, WINDOW_VENDOR_ID } from './registers.js';

/** Above the software provider (which registers at 0–100): a card that is there is preferred. */
export const WINDOW_DRIVER_PRIORITY = 300;

/** The options `probe` reads. */
export const WINDOW_PROBE_OPTIONS = {
  timeout: {
    kind: 'int',
    min: 1,
    max: 3_600_000,
    default: 10_000,
    doc: 'ms one operation may run before its engine is reset',
  },
  poll: {
    kind: 'int',
    min: 1,
    max: 3_600_000,
    default: 20,
    doc: 'ms between looks at the engines with an interrupt line (a safety net)',
  },
  pollNoIrq: {
    kind: 'int',
    min: 1,
    max: 3_600_000,
    default: 1,
    doc: 'ms between looks at the engines without an interrupt line',
  },
  rate: RATE_OPTION,
} as const satisfies ProbeOptionSchema;

export const windowDriver: PciDriver = {
  kind: 'pci',
  name: 'window',
  priority: WINDOW_DRIVER_PRIORITY,
  description: 'window card: PKA engines behind register windows (docs/hardware/window-card.md)',
  matches: [{ vendorId: WINDOW_VENDOR_ID, deviceId: WINDOW_DEVICE_ID }],
  options: WINDOW_PROBE_OPTIONS,
  async probe(fn: PciFunction, options: ProbeOptions, signal?: AbortSignal): Promise<Device> {
    const o = parseProbeOptions(options, WINDOW_PROBE_OPTIONS, 'window driver');
    throwIfAborted(signal);
    const device = new WindowDevice(fn, {
      driverName: 'window',
      priority: WINDOW_DRIVER_PRIORITY,
      timeoutMs: o.timeout,
      pollMs: o.poll,
      pollMsNoIrq: o.pollNoIrq,
      rate: o.rate,
    });
    await device.start(signal);
    return device;
  },
};
