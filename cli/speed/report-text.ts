/** The terminal form of a speed report: one table per algorithm, like `openssl speed` but side by side. */

import type { Style } from '../io.js';
import { renderTable } from '../table.js';
import { NOISY_SPREAD, type SpeedReport, type SpeedResult } from './run.js';

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

function ratio(
  value: number | undefined,
  range: readonly [number, number] | undefined,
  noisy: boolean,
  style: Style,
): string {
  if (value === undefined) return '';
  const text = `${value.toFixed(2)}x`;
  const coloured = value >= 1.05 ? style.green(text) : value <= 0.95 ? style.yellow(text) : text;
  // Noisy: the rounds disagreed; show the range of the per-round ratios beside the figure.
  return noisy && range !== undefined
    ? `${coloured} ${style.dim(`(${range[0].toFixed(2)}–${range[1].toFixed(2)})`)}`
    : coloured;
}

/**
 * A row of the table. A row without figures keeps the table's columns: a short
 * word in the ops/s column, a note number, and the reason below the table.
 */
function row(r: SpeedResult, style: Style, note: (text: string) => number): string[] {
  if (r.status !== 'ok' || r.latencyMs === undefined || r.opsPerSecond === undefined) {
    const reason = r.reason ?? r.error ?? 'failed';
    const n = note(`${r.provider}: ${r.status === 'unsupported' ? 'not supported' : 'error'}: ${reason}`);
    const what = r.status === 'unsupported' ? style.dim(`n/a [${n}]`) : style.red(`error [${n}]`);
    return [r.provider, String(r.concurrency), what, '-', '-', '-', '-', '-'];
  }
  return [
    r.provider,
    String(r.concurrency),
    formatRate(r.opsPerSecond),
    formatMs(r.latencyMs.p50),
    formatMs(r.latencyMs.p90),
    formatMs(r.latencyMs.p99),
    ratio(r.vsNode, r.vsNodeRange, r.noisy?.vsNode === true, style),
    ratio(r.vsSoftware, r.vsSoftwareRange, r.noisy?.vsSoftware === true, style),
  ];
}

export function renderSpeedText(report: SpeedReport, style: Style): string {
  const blocks: string[] = [];
  let anyNoisy = false;
  for (const algorithm of report.algorithms) {
    const notes: string[] = [];
    const note = (text: string) => {
      const i = notes.indexOf(text);
      if (i >= 0) return i + 1;
      notes.push(text);
      return notes.length;
    };
    const results = report.results.filter((r) => r.algorithm === algorithm.name);
    const rows = results.map((r) => row(r, style, note));
    if (rows.length === 0) continue;
    anyNoisy ||= results.some((r) => r.noisy !== undefined);
    const table = renderTable(
      ['provider', 'in flight', 'ops/s', 'p50 ms', 'p90 ms', 'p99 ms', 'x node', 'x software'],
      rows,
    );
    const footnotes = notes.map((n, i) => `  [${i + 1}] ${n}`);
    blocks.push(
      [`${style.bold(algorithm.name)}  ${style.dim(algorithm.label)}`, table, ...footnotes].join('\n'),
    );
  }
  const providers = report.providers.map((p) => `  ${p.name}: ${p.model}`).join('\n');
  const unavailable = report.unavailable
    .map((u) => `  ${u.spec}: could not be opened (${u.error})`)
    .join('\n');
  const rounds = report.rounds ?? 1;
  const footer = [
    `providers (${report.seconds} s per measurement in ${rounds} round${rounds === 1 ? '' : 's'}, ${report.cpus} CPUs, node ${report.node}):`,
    providers,
    ...(unavailable ? [unavailable] : []),
    ...(anyNoisy
      ? [
          `note: ratios with a range in brackets are noisy: their ${rounds} rounds differed by more than ${Math.round(NOISY_SPREAD * 100)}% (the range is the lowest–highest round); measure longer (-s) or on a quieter machine`,
        ]
      : []),
    ...report.notes.map((n) => `note: ${n}`),
  ].join('\n');
  return `${blocks.join('\n\n')}\n\n${footer}\n`;
}
