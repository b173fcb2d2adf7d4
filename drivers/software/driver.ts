/**
 * The software provider's driver: a virtual driver (scheme `software`) that
 * registers like hardware, over node:crypto (OpenSSL). It is the reference for
 * correctness and the fallback (`role: 'fallback'`), at the lowest priority so
 * that any card that can do a job is preferred. `open` reads the spec options
 * with core/driver/probe-options (an unknown name or a bad value is refused
 * with the list of valid ones), makes the device and `start()`s it.
 */

import { openWithOptions, type ProbeOptionSchema, type VirtualDriver } from '../../core/driver/index.js';
import { SOFTWARE_PRIORITY, SoftwareDevice } from './device.js';

/** The options a `software?…` spec takes. */
export const SOFTWARE_OPTIONS = {
  workers: {
    kind: 'int',
    min: 1,
    max: 256,
    doc: 'pool worker threads (default: one per CPU but one; with inline=off, one per CPU)',
  },
  depth: { kind: 'int', min: 1, max: 1 << 20, default: 1024, doc: 'jobs in flight per queue pair' },
  queues: { kind: 'int', min: 1, max: 64, default: 1, doc: 'queue pairs, sharing the pool' },
  inline: {
    kind: 'enum',
    values: ['on', 'off'],
    default: 'on',
    doc: 'off: never run a job on the calling thread',
  },
  pool: {
    kind: 'enum',
    values: ['workers', 'uv'],
    default: 'workers',
    doc: "uv: sign/verify on libuv's thread pool, the rest on the worker pool",
  },
} as const satisfies ProbeOptionSchema;

export const softwareDriver: VirtualDriver = {
  kind: 'virtual',
  name: 'software',
  priority: SOFTWARE_PRIORITY,
  role: 'fallback',
  description: 'node:crypto (OpenSSL): the reference and the fallback',
  options: SOFTWARE_OPTIONS,
  scheme: 'software',
  open: openWithOptions(SOFTWARE_OPTIONS, async (spec, options, signal) => {
    const device = new SoftwareDevice(spec.text, options);
    await device.start(signal);
    return device;
  }),
};
