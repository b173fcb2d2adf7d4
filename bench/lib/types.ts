/** The bench convention (see bench/run.ts). */

/** One line of a bench's table: a label and flat columns. Numbers are printed rounded. */
export interface BenchRow {
  readonly name: string;
  readonly [column: string]: string | number | boolean | null;
}

export interface BenchContext {
  /** `--quick`: shorter measurement windows, for smoke runs; figures are noisier. */
  readonly quick: boolean;
  /** Progress output (stderr), so the table on stdout stays clean. */
  log(message: string): void;
}

/** What a bench/*.bench.ts module default-exports. */
export type Bench = (ctx: BenchContext) => Promise<readonly BenchRow[]>;
