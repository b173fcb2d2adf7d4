/** The text form of `pkaccel speed`: rows without figures keep the table's columns; noisy ratios say so. */

import { describe, expect, it } from 'vitest';
import { createStyle } from '../../cli/io.js';
import { renderSpeedText } from '../../cli/speed/report-text.js';
import type { SpeedReport, SpeedResult } from '../../cli/speed/run.js';

const latency = { mean: 1, p50: 1, p90: 2, p99: 3, max: 4 };
const ok = (
  provider: string,
  kind: SpeedResult['kind'],
  opsPerSecond: number,
  extra: Partial<SpeedResult> = {},
): SpeedResult => ({
  algorithm: 'rsa2048',
  provider,
  kind,
  concurrency: 4,
  status: 'ok',
  ops: opsPerSecond,
  seconds: 1,
  opsPerSecond,
  latencyMs: latency,
  ...extra,
});

function report(results: SpeedResult[]): SpeedReport {
  return {
    date: '2026-12-07T00:00:00.000Z',
    node: 'v20.0.0',
    cpus: 2,
    seconds: 1,
    rounds: 3,
    concurrency: [4],
    algorithms: [{ name: 'rsa2048', label: 'RSA-2048 sign' }],
    providers: [],
    unavailable: [],
    notes: [],
    results,
  };
}

const LONG = `OperationError: sign: no device in service can do it: ${'x'.repeat(200)}`;

function tableLines(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('provider'));
  const end = lines.findIndex((l, i) => i > start && !/^\S+ +\d+ /.test(l) && !l.startsWith('-'));
  return lines.slice(start, end);
}

describe('speed text report', () => {
  it('an error or unsupported row keeps the columns; its reason goes below the table', () => {
    const style = createStyle(false);
    const clean = renderSpeedText(
      report([
        ok('software', 'software', 100, { vsNode: 1, vsSoftware: 1 }),
        ok('node', 'node', 100, { vsNode: 1, vsSoftware: 1 }),
      ]),
      style,
    );
    const text = renderSpeedText(
      report([
        {
          algorithm: 'rsa2048',
          provider: 'sim:ring',
          kind: 'device',
          concurrency: 4,
          status: 'error',
          error: LONG,
          reason: LONG,
        },
        {
          algorithm: 'rsa2048',
          provider: 'sim:window',
          kind: 'device',
          concurrency: 4,
          status: 'unsupported',
          error: 'UnsupportedError: no RSA-2048 signing',
          reason: 'UnsupportedError: no RSA-2048 signing',
        },
        ok('software', 'software', 100, { vsNode: 1, vsSoftware: 1 }),
        ok('node', 'node', 100, { vsNode: 1, vsSoftware: 1 }),
      ]),
      style,
    );
    const width = Math.max(...tableLines(clean).map((l) => l.length));
    for (const line of tableLines(text))
      expect(line.length, line).toBeLessThanOrEqual(width + 'sim:window'.length);
    expect(text).toMatch(/^sim:ring +4 +error \[1\] +- +- +- +- +-$/m);
    expect(text).toMatch(/^sim:window +4 +n\/a \[2\] +- +- +- +- +-$/m);
    expect(text).toContain(`  [1] sim:ring: error: ${LONG}`);
    expect(text).toContain('  [2] sim:window: not supported: UnsupportedError: no RSA-2048 signing');
  });

  it('a noisy ratio shows the range of its rounds, and a note says what that means', () => {
    const style = createStyle(false);
    const quiet = renderSpeedText(
      report([ok('software', 'software', 100, { vsNode: 0.9, vsSoftware: 1 })]),
      style,
    );
    expect(quiet).not.toMatch(/noisy/);
    const text = renderSpeedText(
      report([
        ok('software', 'software', 100, {
          vsNode: 0.9,
          vsSoftware: 1,
          vsNodeRange: [0.7, 1.2],
          vsSoftwareRange: [1, 1],
          noisy: { vsNode: true },
        }),
      ]),
      style,
    );
    expect(text).toMatch(/^software +4 +100 +1\.00 +2\.00 +3\.00 +0\.90x \(0\.70–1\.20\) +1\.00x$/m);
    expect(text).toMatch(
      /note: ratios with a range in brackets are noisy: their 3 rounds differed by more than 10%/,
    );
    expect(text).toMatch(/1 s per measurement in 3 rounds/);
  });
});
