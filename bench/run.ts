/**
 * The benchmark runner (`npm run bench -- [filter…] [--quick]`).
 *
 * Convention: every `bench/<name>.bench.ts` default-exports an async function
 * `(ctx: BenchContext) => Promise<BenchRow[]>` (types in bench/lib/types.ts).
 * A row is a flat record with a `name` and any columns; figures that make a speed
 * claim are stated as ratios against a baseline measured in the same run
 * (DESIGN rule 4). The runner imports each bench whose name contains one of the
 * filter words (all when none is given), prints its rows as a table, and writes
 * `bench/results/<name>-<timestamp>.json` ({ bench, date, quick, node, cpus, rows }).
 * `--quick` asks benches for short measurement windows (smoke runs).
 */

import { readdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchContext, BenchRow } from './lib/types.js';

const here = dirname(fileURLToPath(import.meta.url));

function formatCell(value: BenchRow[string]): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
    return value.toFixed(2);
  }
  return value === null ? '' : String(value);
}

function printTable(title: string, rows: readonly BenchRow[]): void {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c] ?? null)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  console.log(`\n## ${title}\n`);
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of cells) console.log(line(row));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const filters = args.filter((a) => !a.startsWith('--'));
  const files = (await readdir(here))
    .filter((f) => f.endsWith('.bench.ts') || f.endsWith('.bench.js'))
    .sort();
  const selected = files.filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)));
  if (selected.length === 0) {
    console.error(`no bench matches ${filters.join(', ')}; available: ${files.join(', ')}`);
    process.exitCode = 1;
    return;
  }
  const ctx: BenchContext = { quick, log: (message) => console.error(`  ${message}`) };
  for (const file of selected) {
    const name = basename(file).replace(/\.bench\.[tj]s$/, '');
    console.error(`# ${name}${quick ? ' (quick)' : ''}`);
    const module = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench };
    const rows = await module.default(ctx);
    printTable(name, rows);
    const date = new Date().toISOString();
    const out = join(here, 'results', `${name}-${date.replace(/[:.]/g, '-')}.json`);
    const meta = {
      bench: name,
      date,
      quick,
      node: process.version,
      cpus: availableParallelism(),
      cpu: cpus()[0]?.model,
    };
    await writeFile(out, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
    console.error(`  wrote ${out}`);
  }
}

await main();
