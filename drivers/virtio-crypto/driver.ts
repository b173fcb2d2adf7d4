/**
 * The virtio-crypto PCI driver: claims 1af4:1054 (modern virtio-crypto) on any
 * platform (native UIO/VFIO, the simulator) and probes it into a Device.
 *
 * Probe options (from the spec's query string):
 *   irq     `poll` to poll instead of waiting for interrupts; the other values name the
 *           interrupt kind a platform or a simulated card uses, and leave the driver's choice to
 *           what the function offers
 *   queues  use at most n data queues (default 4)
 *   poll    with interrupts: re-check the rings this often anyway, ms (default 50)
 *   id      the device's id (default `virtio-crypto@<address>`)
 *   mode    the native platform's (vfio, uio, sysfs, auto); listed so a pci: spec's check knows it
 *   rate    the device's declared ops/s: the scheduler's starting estimate (core/driver/service-estimate)
 */

import type { Device, PciDriver, ProbeOptions } from '../../core/driver/index.js';
import { RATE_OPTION, UnsupportedError } from '../../core/driver/index.js';
import { type ProbeOptionSchema, parseProbeOptions } from '../../core/driver/probe-options.js';
import type { PciFunction } from '../../core/platform/index.js';
import { VirtioCryptoDevice } from './device.js';
import { VIRTIO_CRYPTO_PCI_DEVICE_ID, VIRTIO_VENDOR_ID } from './registers.js';

/** The options `probe` reads. */
export const VIRTIO_PROBE_OPTIONS = {
  irq: {
    kind: 'enum',
    values: ['auto', 'poll', 'msix', 'msi', 'intx', 'none'],
    default: 'auto',
    doc: 'poll: poll the rings instead of waiting for interrupts',
  },
  queues: { kind: 'int', min: 1, max: 65535, default: 4, doc: 'the most data queues to use' },
  poll: {
    kind: 'int',
    min: 1,
    max: 3_600_000,
    default: 50,
    doc: 'ms between looks at the rings with interrupts (a safety net against a lost one)',
  },
  id: { kind: 'string', doc: 'the device id (default virtio-crypto@<address>)' },
  // The native platform reads `mode` itself (it cannot record names in the registry's option
  // check); named here so that `pci:<address>?mode=vfio` (the QEMU end-to-end test) is not refused.
  mode: { kind: 'string', doc: 'native platform: vfio, uio, sysfs or auto (read by the platform)' },
  rate: RATE_OPTION,
} as const satisfies ProbeOptionSchema;

export const virtioCryptoDriver: PciDriver = {
  kind: 'pci',
  name: 'virtio-crypto',
  // Below dedicated cards, above the software provider: it is a real offload path when present.
  priority: 50,
  description: 'OASIS VIRTIO crypto device, akcipher service (RSA), e.g. QEMU virtio-crypto-pci',
  matches: [{ vendorId: VIRTIO_VENDOR_ID, deviceId: VIRTIO_CRYPTO_PCI_DEVICE_ID }],
  options: VIRTIO_PROBE_OPTIONS,
  async probe(fn: PciFunction, options: ProbeOptions, signal?: AbortSignal): Promise<Device> {
    if (fn.info.vendorId !== VIRTIO_VENDOR_ID || fn.info.deviceId !== VIRTIO_CRYPTO_PCI_DEVICE_ID)
      throw new UnsupportedError(`virtio-crypto does not drive ${fn.info.address}`);
    const o = parseProbeOptions(options, VIRTIO_PROBE_OPTIONS, 'virtio-crypto driver');
    const device = new VirtioCryptoDevice(fn, {
      id: o.id,
      queues: o.queues,
      poll: o.irq === 'poll',
      pollMs: o.poll,
      rate: o.rate,
    });
    await device.start(signal);
    return device;
  },
};
