/**
 * `pkaccel serve`: the broker (server/broker.ts) as a command. Opens the
 * selected devices (`--devices`, PKACCEL_DEVICES, else auto — the CLI's own
 * selection rules, with the simulated cards when no card is found), listens on
 * `--socket` / $PKACCEL_SOCKET / the default path, logs clients, and on
 * SIGTERM/SIGINT drains (at most `--drain-ms`) and closes.
 */

import { serve } from '../../server/index.js';
import type { CommandContext } from '../context.js';
import { selectDevices, selectionNote } from '../device-selection.js';
import { EXIT_OK } from '../exit-codes.js';

export interface ServeCommandOptions {
  readonly devices?: string[];
  readonly socket?: string;
  readonly group?: string;
  readonly key?: string[];
  readonly drainMs?: number;
}

export async function runServe(ctx: CommandContext, opts: ServeCommandOptions): Promise<number> {
  const selection = await selectDevices(ctx, opts.devices);
  const note = selectionNote(ctx, selection);
  if (note) ctx.io.err(`${note}\n`);
  const log = (line: string) => ctx.io.out(`${new Date().toISOString()} ${line}\n`);
  const broker = await serve({
    devices: selection.specs,
    ...(opts.socket === undefined ? {} : { socketPath: opts.socket }),
    ...(opts.group === undefined ? {} : { group: opts.group }),
    keys: opts.key ?? [],
    env: ctx.env,
    log,
  });
  const why = await new Promise<string>((resolve) => {
    if (ctx.signal.aborted) return resolve(String(ctx.signal.reason));
    ctx.signal.addEventListener('abort', () => resolve(String(ctx.signal.reason)), { once: true });
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log(`stopping (${why})`);
  await broker.close({ drainMs: opts.drainMs ?? 5000 });
  return EXIT_OK;
}
