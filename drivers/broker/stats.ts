/**
 * Reading a broker's counters from outside: one connection, one STATS request
 * (docs/protocol.md, "Stats"), closed again. `pkaccel stats --devices broker:…`
 * and tests use it; an application with a `broker:` device open can call
 * `BrokerDevice.stats()` on its own connection instead.
 */

import { BrokerDevice } from './device.js';
import type { BrokerStats } from './protocol.js';

export interface ReadBrokerStatsOptions {
  /** Ask the broker to run its GC before the memory figures (honoured only under --expose-gc). */
  readonly gc?: boolean;
  readonly signal?: AbortSignal;
}

/** The counters of the broker listening on `path` (its devices, its clients, its keys and memory). */
export async function readBrokerStats(
  path: string,
  options: ReadBrokerStatsOptions = {},
): Promise<BrokerStats> {
  const device = new BrokerDevice(`broker:${path}`, path, { depth: 1, reconnect: false });
  try {
    await device.start(options.signal);
    return await device.stats({ gc: options.gc === true }, options.signal);
  } finally {
    await device.close();
  }
}
