/**
 * `pkaccel stats --workload <alg>`: keep the selected devices busy with one
 * workload through a single accelerator (one job queue over all of them) and
 * show its `stats$` live, once a second by default: per device ops/s, jobs in
 * flight, end-to-end latency percentiles. With --json, one JSON object per
 * snapshot per line (NDJSON), the last one marked `final`. Without --workload,
 * `--devices broker[:SOCKET]` reads a running broker's counters instead, with
 * one row per client (./broker-stats.ts).
 */

import { existsSync } from 'node:fs';
import type { QueueStats } from '../../index.js';
import { type CommandContext, messageOf } from '../context.js';
import { openSelected, selectDevices, selectionNote } from '../device-selection.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../exit-codes.js';
import { algorithmNamed, SPEED_ALGORITHMS, type SubtleLike } from '../speed/algorithms.js';
import { measure } from '../speed/measure.js';
import { formatMs, formatRate } from '../speed/report-text.js';
import { renderTable } from '../table.js';
import { brokerSockets, runBrokerStats } from './broker-stats.js';

export interface StatsOptions {
  /** Without one, the devices must be broker: devices, whose counters are read (broker-stats.ts). */
  readonly workload?: string;
  readonly devices?: string[];
  readonly seconds: number;
  readonly concurrency: number;
  readonly intervalMs: number;
  readonly json?: boolean;
}

/** The part of a snapshot the command shows (and prints as JSON). */
export interface StatsLine {
  readonly elapsedSeconds: number;
  readonly final: boolean;
  readonly opsPerSecond: number;
  readonly completed: number;
  readonly failed: number;
  readonly inFlight: number;
  readonly backlog: number;
  readonly devices: readonly {
    readonly id: string;
    readonly state: string;
    readonly fallback: boolean;
    readonly opsPerSecond: number;
    readonly inFlight: number;
    readonly completed: number;
    readonly failed: number;
    readonly latencyMs: {
      readonly p50: number;
      readonly p90: number;
      readonly p99: number;
      readonly count: number;
    };
  }[];
}

export function statsLine(stats: QueueStats, elapsedSeconds: number, final: boolean): StatsLine {
  return {
    elapsedSeconds,
    final,
    opsPerSecond: stats.opsPerSecond,
    completed: stats.completed,
    failed: stats.failed,
    inFlight: stats.inFlight,
    backlog: stats.backlog,
    devices: stats.devices.map((d) => ({
      id: d.id,
      state: d.state,
      fallback: d.fallback,
      opsPerSecond: d.opsPerSecond,
      inFlight: d.inFlight,
      completed: d.completed,
      failed: d.failed,
      latencyMs: {
        p50: d.latency.endToEnd.p50,
        p90: d.latency.endToEnd.p90,
        p99: d.latency.endToEnd.p99,
        count: d.latency.endToEnd.count,
      },
    })),
  };
}

function renderLine(line: StatsLine, workload: string): string {
  const head =
    `${workload}  t=${line.elapsedSeconds.toFixed(1)} s${line.final ? ' (final)' : ''}  ` +
    `${formatRate(line.opsPerSecond)} ops/s  completed ${line.completed}  failed ${line.failed}  ` +
    `in flight ${line.inFlight}  backlog ${line.backlog}`;
  const table = renderTable(
    ['device', 'state', 'ops/s', 'in flight', 'completed', 'failed', 'p50 ms', 'p90 ms', 'p99 ms'],
    line.devices.map((d) => [
      `${d.id}${d.fallback ? ' (fallback)' : ''}`,
      d.state,
      formatRate(d.opsPerSecond),
      String(d.inFlight),
      String(d.completed),
      String(d.failed),
      d.latencyMs.count > 0 ? formatMs(d.latencyMs.p50) : '-',
      d.latencyMs.count > 0 ? formatMs(d.latencyMs.p90) : '-',
      d.latencyMs.count > 0 ? formatMs(d.latencyMs.p99) : '-',
    ]),
    ['left', 'left'],
  );
  return `${head}\n${table}\n`;
}

export async function runStats(ctx: CommandContext, options: StatsOptions): Promise<number> {
  if (options.workload === undefined) {
    // Bare `pkaccel stats` with no broker running is a usage slip, not a failed read: say both uses.
    const socket = brokerSockets(undefined, ctx.env)[0]!;
    if (options.devices === undefined && !existsSync(socket))
      throw new UsageError(
        `stats needs --workload NAME (known: ${SPEED_ALGORITHMS.map((a) => a.name).join(' ')}), or a running broker to read (none at ${socket}: start \`pkaccel serve\` or give --devices broker:SOCKET)`,
      );
    return runBrokerStats(ctx, options);
  }
  const algorithm = algorithmNamed(options.workload);
  if (!algorithm)
    throw new UsageError(
      `unknown workload "${options.workload}"; known: ${SPEED_ALGORITHMS.map((a) => a.name).join(' ')}`,
    );
  const selection = await selectDevices(ctx, options.devices);
  const note = selectionNote(ctx, selection);
  if (note !== undefined) ctx.io.err(`note: ${note}\n`);
  const opened = await openSelected(ctx, selection.specs, { queue: { statsIntervalMs: options.intervalMs } });
  if (opened.accel === undefined) {
    ctx.io.err(`could not open ${selection.specs.join(', ')}: ${messageOf(opened.error)}\n`);
    return EXIT_FAILURE;
  }
  const accel = opened.accel;
  const started = performance.now();
  let drawnLines = 0;
  const show = (line: StatsLine) => {
    if (options.json === true) {
      ctx.io.out(`${JSON.stringify({ workload: algorithm.name, ...line })}\n`);
      return;
    }
    const text = renderLine(line, algorithm.name);
    // On a terminal, redraw in place; in a pipe, append (each snapshot stays readable in a log).
    if (ctx.io.outIsTTY && drawnLines > 0) ctx.io.out(`\u001b[${drawnLines}A\u001b[0J`);
    ctx.io.out(text);
    drawnLines = text.split('\n').length - 1;
  };
  const subscription = accel.stats$.subscribe((stats) =>
    show(statsLine(stats, (performance.now() - started) / 1000, false)),
  );
  let error: string | undefined;
  try {
    const prepared = await algorithm.prepare(accel.subtle as unknown as SubtleLike, algorithm.generateKeys());
    if (!prepared.check(await prepared.run()))
      error = 'wrong result: the first operation disagrees with node:crypto';
    else {
      const m = await measure(prepared.run, {
        seconds: options.seconds,
        concurrency: options.concurrency,
        signal: ctx.signal,
      });
      if (m.firstError !== undefined) error = m.firstError;
    }
  } catch (e) {
    error = messageOf(e);
  } finally {
    subscription.unsubscribe();
  }
  show(statsLine(accel.queue.snapshot(), (performance.now() - started) / 1000, true));
  await accel.close();
  if (error !== undefined) ctx.io.err(`workload ${algorithm.name} failed: ${error}\n`);
  return error === undefined ? EXIT_OK : EXIT_FAILURE;
}
