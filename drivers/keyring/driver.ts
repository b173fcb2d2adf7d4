/**
 * The keyring driver: a virtual driver (scheme `keyring`) over the kernel's key
 * management. Specs: `keyring` (named keys searched in the user keyring @u),
 * `keyring:@s`, `keyring:@u`, `keyring:<serial>`; options `depth` (jobs in flight)
 * and `import` (where imported keys go: the process keyring, or the spec's).
 *
 * The driver is made with the keyctl calls it uses (`keyringDriver(() => keyctl)`):
 * the composition root hands it pcie-mmio's system module, so the driver imports
 * only the core contracts and tests can give it another kernel.
 */

import { type Device, throwIfAborted, type VirtualDriver } from '../../core/driver/index.js';
import { type ProbeOptionSchema, parseProbeOptions } from '../../core/driver/probe-options.js';
import type { DeviceSpec } from '../../core/platform/index.js';
import { KEYRING_PRIORITY, KeyringDevice } from './device.js';
import type { KeyctlCalls } from './keyctl.js';

/** The options a `keyring?…` spec takes. */
export const KEYRING_OPTIONS = {
  depth: {
    kind: 'int',
    min: 1,
    max: 4096,
    default: 64,
    doc: 'keyctl calls in flight (they run on libuv\u2019s pool)',
  },
  import: {
    kind: 'enum',
    values: ['process', 'keyring'],
    default: 'process',
    doc: 'where imported keys go: the process keyring (gone with the process) or the spec\u2019s keyring',
  },
} as const satisfies ProbeOptionSchema;

/** The keyring driver, given where its keyctl calls come from (called at each open; may throw UnsupportedError). */
export function keyringDriver(keyctl: () => KeyctlCalls): VirtualDriver {
  return {
    kind: 'virtual',
    name: 'keyring',
    priority: KEYRING_PRIORITY,
    description: 'Linux kernel keyrings: keyctl public-key operations on keys the kernel holds',
    options: KEYRING_OPTIONS,
    scheme: 'keyring',
    async open(spec: DeviceSpec, signal?: AbortSignal): Promise<Device> {
      throwIfAborted(signal);
      const options = parseProbeOptions(spec.options, KEYRING_OPTIONS, `device spec "${spec.text}"`);
      const device = new KeyringDevice({
        id: spec.text,
        keyring: spec.target === '' ? '@u' : spec.target,
        importTo: options.import,
        depth: options.depth,
        keyctl: keyctl(),
      });
      await device.start(signal);
      return device;
    },
  };
}
