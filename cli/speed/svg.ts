/**
 * Small self-contained SVG charts for the speed report: grouped bars (linear or
 * log scale) and lines over categorical x values. No scripts, no fonts, no
 * network: the SVG is inline text. Every mark carries data-* attributes with
 * the value it draws, so a test (or a person with devtools) can read the chart
 * back.
 */

export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
];

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function shortNumber(value: number): string {
  if (value >= 1e6) return `${fmt(value / 1e6)}M`;
  if (value >= 1e3) return `${fmt(value / 1e3)}k`;
  if (value >= 1 || value === 0) return fmt(value);
  return value.toPrecision(2);
}

interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

const FRAME: Frame = { width: 760, height: 320, left: 64, right: 16, top: 56, bottom: 56 };

/** A y scale: value -> pixel, and the tick values to label. */
interface Scale {
  y(value: number): number;
  readonly ticks: readonly number[];
}

function linearScale(max: number, frame: Frame): Scale {
  const step = niceStep(max / 5);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const plot = frame.height - frame.top - frame.bottom;
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  return { y: (v) => frame.top + plot - (Math.max(0, v) / top) * plot, ticks };
}

function logScale(min: number, max: number, frame: Frame): Scale {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-3)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(max, 1e-3))));
  const plot = frame.height - frame.top - frame.bottom;
  const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  return {
    y: (v) => frame.top + plot - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plot,
    ticks,
  };
}

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

function axes(frame: Frame, scale: Scale, yLabel: string): string {
  const x0 = frame.left;
  const x1 = frame.width - frame.right;
  const grid = scale.ticks
    .map((t) => {
      const y = scale.y(t).toFixed(1);
      return `<line x1="${x0}" x2="${x1}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${x0 - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${shortNumber(t)}</text>`;
    })
    .join('');
  const yMid = (frame.top + frame.height - frame.bottom) / 2;
  return (
    `${grid}<line x1="${x0}" x2="${x1}" y1="${frame.height - frame.bottom}" y2="${frame.height - frame.bottom}" stroke="#333"/>` +
    `<text transform="translate(14 ${yMid}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(yLabel)}</text>`
  );
}

function legend(series: readonly string[], allSeries: readonly string[], frame: Frame): string {
  let x = frame.left;
  return series
    .map((s) => {
      const colour = PALETTE[allSeries.indexOf(s) % PALETTE.length];
      const item = `<g class="legend-item" data-series="${escapeXml(s)}"><rect x="${x}" y="30" width="12" height="12" fill="${colour}"/><text x="${x + 16}" y="40" font-size="12">${escapeXml(s)}</text></g>`;
      x += 28 + s.length * 7;
      return item;
    })
    .join('');
}

function svgOpen(chart: string, title: string, frame: Frame, extra: Record<string, string>): string {
  const attrs = Object.entries(extra)
    .map(([k, v]) => ` data-${k}="${escapeXml(v)}"`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${escapeXml(title)}" ` +
    `data-chart="${chart}"${attrs} viewBox="0 0 ${frame.width} ${frame.height}" width="${frame.width}" height="${frame.height}" font-family="sans-serif">` +
    `<title>${escapeXml(title)}</title><text x="${frame.left}" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`
  );
}

export interface BarGroup {
  readonly label: string;
  readonly bars: readonly { readonly series: string; readonly value: number | undefined }[];
}

export interface BarChartOptions {
  /** What the chart shows, for data-chart ("throughput", "latency"). */
  readonly chart: string;
  readonly title: string;
  readonly yLabel: string;
  readonly groups: readonly BarGroup[];
  /** Every series name of the report, for stable colours. */
  readonly allSeries: readonly string[];
  readonly log?: boolean;
  readonly data?: Record<string, string>;
}

