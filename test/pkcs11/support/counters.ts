/**
 * Who did the signing: the broker's per-device counters (its job queue's
 * `completed` per device), read over its own socket with the STATS request
 * (`readBrokerStats`, the same figures `pkaccel stats --devices broker:…` shows).
 */

import { readBrokerStats } from '../../../drivers/broker/index.js';
import type { Pkcs11Broker } from './broker.js';

export interface DeviceCounts {
  /** Operations the simulated card (`sim:ring…`) completed. */
  readonly card: number;
  /** Operations every other device (the software provider) completed. */
  readonly others: number;
  /** Every device's id and count, for failure messages. */
  readonly devices: Readonly<Record<string, number>>;
}

export async function deviceCounts(broker: Pkcs11Broker): Promise<DeviceCounts> {
  const stats = await readBrokerStats(broker.brokerSocket, { signal: AbortSignal.timeout(30_000) });
  const devices: Record<string, number> = {};
  let card = 0;
  let others = 0;
  for (const d of stats.devices) {
    devices[d.id] = d.completed;
    if (d.id.startsWith('sim:ring')) card += d.completed;
    else others += d.completed;
  }
  return { card, others, devices };
}
