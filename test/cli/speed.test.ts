/**
 * `pkaccel speed`: short runs (0.2 s windows) of the built binary; the JSON
 * checked for every provider and ratio, the HTML report parsed and its charts
 * read back against the JSON figures.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DefaultTreeAdapterMap, parse } from 'parse5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, expectExit, json, requireBuiltBinary, runCli } from './run-cli.js';

type Element = DefaultTreeAdapterMap['element'];
type Node = DefaultTreeAdapterMap['node'];

interface Result {
  algorithm: string;
  provider: string;
  kind: string;
  concurrency: number;
  status: 'ok' | 'unsupported' | 'error';
  error?: string;
  ops?: number;
  opsPerSecond?: number;
  latencyMs?: { mean: number; p50: number; p90: number; p99: number; max: number };
  vsNode?: number;
  vsSoftware?: number;
}

interface Report {
  seconds: number;
  concurrency: number[];
  algorithms: { name: string; label: string }[];
  providers: { name: string; kind: string; model: string }[];
  results: Result[];
}

function elements(node: Node, out: Element[] = []): Element[] {
  if ('tagName' in node) out.push(node);
  if ('childNodes' in node) for (const child of node.childNodes) elements(child, out);
  if ('content' in node && node.content) elements(node.content as Node, out);
  return out;
}

const attr = (e: Element, name: string) => e.attrs.find((a) => a.name === name)?.value;

let dir: string;
let html: string;
let run: CliResult;
let report: Report;

beforeAll(async () => {
  requireBuiltBinary();
  dir = mkdtempSync(join(tmpdir(), 'pkaccel-speed-'));
  const file = join(dir, 'report.html');
  run = await runCli(
    `speed rsa2048 ecdsap256 ed25519 --devices sim:ring --seconds 0.2 --concurrency 1 4 --json --html ${file}`,
  );
  expectExit(run, 0);
  report = json<Report>(run);
  html = readFileSync(file, 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const find = (algorithm: string, provider: string, concurrency: number) =>
  report.results.find(
    (r) => r.algorithm === algorithm && r.provider === provider && r.concurrency === concurrency,
  )!;

describe('pkaccel speed --json', () => {
  it('measures each device, the software provider and node side by side', () => {
    expect(report.providers.map((p) => [p.name, p.kind])).toEqual([
      ['sim:ring', 'device'],
      ['software', 'software'],
      ['node', 'node'],
    ]);
    expect(report.concurrency).toEqual([1, 4]);
    expect(report.seconds).toBe(0.2);
    expect(report.results).toHaveLength(3 * 3 * 2);
  });

  it('reports ops/s, ordered latency percentiles and ratios for every supported measurement', () => {
    for (const r of report.results.filter((x) => x.status === 'ok')) {
      expect(r.ops, `${r.algorithm} ${r.provider}`).toBeGreaterThan(0);
      expect(r.opsPerSecond).toBeGreaterThan(0);
      const l = r.latencyMs!;
      expect(l.p50).toBeGreaterThan(0);
      expect(l.p50).toBeLessThanOrEqual(l.p90);
      expect(l.p90).toBeLessThanOrEqual(l.p99);
      expect(l.p99).toBeLessThanOrEqual(l.max);
      const node = find(r.algorithm, 'node', r.concurrency);
      const software = find(r.algorithm, 'software', r.concurrency);
      expect(r.vsNode).toBeCloseTo(r.opsPerSecond! / node.opsPerSecond!, 6);
      expect(r.vsSoftware).toBeCloseTo(r.opsPerSecond! / software.opsPerSecond!, 6);
    }
    for (const algorithm of ['rsa2048', 'ecdsap256'])
      for (const c of [1, 4]) expect(find(algorithm, 'sim:ring', c).status).toBe('ok');
    for (const provider of ['software', 'node']) expect(find('ed25519', provider, 4).status).toBe('ok');
  });

  it('marks what a device cannot do as unsupported, not as an error', () => {
    const r = find('ed25519', 'sim:ring', 1);
    expect(r.status).toBe('unsupported');
    expect(r.opsPerSecond).toBeUndefined();
    expect((r as { reason?: string }).reason).toMatch(/\S/); // a skipped row says why
  });
});

describe('pkaccel speed --html', () => {
  const document = () => parse(html);
  const svgs = (chart: string) =>
    elements(document()).filter((e) => e.tagName === 'svg' && attr(e, 'data-chart') === chart);

  it('is self-contained: no scripts, stylesheets or anything fetched', () => {
    const all = elements(document());
    expect(all.some((e) => e.tagName === 'script' || e.tagName === 'link' || e.tagName === 'img')).toBe(
      false,
    );
    for (const e of all)
      for (const a of e.attrs)
        if (a.name === 'src' || a.name === 'href')
          expect(a.value, `${e.tagName} ${a.name}`).not.toMatch(/^(https?:)?\/\//);
    expect(html).not.toMatch(/url\(|@import/);
  });

  it('charts throughput per provider and algorithm, one bar per measured pair at the top concurrency', () => {
    const [chart] = svgs('throughput');
    expect(chart).toBeDefined();
    expect(attr(chart!, 'data-concurrency')).toBe('4');
    const bars = elements(chart!).filter((e) => e.tagName === 'rect' && attr(e, 'class') === 'bar');
    const expected = report.results.filter((r) => r.concurrency === 4 && r.status === 'ok');
    expect(bars).toHaveLength(expected.length);
    for (const r of expected) {
      const bar = bars.find(
        (b) => attr(b, 'data-group') === r.algorithm && attr(b, 'data-series') === r.provider,
      );
      expect(Number(attr(bar!, 'data-value'))).toBeCloseTo(r.opsPerSecond!, 6);
      expect(Number(attr(bar!, 'height'))).toBeGreaterThan(0);
    }
    const missing = elements(chart!).filter((e) => attr(e, 'class') === 'missing');
    expect(missing.map((m) => `${attr(m, 'data-group')}/${attr(m, 'data-series')}`)).toEqual([
      'ed25519/sim:ring',
    ]);
  });

  it('charts throughput against concurrency for each algorithm', () => {
    const charts = svgs('concurrency');
    expect(charts.map((c) => attr(c, 'data-algorithm'))).toEqual(['rsa2048', 'ecdsap256', 'ed25519']);
    const rsa = charts[0]!;
    const points = elements(rsa).filter((e) => e.tagName === 'circle');
    expect(points).toHaveLength(3 * 2);
    for (const p of points) {
      const r = find('rsa2048', attr(p, 'data-series')!, Number(attr(p, 'data-x')));
      expect(Number(attr(p, 'data-y'))).toBeCloseTo(r.opsPerSecond!, 6);
    }
    expect(elements(rsa).filter((e) => e.tagName === 'polyline')).toHaveLength(3);
  });

  it('charts latency percentiles per provider for each algorithm', () => {
    const charts = svgs('latency');
    expect(charts).toHaveLength(3);
    const ecdsa = charts.find((c) => attr(c, 'data-algorithm') === 'ecdsap256')!;
    const bars = elements(ecdsa).filter((e) => e.tagName === 'rect' && attr(e, 'class') === 'bar');
    expect(bars).toHaveLength(3 * 3);
    for (const b of bars) {
      const r = find('ecdsap256', attr(b, 'data-group')!, 1);
      const q = attr(b, 'data-series') as 'p50' | 'p90' | 'p99';
      expect(Number(attr(b, 'data-value'))).toBeCloseTo(r.latencyMs![q], 6);
    }
  });
});

describe('pkaccel speed usage', () => {
  it('exits 2 on an unknown algorithm or a bad number, before measuring anything', async () => {
    const unknown = await runCli(['speed', 'rsa1024', '--devices', 'software']);
    expectExit(unknown, 2);
    expect(unknown.stderr).toMatch(/unknown algorithm "rsa1024"/);
    expectExit(await runCli(['speed', 'rsa2048', '--concurrency', '0']), 2);
    expectExit(await runCli(['speed', 'rsa2048', '--seconds', 'soon']), 2);
  });

  it('prints a side-by-side table for people', async () => {
    const result = await runCli('speed ecdhp256 --devices software --seconds 0.1 --concurrency 2');
    expectExit(result, 0);
    expect(result.stdout).toMatch(/^ecdhp256 +ECDH P-256 derive/m);
    // A ratio whose rounds disagreed carries their range in brackets; a provider's ratio to itself never does.
    const noisy = '(?: \\([\\d.]+–[\\d.]+\\))?';
    expect(result.stdout).toMatch(
      new RegExp(`^software +2 +[\\d,.]+ +[\\d.]+ +[\\d.]+ +[\\d.]+ +[\\d.]+x${noisy} +1\\.00x$`, 'm'),
    );
    expect(result.stdout).toMatch(new RegExp(`^node +2 +[\\d,.]+ .* 1\\.00x +[\\d.]+x${noisy}$`, 'm'));
    expect(result.stdout).toMatch(/in 3 rounds/);
    expect(result.stderr).not.toMatch(/\[#/); // no progress bar when stderr is not a terminal
  });
});
