/**
 * `pkaccel speed [alg…]`: ops/s and latency percentiles per device, beside
 * pkaccel's software provider and node's crypto.subtle, with ratios; a
 * progress bar on a terminal; --json and --html reports.
 */

import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type CommandContext, messageOf, printJson } from '../context.js';
import { selectDevices, selectionNote } from '../device-selection.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../exit-codes.js';
import {
  algorithmNamed,
  DEFAULT_SPEED_ALGORITHMS,
  SPEED_ALGORITHMS,
  type SpeedAlgorithm,
} from '../speed/algorithms.js';
import { createProgress } from '../speed/progress.js';
import { openProviders } from '../speed/providers.js';
import { renderSpeedHtml } from '../speed/report-html.js';
import { renderSpeedText } from '../speed/report-text.js';
import { runSpeed } from '../speed/run.js';

export interface SpeedOptions {
  readonly devices?: string[];
  readonly seconds: number;
  /** Rounds each measurement is split into (providers interleaved), default 3. */
  readonly rounds?: number;
  readonly concurrency: number[];
  readonly json?: boolean;
  readonly html?: string;
}

export function parseAlgorithms(names: readonly string[]): SpeedAlgorithm[] {
  const chosen = names.length === 0 ? [...DEFAULT_SPEED_ALGORITHMS] : names.flatMap((n) => n.split(','));
  return chosen.map((name) => {
    const algorithm = algorithmNamed(name);
    if (!algorithm)
      throw new UsageError(
        `unknown algorithm "${name}"; known: ${SPEED_ALGORITHMS.map((a) => a.name).join(' ')}`,
      );
    return algorithm;
  });
}

/** `--html <file>`: its folder must exist and be writable, checked before anything is measured. */
async function checkHtmlTarget(file: string): Promise<void> {
  const folder = dirname(resolve(file));
  try {
    if (!(await stat(folder)).isDirectory())
      throw new UsageError(`--html ${file}: ${folder} is not a folder`);
    await access(folder, constants.W_OK);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--html ${file}: ${code === 'ENOENT' ? `no folder ${folder}` : code === 'EACCES' ? `${folder} is not writable` : messageOf(error)}`,
    );
  }
  try {
    if ((await stat(file)).isDirectory()) throw new UsageError(`--html ${file}: is a folder`);
  } catch (error) {
    if (error instanceof UsageError) throw error; // a file that does not exist yet is what we want
  }
}

export async function runSpeedCommand(
  ctx: CommandContext,
  algorithmNames: readonly string[],
  options: SpeedOptions,
): Promise<number> {
  const algorithms = parseAlgorithms(algorithmNames);
  if (options.html !== undefined) await checkHtmlTarget(options.html);
  const selection = await selectDevices(ctx, options.devices);
  const note = selectionNote(ctx, selection);
  if (note !== undefined && options.json !== true) ctx.io.err(`note: ${note}\n`);
  const { providers, failed } = await openProviders(ctx, selection.specs);
  let report: Awaited<ReturnType<typeof runSpeed>>;
  try {
    report = await runSpeed({
      algorithms,
      providers,
      unavailable: failed,
      seconds: options.seconds,
      ...(options.rounds === undefined ? {} : { rounds: options.rounds }),
      concurrency: options.concurrency,
      notes: note === undefined ? [] : [note],
      signal: ctx.signal,
      progress: createProgress(ctx.io),
    });
  } finally {
    await Promise.allSettled(providers.map((p) => p.close()));
  }
  if (options.html !== undefined) {
    await writeFile(options.html, renderSpeedHtml(report));
    if (options.json !== true) ctx.io.err(`wrote ${options.html}\n`);
  }
  if (options.json === true) printJson(ctx, report);
  else ctx.io.out(renderSpeedText(report, ctx.io.style));
  const broken = failed.length > 0 || report.results.some((r) => r.status === 'error') || ctx.signal.aborted;
  return broken ? EXIT_FAILURE : EXIT_OK;
}
