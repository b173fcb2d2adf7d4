/** The virtio-crypto family (docs/hardware/virtio-crypto.md): its declaration for the simulator's model list. */

import type { ProbeOptionSchema } from '../../../core/driver/probe-options.js';
import type { ModelFamily } from '../family.js';

export const VIRTIO_OPTIONS = {
  profile: {
    kind: 'enum',
    values: ['spec', 'qemu-7.2'],
    default: 'spec',
    doc: 'spec: every hash the spec names and RAW; qemu-7.2: what QEMU 7.2 with nettle does',
  },
  queues: { kind: 'int', min: 1, max: 8, default: 2, doc: 'data queues (profile=spec; qemu-7.2 has one)' },
  irq: {
    kind: 'enum',
    values: ['msix', 'intx', 'none', 'poll'],
    default: 'msix',
    doc: "interrupts the card has (poll is the driver's: the card keeps MSI-X)",
  },
} as const satisfies ProbeOptionSchema;

export const virtioFamily = {
  name: 'virtio',
  description: 'virtio-crypto device (akcipher: RSA) over virtio-pci modern, as QEMU has it',
  offeredByDefault: false,
  options: VIRTIO_OPTIONS,
  module: 'virtio/model',
} as const satisfies ModelFamily<typeof VIRTIO_OPTIONS>;

/** The declaration simulator/models/index.ts finds in this folder. */
export default virtioFamily;
