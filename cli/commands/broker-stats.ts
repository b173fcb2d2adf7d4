/**
 * `pkaccel stats --devices broker[:SOCKET]` without `--workload`: read a running
 * broker's counters (its STATS request, docs/protocol.md) and show them — the
 * broker's devices as its job queue counts them, and one row per client
 * connection (uid, pid, jobs completed/failed, in flight, keys held). Two
 * requests `--interval` apart, so the ops/s columns are rates over that
 * interval. With --json, one object per broker (the STATS reply plus `socket`):
 * what another tool reads to show which device did the work.
 */

import { setTimeout as delay } from 'node:timers/promises';
import { parseDeviceSpec } from '../../core/platform/pci.js';
import { type BrokerStats, defaultSocketPath, readBrokerStats } from '../../drivers/broker/index.js';
import { type CommandContext, messageOf } from '../context.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../exit-codes.js';
import { formatRate } from '../speed/report-text.js';
import { renderTable } from '../table.js';

export interface BrokerStatsOptions {
  readonly devices?: readonly string[];
  readonly intervalMs: number;
  readonly json?: boolean;
}

/** The socket paths of `broker` / `broker:PATH` specs; any other spec is a usage error. */
export function brokerSockets(devices: readonly string[] | undefined, env: NodeJS.ProcessEnv): string[] {
  const specs = (devices ?? ['broker']).flatMap((d) => d.split(',')).filter((d) => d.trim() !== '');
  return specs.map((text) => {
    const spec = parseDeviceSpec(text);
    if (spec.scheme !== 'broker')
      throw new UsageError(
        `stats without --workload reads running brokers: "${text}" is not a broker: device (give --workload to load devices)`,
      );
    return spec.target !== '' ? spec.target : defaultSocketPath(env);
  });
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

function render(socket: string, s: BrokerStats): string {
  const head =
    `broker ${socket}  pid ${s.pid}  up ${s.uptimeSeconds.toFixed(0)} s  rss ${mb(s.rssBytes)}  ` +
    `heap ${mb(s.heapUsedBytes)}  in flight ${s.inFlight}  session keys ${s.sessionKeys}  ` +
    `named keys ${s.namedKeys.length === 0 ? '-' : s.namedKeys.join(', ')}`;
  const devices = renderTable(
    ['device', 'driver', 'state', 'ops/s', 'in flight', 'completed', 'failed'],
    s.devices.map((d) => [
      d.id,
      d.driver,
      d.inService ? d.state : `${d.state} (out of service)`,
      formatRate(d.opsPerSecond),
      String(d.inFlight),
      String(d.completed),
      String(d.failed),
    ]),
    ['left', 'left', 'left'],
  );
  const clients =
    s.clients.length === 0
      ? '(no clients connected)'
      : renderTable(
          ['client', 'uid', 'gid', 'pid', 'completed', 'failed', 'in flight', 'waiting', 'keys held'],
          s.clients.map((c) => [
            String(c.id),
            String(c.uid),
            String(c.gid),
            String(c.pid),
            String(c.completed),
            String(c.failed),
            String(c.inFlight),
            String(c.waiting),
            String(c.keysHeld),
          ]),
        );
  return `${head}\n${devices}\n\n${clients}\n`;
}

export async function runBrokerStats(ctx: CommandContext, options: BrokerStatsOptions): Promise<number> {
  const sockets = brokerSockets(options.devices, ctx.env);
  let code = EXIT_OK;
  for (const socket of sockets) {
    try {
      // The first request closes the broker's rate window; the second reports rates over the interval.
      await readBrokerStats(socket, { signal: ctx.signal });
      await delay(options.intervalMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      const stats = await readBrokerStats(socket, { signal: ctx.signal });
      ctx.io.out(options.json === true ? `${JSON.stringify({ socket, ...stats })}\n` : render(socket, stats));
    } catch (error) {
      ctx.io.err(`could not read the broker at ${socket}: ${messageOf(error)}\n`);
      code = EXIT_FAILURE;
    }
  }
  return code;
}
