/**
 * The virtio-crypto PCI driver: claims 1af4:1054 (modern virtio-crypto) on any
 * platform (native UIO/VFIO, the simulator) and probes it into a Device.
 *
 * Probe options (from the spec's query string): `irq=poll` to poll instead of
 * waiting for interrupts; `queues=<n>` to use at most n data queues.
 */

import type { Device, PciDriver, ProbeOptions } from '../../core/driver/index.js';
import { UnsupportedError } from '../../core/driver/index.js';
import type { PciFunction } from '../../core/platform/index.js';
import { VIRTIO_CRYPTO_PCI_DEVICE_ID, VIRTIO_VENDOR_ID } from './constants.js';
import { VirtioCryptoDevice } from './device.js';

export const virtioCryptoDriver: PciDriver = {
  kind: 'pci',
  name: 'virtio-crypto',
  // Below dedicated cards, above the software provider: it is a real offload path when present.
  priority: 50,
  matches: [{ vendorId: VIRTIO_VENDOR_ID, deviceId: VIRTIO_CRYPTO_PCI_DEVICE_ID }],
  async probe(fn: PciFunction, options: ProbeOptions, signal?: AbortSignal): Promise<Device> {
    if (fn.info.vendorId !== VIRTIO_VENDOR_ID || fn.info.deviceId !== VIRTIO_CRYPTO_PCI_DEVICE_ID)
      throw new UnsupportedError(`virtio-crypto does not drive ${fn.info.address}`);
    return VirtioCryptoDevice.open(fn, options, signal);
  },
};
