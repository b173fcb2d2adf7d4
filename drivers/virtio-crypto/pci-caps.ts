/**
 * The virtio-pci capability walk (VIRTIO 1.2 §4.1.4): find where the common
 * configuration, notification area, ISR byte and device configuration live
 * (which BAR, at what offset) by following the PCI capability list in config space.
 */

import { UnsupportedError } from '../../core/driver/index.js';
import type { PciConfigSpace } from '../../core/platform/index.js';
import {
  PCI_CAP_ID_VENDOR,
  PCI_CAPABILITY_LIST,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  VirtioPciCapType,
} from './registers.js';

/** One structure's place: a BAR and a byte range in it. */
export interface StructureLocation {
  readonly bar: number;
  readonly offset: number;
  readonly length: number;
}

export interface VirtioPciLayout {
  readonly common: StructureLocation;
  readonly notify: StructureLocation & { readonly offMultiplier: number };
  readonly isr: StructureLocation;
  readonly device: StructureLocation;
}

/** At most 48 capabilities fit in the 192 bytes after the header; more means a loop. */
const MAX_CAPABILITIES = 48;

export function walkVirtioCapabilities(config: PciConfigSpace): VirtioPciLayout {
  if ((config.read16(PCI_STATUS) & PCI_STATUS_CAP_LIST) === 0)
    throw new UnsupportedError(
      'virtio-crypto: the function has no PCI capability list (not a modern virtio device)',
    );
  const found = new Map<number, StructureLocation & { offMultiplier?: number }>();
  let at = config.read8(PCI_CAPABILITY_LIST) & 0xfc;
  for (let n = 0; at !== 0 && n < MAX_CAPABILITIES; n++) {
    if (at + 16 > config.size) break;
    const id = config.read8(at);
    const next = config.read8(at + 1) & 0xfc;
    if (id === PCI_CAP_ID_VENDOR) {
      const capLength = config.read8(at + 2);
      const type = config.read8(at + 3);
      const bar = config.read8(at + 4);
      // The first capability of each type that the driver can use wins (§4.1.4: "the driver SHOULD use the first").
      if (!found.has(type) && bar <= 5 && capLength >= 16) {
        const location = { bar, offset: config.read32(at + 8), length: config.read32(at + 12) };
        if (type === VirtioPciCapType.notify && capLength >= 20)
          found.set(type, { ...location, offMultiplier: config.read32(at + 16) });
        else found.set(type, location);
      }
    }
    at = next;
  }
  const need = (type: number, what: string): StructureLocation & { offMultiplier?: number } => {
    const loc = found.get(type);
    if (loc === undefined) throw new UnsupportedError(`virtio-crypto: no ${what} capability in config space`);
    return loc;
  };
  const common = need(VirtioPciCapType.common, 'common configuration');
  const notify = need(VirtioPciCapType.notify, 'notification');
  const isr = need(VirtioPciCapType.isr, 'ISR');
  const device = need(VirtioPciCapType.device, 'device configuration');
  if (notify.offMultiplier === undefined)
    throw new UnsupportedError('virtio-crypto: the notification capability lacks its offset multiplier');
  return { common, notify: { ...notify, offMultiplier: notify.offMultiplier }, isr, device };
}
