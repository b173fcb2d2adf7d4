/**
 * The fault matrix of issue 11 through the public API (openAccelerator, subtle,
 * queue.submit): every simulator fault kind × RSA PKCS#1 and PSS signing, OAEP
 * decryption, ECDSA signing and verification (half of them forged), ECDH and raw
 * `queue.submit` private operations, on sim:ring and sim:window, each alone and
 * with the software provider beside it. Every result is checked with node:crypto.
 *
 * Required with the default integrity policy: no wrong result released, no job
 * left unsettled, every accepted job settled exactly once by the queue's
 * counters; with the healthy software device beside the faulty card and default
 * queue options, no TimeoutError for hang and drop faults.
 *
 * CI profile: one rate/seed per cell, 3 jobs per operation (about a minute).
 * PKACCEL_FAULT_MATRIX=long: rates 0.05, 0.25, 0.5 and 1 × seeds 1 and 2, 8 jobs each.
 */
import { describe, expect, it } from 'vitest';
import {
  type CellResult,
  type CellSpec,
  FAULTS,
  formatTable,
  makeKeys,
  OPS,
  runCell,
} from './fault-matrix.js';

const long = process.env.PKACCEL_FAULT_MATRIX === 'long';
const CARDS = ['ring', 'window'] as const;

function cells(): CellSpec[] {
  const specs: CellSpec[] = [];
  let index = 0;
  for (const fault of FAULTS) {
    for (const card of CARDS) {
      for (const beside of [false, true]) {
        const rateSeeds = long
          ? [0.05, 0.25, 0.5, 1].flatMap((rate) => [1, 2].map((seed) => ({ rate, seed })))
          : [{ rate: [0.25, 0.5][index % 2]!, seed: 1 + (index % 5) }];
        index++;
        for (const { rate, seed } of rateSeeds) {
          specs.push({
            card,
            beside,
            fault,
            rate,
            seed,
            jobs: long ? 8 : 3,
            // Default options with a healthy device beside; alone, a shorter deadline bounds the
            // run (a hung card with nothing beside it can only time out).
            ...(beside ? {} : { queue: { timeoutMs: 5_000 } }),
            guardMs: 90_000,
          });
        }
      }
    }
  }
  return specs;
}

describe('fault matrix (default integrity policy)', () => {
  it(
    'releases no wrong result, settles every job once, and fails over hang and drop in time',
    async () => {
      const keys = makeKeys();
      const specs = cells();
      const results: CellResult[] = [];
      // Two cells at a time: the cards run in worker threads.
      let next = 0;
      await Promise.all(
        [0, 1].map(async () => {
          while (next < specs.length) {
            const spec = specs[next++]!;
            results.push(await runCell(keys, spec));
          }
        }),
      );
      console.log(`\n${formatTable(results)}\n`);
      const count = (pick: (r: CellResult) => boolean, outcome: string) =>
        results
          .filter(pick)
          .reduce(
            (n, r) => n + OPS.reduce((m, op) => m + r.outcomes[op].filter((o) => o === outcome).length, 0),
            0,
          );
      const all = () => true;
      const jobs = results.reduce((n, r) => n + OPS.reduce((m, op) => m + r.outcomes[op].length, 0), 0);
      expect(jobs).toBe(specs.reduce((n, s) => n + s.jobs * OPS.length, 0));
      // Something was exercised: corrupt faults were caught by the gate.
      expect(
        results.filter((r) => r.fault === 'corrupt').reduce((n, r) => n + r.integrityFaults, 0),
      ).toBeGreaterThan(0);
      expect(count(all, 'correct')).toBeGreaterThan(jobs / 2);
      const failures: string[] = [];
      if (count(all, 'wrong') !== 0) failures.push(`${count(all, 'wrong')} wrong results released`);
      if (count(all, 'unsettled') !== 0) failures.push(`${count(all, 'unsettled')} jobs unsettled`);
      const imbalanced = results.filter((r) => r.settleImbalance !== 0);
      if (imbalanced.length > 0)
        failures.push(
          `settlements ≠ accepted jobs in ${imbalanced.map((r) => `${r.card}/${r.fault}`).join(', ')}`,
        );
      const stalledBeside = (r: CellResult) => r.beside && (r.fault === 'hang' || r.fault === 'drop');
      const timeouts = count(stalledBeside, 'TimeoutError');
      if (timeouts !== 0) {
        const examples = results
          .filter(stalledBeside)
          .flatMap((r) => r.messages.filter((m) => m.includes('Timeout')));
        failures.push(
          `${timeouts} TimeoutErrors with a healthy device beside (hang/drop): ${examples.slice(0, 3).join(' | ')}`,
        );
      }
      expect(failures).toEqual([]);
    },
    long ? 3_600_000 : 600_000,
  );
});
