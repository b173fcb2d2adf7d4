/**
 * The command line's contract for people and scripts (issue 12): help exits 0,
 * a device spec the registry refuses is a usage error (one line on stderr,
 * exit 2) whatever is wrong with it, options are not swallowed, and a report
 * that cannot be written fails before anything is measured.
 */

import { describe, expect, it } from 'vitest';
import { expectExit, json, requireBuiltBinary, runCli } from './run-cli.js';

describe('pkaccel usage', () => {
  it('`help` and `help <command>` print help and exit 0; the help lists the registered drivers', async () => {
    requireBuiltBinary();
    const help = await runCli(['help']);
    expectExit(help, 0);
    expect(help.stdout).toMatch(/^Usage: pkaccel/m);
    expect(help.stdout).toMatch(/^Drivers registered:$/m);
    expect(help.stdout).toMatch(/^ {2}ring +PCI /m);
    expect(help.stdout).toMatch(/^ {2}software +spec "software", role fallback/m);
    expect(help.stdout).toMatch(/^Simulated cards: sim:ring \(ring\) \*, sim:window \(window\) \*/m);
    const speed = await runCli(['help', 'speed']);
    expectExit(speed, 0);
    expect(speed.stdout).toMatch(/^Usage: pkaccel speed/m);
    expectExit(await runCli(['speed', '--help']), 0);
    expectExit(await runCli([]), 2); // no command: usage
  });

  it('a device spec the registry refuses is a usage error: one line on stderr, exit 2', async () => {
    const cases: [string, RegExp][] = [
      ['nosuch', /no driver or platform handles device spec "nosuch"/],
      ['sim:ring?faults=bogus', /bogus/],
      ['pci:zzzz', /zzzz/],
      ['sim:nosuchmodel', /nosuchmodel/],
      ['sim:ring?engines=abc', /engines.*abc/],
      ['software?workers=0', /workers.*0/],
      [
        'sim:ring?engins=8',
        /unknown option "engins"; valid options: .*engines \(simulated ring card\); .*poll.*\(ring driver\)/,
      ],
      ['software?worker=2', /unknown option "worker"; valid options: workers, /],
      ['', /empty/],
      ['sim:ring,', /empty device spec/],
    ];
    for (const [spec, message] of cases) {
      const result = await runCli(['devices', '--json', '--sysfs-root', '/nonexistent', '--devices', spec]);
      expect(result.code, spec).toBe(2);
      expect(result.stdout, spec).toBe('');
      expect(result.stderr, spec).toMatch(/^error: [^\n]+\n$/);
      expect(result.stderr, spec).toMatch(message);
    }
  });

  it('--concurrency 1 16 <algorithm> keeps the algorithm', async () => {
    const result = await runCli(
      'speed --devices software --seconds 0.05 --rounds 1 --json --concurrency 1 2 ed25519',
    );
    expectExit(result, 0);
    const report = json<{ algorithms: { name: string }[]; concurrency: number[]; rounds: number }>(result);
    expect(report.algorithms.map((a) => a.name)).toEqual(['ed25519']);
    expect(report.concurrency).toEqual([1, 2]);
    expect(report.rounds).toBe(1);
    const bad = await runCli(['speed', '--concurrency', '1', 'zero']);
    expectExit(bad, 2);
    expect(bad.stderr).toMatch(/argument 'zero' is invalid/);
  });

  it('--html into a folder that does not exist fails before the benchmark', async () => {
    const started = Date.now();
    const result = await runCli('speed rsa2048 --devices software --seconds 30 --html /no/such/dir/x.html');
    expectExit(result, 2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('error: --html /no/such/dir/x.html: no folder /no/such/dir\n');
    expect(Date.now() - started).toBeLessThan(30_000); // it did not measure for 30 s first
  });
});
