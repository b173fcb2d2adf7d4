/**
 * `sim:virtio`: a virtio-crypto device (akcipher service, RSA) over the
 * virtio-pci modern transport, written from docs/hardware/virtio-crypto.md (the
 * VIRTIO spec sections it cites). Split as QEMU splits it: transport.ts is the
 * virtio-pci function and its virtqueues (BAR 4 holds the structures where QEMU
 * places them: common configuration at 0x0, ISR at 0x1000, device configuration
 * at 0x2000, notifications at 0x3000, multiplier 4), crypto-device.ts the crypto
 * device, rsa.ts its arithmetic. Requests are served when the queue is notified,
 * as QEMU's builtin backend does.
 *
 * Options (./family.ts): `profile=spec` (default: every hash the spec names, RAW
 * padding, `queues=<n>` data queues, default 2) or `profile=qemu-7.2` (what QEMU
 * 7.2 with its nettle build does: one data queue, PKCS#1 hashes MD5/SHA-1/SHA-256/
 * SHA-512 only, RAW sessions created but every RAW operation failing with ERR,
 * verify failure as KEY_REJECTED); `irq=msix|intx|none`; and the simulator's `faults=`.
 */

import type { DeviceModel, ModelDefinition, ModelHost, ModelLayout } from '../../model.js';
import { familyOptions } from '../family.js';
import { profileOf, VirtioCryptoFunction } from './crypto-device.js';
import { virtioFamily } from './family.js';
import { CryptoCfg, VIRTIO_CRYPTO_PCI_DEVICE_ID, VIRTIO_VENDOR_ID } from './registers.js';
import { VirtioPciTransport, virtioPciLayout } from './transport.js';

export function virtioLayout(options: Readonly<Record<string, string>>): ModelLayout {
  const profile = profileOf(options);
  // `irq=poll` is the driver's option (poll although the card has interrupts): the card keeps MSI-X.
  const { irq } = familyOptions(virtioFamily, options);
  return virtioPciLayout({
    identity: {
      vendorId: VIRTIO_VENDOR_ID,
      deviceId: VIRTIO_CRYPTO_PCI_DEVICE_ID,
      subsystemVendorId: VIRTIO_VENDOR_ID,
      subsystemDeviceId: 0x1100,
      classCode: 0x00ff00,
      revision: 1,
    },
    irq: irq === 'poll' ? 'msix' : irq,
    vectors: profile.dataQueues + 2,
    // Rings and per-job buffers for each data queue plus the control queue.
    dmaArenaBytes: (profile.dataQueues + 1) * 512 * 1024,
    configBytes: CryptoCfg.size,
  });
}

class VirtioCryptoModel implements DeviceModel {
  readonly layout: ModelLayout;
  readonly #transport: VirtioPciTransport;

  constructor(host: ModelHost) {
    this.layout = virtioLayout(host.options);
    this.#transport = new VirtioPciTransport(host, this.layout);
    this.#transport.attach(new VirtioCryptoFunction(host, this.#transport, profileOf(host.options)));
  }

  reset(): void {
    this.#transport.reset();
  }

  onWrite(bar: number, offset: number, width: 1 | 2 | 4 | 8, value: bigint): void {
    this.#transport.onWrite(bar, offset, width, value);
  }
}

const definition: ModelDefinition = {
  name: virtioFamily.name,
  layout: virtioLayout,
  create: (host) => new VirtioCryptoModel(host),
};

export default definition;
