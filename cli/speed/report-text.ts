/** The terminal form of a speed report: one table per algorithm, like `openssl speed` but side by side. */

import type { Style } from '../io.js';
import { renderTable } from '../table.js';
import type { SpeedReport, SpeedResult } from './run.js';

export function formatRate(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatMs(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function ratio(value: number | undefined, style: Style): string {
  if (value === undefined) return '';
  const text = `${value.toFixed(2)}x`;
  return value >= 1.05 ? style.green(text) : value <= 0.95 ? style.yellow(text) : text;
}

function row(r: SpeedResult, style: Style): string[] {
  if (r.status !== 'ok' || r.latencyMs === undefined || r.opsPerSecond === undefined) {
    const what =
      r.status === 'unsupported' ? style.dim('not supported') : style.red(`error: ${r.error ?? 'failed'}`);
    return [r.provider, String(r.concurrency), what, '', '', '', '', ''];
  }
  return [
    r.provider,
    String(r.concurrency),
    formatRate(r.opsPerSecond),
    formatMs(r.latencyMs.p50),
    formatMs(r.latencyMs.p90),
    formatMs(r.latencyMs.p99),
    ratio(r.vsNode, style),
    ratio(r.vsSoftware, style),
  ];
}

export function renderSpeedText(report: SpeedReport, style: Style): string {
  const blocks: string[] = [];
  for (const algorithm of report.algorithms) {
    const rows = report.results.filter((r) => r.algorithm === algorithm.name).map((r) => row(r, style));
    if (rows.length === 0) continue;
    blocks.push(
      `${style.bold(algorithm.name)}  ${style.dim(algorithm.label)}\n${renderTable(
        ['provider', 'in flight', 'ops/s', 'p50 ms', 'p90 ms', 'p99 ms', 'x node', 'x software'],
        rows,
      )}`,
    );
  }
  const providers = report.providers.map((p) => `  ${p.name}: ${p.model}`).join('\n');
  const unavailable = report.unavailable
    .map((u) => `  ${u.spec}: could not be opened (${u.error})`)
    .join('\n');
  const footer = [
    `providers (${report.seconds} s per measurement, ${report.cpus} CPUs, node ${report.node}):`,
    providers,
    ...(unavailable ? [unavailable] : []),
    ...report.notes.map((n) => `note: ${n}`),
  ].join('\n');
  return `${blocks.join('\n\n')}\n\n${footer}\n`;
}
