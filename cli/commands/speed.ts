/**
 * `pkaccel speed [alg…]`: ops/s and latency percentiles per device, beside
 * pkaccel's software provider and node's crypto.subtle, with ratios; a
 * progress bar on a terminal; --json and --html reports.
 */

import { writeFile } from 'node:fs/promises';
import { type CommandContext, printJson } from '../context.js';
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

export async function runSpeedCommand(
  ctx: CommandContext,
  algorithmNames: readonly string[],
  options: SpeedOptions,
): Promise<number> {
  const algorithms = parseAlgorithms(algorithmNames);
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
