/**
 * The README's `stats` demo (issue 14): `PKACCEL_DEVICES=sim:ring,sim:window,software
 * pkaccel stats --workload …` must show every device completing work — under the old
 * strict order the window card and the software device completed 0 jobs while the ring
 * card queued everything. Run as a user runs it (the built binary, the devices from the
 * environment, the default concurrency); only "more than 0 jobs each, none failed" is
 * asserted, which a loaded machine cannot turn into a failure: each device is offered
 * work for seconds, and one job proves it was scheduled.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { expectExit, requireBuiltBinary, runCli } from './run-cli.js';

interface FinalLine {
  final: boolean;
  failed: number;
  devices: { id: string; completed: number; failed: number }[];
}

beforeAll(requireBuiltBinary);

describe('pkaccel stats over sim:ring, sim:window and software (the README demo)', () => {
  for (const workload of ['ecdsap256', 'rsa2048']) {
    it(`--workload ${workload}: every device completes work`, async () => {
      const result = await runCli(`stats --workload ${workload} --seconds 3 --interval 1000 --json`, {
        PKACCEL_DEVICES: 'sim:ring,sim:window,software',
      });
      expectExit(result, 0);
      const final = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as FinalLine)
        .find((line) => line.final);
      expect(final).toBeDefined();
      const completed = Object.fromEntries(final!.devices.map((d) => [d.id.split('#')[0], d.completed]));
      expect(Object.keys(completed).sort()).toEqual(['sim:ring', 'sim:window', 'software']);
      expect(completed['sim:ring']).toBeGreaterThan(0);
      expect(completed['sim:window']).toBeGreaterThan(0);
      expect(completed.software).toBeGreaterThan(0);
      expect(final!.failed).toBe(0);
    }, 90_000);
  }
});
