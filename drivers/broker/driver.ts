/**
 * The `broker:` driver: a virtual driver (scheme `broker`) whose device forwards
 * primitive jobs to `pkaccel serve` over its Unix socket (docs/broker.md,
 * docs/protocol.md). `broker` uses the default socket path; `broker:/path.sock`
 * names one. Options: `depth` (jobs in flight), `reconnect` (on/off).
 */

import { openWithOptions, type ProbeOptionSchema, type VirtualDriver } from '../../core/driver/index.js';
import { BROKER_PRIORITY, BrokerDevice } from './device.js';
import { defaultSocketPath } from './socket-path.js';

export const BROKER_OPTIONS = {
  depth: { kind: 'int', min: 1, max: 65536, default: 1024, doc: 'jobs in flight to the broker' },
  reconnect: {
    kind: 'enum',
    values: ['on', 'off'],
    default: 'on',
    doc: 'reconnect with backoff when the broker goes away',
  },
} as const satisfies ProbeOptionSchema;

export const brokerDriver: VirtualDriver = {
  kind: 'virtual',
  name: 'broker',
  priority: BROKER_PRIORITY,
  description: 'the devices of a pkaccel serve broker, over its Unix socket',
  options: BROKER_OPTIONS,
  scheme: 'broker',
  open: openWithOptions(BROKER_OPTIONS, async (spec, options, signal) => {
    const path = spec.target !== '' ? spec.target : defaultSocketPath();
    const device = new BrokerDevice(spec.text, path, {
      depth: options.depth,
      reconnect: options.reconnect === 'on',
    });
    await device.start(signal);
    return device;
  }),
};
