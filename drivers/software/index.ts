/**
 * The software provider: a driver that registers like hardware, over node:crypto
 * (OpenSSL). It is the reference for correctness and the fallback, at the lowest
 * priority so that any card that can do a job is preferred.
 */

import type { Device, VirtualDriver } from '../../core/driver/index.js';
import { throwIfAborted } from '../../core/driver/index.js';
import type { DeviceSpec } from '../../core/platform/index.js';
import { SOFTWARE_PRIORITY, SoftwareDevice } from './device.js';

export { SOFTWARE_CAPABILITIES } from './capabilities.js';
export { SOFTWARE_PRIORITY, SoftwareDevice } from './device.js';

export const softwareDriver: VirtualDriver = {
  kind: 'virtual',
  name: 'software',
  priority: SOFTWARE_PRIORITY,
  role: 'fallback',
  scheme: 'software',
  async open(spec: DeviceSpec, signal?: AbortSignal): Promise<Device> {
    throwIfAborted(signal);
    return new SoftwareDevice(spec);
  },
};
