/**
 * The `broker:` driver: a virtual driver (scheme `broker`) whose device forwards
 * primitive jobs to `pkaccel serve` over its Unix socket (docs/broker.md,
 * docs/protocol.md). `broker` uses the default socket path; `broker:/path.sock`
 * names one. Options: `depth` (jobs in flight), `reconnect` (on/off).
 */

import { type Device, throwIfAborted, type VirtualDriver } from '../../core/driver/index.js';
import { type ProbeOptionSchema, parseProbeOptions } from '../../core/driver/probe-options.js';
import type { DeviceSpec } from '../../core/platform/index.js';
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
  async open(spec: DeviceSpec, signal?: AbortSignal): Promise<Device> {
    throwIfAborted(signal);
    const options = parseProbeOptions(spec.options, BROKER_OPTIONS, `device spec "${spec.text}"`);
    const path = spec.target !== '' ? spec.target : defaultSocketPath();
    const device = new BrokerDevice(spec.text, path, {
      depth: options.depth,
      reconnect: options.reconnect === 'on',
    });
    await device.start(signal);
    return device;
  },
};
