/**
 * What a driver gets from the machine for one PCI function: its identity, its
 * config space, its BARs as register windows, DMA memory and interrupts.
 * `native/` implements it over sysfs/UIO/VFIO; `simulator/` over device models.
 * The contracts are defined once, in pcie-mmio's `contracts` module (so that
 * package stays standalone); core re-exports the types, and nothing else of
 * pcie-mmio reaches core.
 */

import type { DeviceSpec } from 'pcie-mmio/contracts';

export type {
  DeviceSpec,
  IrqSupport,
  PciConfigSpace,
  PciFunction,
  PciFunctionInfo,
  PciIdentity,
  Platform,
} from 'pcie-mmio/contracts';

/**
 * Parse `scheme[:target][?k=v&…]`. Throws an InvalidInputError-like TypeError on an empty spec.
 *
 * @category Platform contracts
 */
export function parseDeviceSpec(text: string): DeviceSpec {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new TypeError('empty device spec');
  const q = trimmed.indexOf('?');
  const head = q < 0 ? trimmed : trimmed.slice(0, q);
  const query = q < 0 ? '' : trimmed.slice(q + 1);
  const colon = head.indexOf(':');
  const scheme = colon < 0 ? head : head.slice(0, colon);
  const target = colon < 0 ? '' : head.slice(colon + 1);
  const options: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) options[k] = v;
  return { text: trimmed, scheme, target, options };
}
