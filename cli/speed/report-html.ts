/**
 * `speed --html FILE`: one self-contained HTML page (inline CSS and SVG, no
 * scripts, nothing fetched) with three kinds of chart — throughput per provider
 * and algorithm, throughput against concurrency, latency percentiles — and the
 * full table of figures.
 */

import { formatMs, formatRate } from './report-text.js';
import type { SpeedReport, SpeedResult } from './run.js';
import { escapeXml, groupedBarChart, lineChart } from './svg.js';

const PERCENTILES = ['p50', 'p90', 'p99'] as const;

function okAt(
  report: SpeedReport,
  algorithm: string,
  provider: string,
  concurrency: number,
): SpeedResult | undefined {
  return report.results.find(
    (r) =>
      r.algorithm === algorithm &&
      r.provider === provider &&
      r.concurrency === concurrency &&
      r.status === 'ok',
  );
}

function throughputChart(report: SpeedReport, providers: readonly string[]): string {
  const top = Math.max(...report.concurrency);
  return groupedBarChart({
    chart: 'throughput',
    title: `Throughput per provider and algorithm (${top} in flight, log scale)`,
    yLabel: 'operations per second',
    log: true,
    allSeries: providers,
    data: { concurrency: String(top) },
    groups: report.algorithms.map((a) => ({
      label: a.name,
      bars: providers.map((p) => ({ series: p, value: okAt(report, a.name, p, top)?.opsPerSecond })),
    })),
  });
}

function scalingCharts(report: SpeedReport, providers: readonly string[]): string[] {
  return report.algorithms.map((a) =>
    lineChart({
      chart: 'concurrency',
      title: `${a.label}: throughput vs operations in flight`,
      xLabel: 'operations in flight',
      yLabel: 'operations per second',
      xValues: report.concurrency,
      allSeries: providers,
      data: { algorithm: a.name },
      lines: providers
        .map((p) => ({
          series: p,
          points: report.concurrency.flatMap((c) => {
            const r = okAt(report, a.name, p, c);
            return r?.opsPerSecond === undefined ? [] : [{ x: c, y: r.opsPerSecond }];
          }),
        }))
        .filter((line) => line.points.length > 0),
    }),
  );
}

function latencyCharts(report: SpeedReport, providers: readonly string[]): string[] {
  const low = Math.min(...report.concurrency);
  return report.algorithms.map((a) =>
    groupedBarChart({
      chart: 'latency',
      title: `${a.label}: latency percentiles (${low} in flight)`,
      yLabel: 'milliseconds',
      allSeries: PERCENTILES,
      data: { algorithm: a.name, concurrency: String(low) },
      groups: providers.map((p) => {
        const r = okAt(report, a.name, p, low);
        return {
          label: p,
          bars: PERCENTILES.map((q) => ({ series: q, value: r?.latencyMs?.[q] })),
        };
      }),
    }),
  );
}

function resultsTable(report: SpeedReport): string {
  const head = [
    'algorithm',
    'provider',
    'in flight',
    'ops/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'x node',
    'x software',
  ]
    .map((h) => `<th>${h}</th>`)
    .join('');
  const rows = report.results
    .map((r) => {
      const cells =
        r.status === 'ok' && r.opsPerSecond !== undefined && r.latencyMs
          ? [
              formatRate(r.opsPerSecond),
              formatMs(r.latencyMs.p50),
              formatMs(r.latencyMs.p90),
              formatMs(r.latencyMs.p99),
              r.vsNode === undefined ? '' : `${r.vsNode.toFixed(2)}x`,
              r.vsSoftware === undefined ? '' : `${r.vsSoftware.toFixed(2)}x`,
            ]
          : [
              r.status === 'unsupported'
                ? `not supported: ${r.reason ?? r.error ?? ''}`
                : `error: ${r.reason ?? r.error ?? ''}`,
              '',
              '',
              '',
              '',
              '',
            ];
      return `<tr><td>${escapeXml(r.algorithm)}</td><td>${escapeXml(r.provider)}</td><td>${r.concurrency}</td>${cells
        .map((c) => `<td>${escapeXml(c)}</td>`)
        .join('')}</tr>`;
    })
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

export function renderSpeedHtml(report: SpeedReport): string {
  const providers = report.providers.map((p) => p.name);
  const providerList = report.providers
    .map((p) => `<li><b>${escapeXml(p.name)}</b> (${p.kind}): ${escapeXml(p.model)}</li>`)
    .join('');
  const unavailable = report.unavailable
    .map((u) => `<li>${escapeXml(u.spec)}: could not be opened (${escapeXml(u.error)})</li>`)
    .join('');
  const notes = report.notes.map((n) => `<p class="note">${escapeXml(n)}</p>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pkaccel speed report</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
.note { color: #a60; }
</style>
</head>
<body>
<h1>pkaccel speed</h1>
<p>${escapeXml(report.date)} · node ${escapeXml(report.node)} · ${report.cpus} CPUs${report.cpu ? ` (${escapeXml(report.cpu)})` : ''} · ${report.seconds} s per measurement · ratios against node's crypto.subtle and pkaccel's software provider, measured in the same run</p>
<ul>${providerList}${unavailable}</ul>
${notes}
<h2>Throughput</h2>
<div class="charts">${throughputChart(report, providers)}</div>
<h2>Throughput vs concurrency</h2>
<div class="charts">${scalingCharts(report, providers).join('\n')}</div>
<h2>Latency percentiles</h2>
<div class="charts">${latencyCharts(report, providers).join('\n')}</div>
<h2>All figures</h2>
${resultsTable(report)}
</body>
</html>
`;
}