/** Bars grouped along x; a missing value (unsupported) leaves a gap marked "n/a". */
export function groupedBarChart(options: BarChartOptions): string {
  const frame = FRAME;
  const values = options.groups
    .flatMap((g) => g.bars.map((b) => b.value))
    .filter((v): v is number => v !== undefined);
  const max = Math.max(1e-9, ...values);
  const scale = options.log
    ? logScale(Math.min(...values.filter((v) => v > 0), max), max, frame)
    : linearScale(max, frame);
  const series = [...new Set(options.groups.flatMap((g) => g.bars.map((b) => b.series)))];
  const plotWidth = frame.width - frame.left - frame.right;
  const groupWidth = plotWidth / Math.max(1, options.groups.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, series.length);
  const baseline = frame.height - frame.bottom;
  const marks = options.groups
    .map((group, gi) => {
      const gx = frame.left + gi * groupWidth + groupWidth * 0.1;
      const bars = group.bars
        .map((bar) => {
          const x = gx + series.indexOf(bar.series) * barWidth;
          const colour = PALETTE[options.allSeries.indexOf(bar.series) % PALETTE.length];
          const common = `data-series="${escapeXml(bar.series)}" data-group="${escapeXml(group.label)}"`;
          if (bar.value === undefined)
            return `<text class="missing" ${common} x="${(x + barWidth / 2).toFixed(1)}" y="${baseline - 4}" font-size="9" text-anchor="middle" fill="#999">n/a</text>`;
          const y = scale.y(bar.value);
          return (
            `<rect class="bar" ${common} data-value="${bar.value}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" ` +
            `width="${Math.max(1, barWidth - 2).toFixed(1)}" height="${Math.max(0, baseline - y).toFixed(1)}" fill="${colour}">` +
            `<title>${escapeXml(`${bar.series} ${group.label}: ${shortNumber(bar.value)}`)}</title></rect>`
          );
        })
        .join('');
      const label = `<text x="${(gx + groupWidth * 0.4).toFixed(1)}" y="${baseline + 16}" text-anchor="middle" font-size="12">${escapeXml(group.label)}</text>`;
      return `<g class="group" data-group="${escapeXml(group.label)}">${bars}${label}</g>`;
    })
    .join('');
  return `${svgOpen(options.chart, options.title, frame, options.data ?? {})}${legend(series, options.allSeries, frame)}${axes(frame, scale, options.yLabel)}${marks}</svg>`;
}

export interface LineSeries {
  readonly series: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface LineChartOptions {
  readonly chart: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** The x values, in order; they are spaced evenly (concurrency 1, 4, 16, 64 reads well that way). */
  readonly xValues: readonly number[];
  readonly lines: readonly LineSeries[];
  readonly allSeries: readonly string[];
  readonly data?: Record<string, string>;
}

export function lineChart(options: LineChartOptions): string {
  const frame = FRAME;
  const max = Math.max(1e-9, ...options.lines.flatMap((l) => l.points.map((p) => p.y)));
  const scale = linearScale(max, frame);
  const plotWidth = frame.width - frame.left - frame.right;
  const n = options.xValues.length;
  const xOf = (x: number) => frame.left + ((options.xValues.indexOf(x) + 0.5) / Math.max(1, n)) * plotWidth;
  const baseline = frame.height - frame.bottom;
  const xTicks = options.xValues
    .map(
      (x) =>
        `<text x="${xOf(x).toFixed(1)}" y="${baseline + 16}" text-anchor="middle" font-size="12">${x}</text>`,
    )
    .join('');
  const xLabel = `<text x="${frame.left + plotWidth / 2}" y="${baseline + 36}" text-anchor="middle" font-size="12">${escapeXml(options.xLabel)}</text>`;
  const lines = options.lines
    .map((line) => {
      const colour = PALETTE[options.allSeries.indexOf(line.series) % PALETTE.length];
      const s = escapeXml(line.series);
      const pts = line.points.map((p) => `${xOf(p.x).toFixed(1)},${scale.y(p.y).toFixed(1)}`).join(' ');
      const dots = line.points
        .map(
          (p) =>
            `<circle class="point" data-series="${s}" data-x="${p.x}" data-y="${p.y}" cx="${xOf(p.x).toFixed(1)}" cy="${scale.y(p.y).toFixed(1)}" r="3.5" fill="${colour}"><title>${s} at ${p.x}: ${shortNumber(p.y)}</title></circle>`,
        )
        .join('');
      return `<g class="line" data-series="${s}"><polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2"/>${dots}</g>`;
    })
    .join('');
  const series = options.lines.map((l) => l.series);
  return `${svgOpen(options.chart, options.title, frame, options.data ?? {})}${legend(series, options.allSeries, frame)}${axes(frame, scale, options.yLabel)}${xTicks}${xLabel}${lines}</svg>`;
}
