/** The PKR-1 ring card's PCI driver: match table and probe (bring-up, §7 of the datasheet). */

import { type PciDriver, type ProbeOptions, throwIfAborted } from '../../core/driver/index.js';
import type { PciFunction } from '../../core/platform/pci.js';
import { identify, RingDevice, ringOptions } from './device.js';
import { PKR1_DEVICE_ID, PKR1_VENDOR_ID } from './registers.js';

/** Above the software provider (0) and the window card (300): the ring card does whole operations. */
export const RING_DRIVER_PRIORITY = 400;

export const ringDriver: PciDriver = {
  kind: 'pci',
  name: 'ring',
  priority: RING_DRIVER_PRIORITY,
  matches: [{ vendorId: PKR1_VENDOR_ID, deviceId: PKR1_DEVICE_ID }],
  async probe(fn: PciFunction, options: ProbeOptions, signal?: AbortSignal): Promise<RingDevice> {
    throwIfAborted(signal);
    const bar = fn.bar(0);
    const id = identify(bar);
    const device = new RingDevice(fn, id, ringOptions(options, id, RING_DRIVER_PRIORITY), 'ring');
    try {
      await device.reset(signal);
    } catch (error) {
      await device.close();
      throw error;
    }
    return device;
  },
};
