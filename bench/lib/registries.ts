/** Registries the benches open devices with: one serving a given in-process device as `null`. */

import type { Device, VirtualDriver } from '../../core/driver/index.js';
import { Registry } from '../../core/registry/registry.js';

/** A registry whose one driver (scheme `null`) opens `device()`. */
export function nullRegistry(device: () => Device): Registry {
  const registry = new Registry();
  const driver: VirtualDriver = {
    kind: 'virtual',
    name: 'null',
    scheme: 'null',
    priority: 100,
    open: async () => device(),
  };
  registry.registerDriver(driver);
  return registry;
}
