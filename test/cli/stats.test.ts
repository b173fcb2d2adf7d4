/** `pkaccel stats`: a workload over several devices, the queue's stats$ printed as NDJSON snapshots. */

import { beforeAll, describe, expect, it } from 'vitest';
import { expectExit, requireBuiltBinary, runCli } from './run-cli.js';

interface Snapshot {
  workload: string;
  elapsedSeconds: number;
  final: boolean;
  opsPerSecond: number;
  completed: number;
  failed: number;
  devices: {
    id: string;
    fallback: boolean;
    completed: number;
    inFlight: number;
    latencyMs: { p50: number; count: number };
  }[];
}

beforeAll(requireBuiltBinary);

describe('pkaccel stats', () => {
  it('streams stats$ snapshots while the workload runs, then a final one', async () => {
    const result = await runCli(
      'stats --workload ecdsap256 --devices sim:ring,software --seconds 1 --interval 200 --concurrency 8 --json',
    );
    expectExit(result, 0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Snapshot);
    const live = lines.filter((l) => !l.final);
    expect(live.length).toBeGreaterThanOrEqual(1); // how many depends on the machine's load; one proves it is live
    expect(lines.at(-1)!.final).toBe(true);
    expect(lines.filter((l) => l.final)).toHaveLength(1);
    for (const line of lines) {
      expect(line.workload).toBe('ecdsap256');
      expect(line.devices.map((d) => d.id)).toEqual(['sim:ring#0', 'software']);
    }
    const final = lines.at(-1)!;
    expect(final.failed).toBe(0);
    expect(final.completed).toBeGreaterThan(0);
    expect(final.devices.reduce((n, d) => n + d.completed, 0)).toBe(final.completed);
    expect(final.devices.find((d) => d.id === 'software')!.fallback).toBe(true);
    expect(lines.some((l) => l.opsPerSecond > 0 && l.devices.some((d) => d.latencyMs.count > 0))).toBe(true);
    // counters only grow
    for (let i = 1; i < lines.length; i++)
      expect(lines[i]!.completed).toBeGreaterThanOrEqual(lines[i - 1]!.completed);
  });

  it('exits 2 without a workload or with an unknown one', async () => {
    const bare = await runCli(['stats'], { PKACCEL_SOCKET: '/nonexistent/pkaccel.sock' });
    expectExit(bare, 2);
    expect(bare.stderr).toMatch(
      /stats needs --workload NAME .*or a running broker .*none at \/nonexistent\/pkaccel.sock/,
    );
    const unknown = await runCli(['stats', '--workload', 'rot13', '--devices', 'software']);
    expectExit(unknown, 2);
    expect(unknown.stderr).toMatch(/unknown workload "rot13"/);
  });
});
