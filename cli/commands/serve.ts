/**
 * `pkaccel serve`: the broker (server/broker.ts) as a command. Opens the
 * selected devices (`--devices`, PKACCEL_DEVICES, else auto — the CLI's own
 * selection rules, with the simulated cards when no card is found), listens on
 * `--socket` / $PKACCEL_SOCKET / the default path, logs clients, and on
 * SIGTERM/SIGINT drains (at most `--drain-ms`) and closes. `--pkcs11 [SOCKET]`
 * also serves the named keys as a PKCS#11 token over p11-kit's RPC (docs/pkcs11.md),
 * with the PIN of `--pkcs11-pin-file` when given.
 */

import { serve } from '../../server/index.js';
import { readPinFile } from '../../server/pkcs11/pin.js';
import type { CommandContext } from '../context.js';
import { selectDevices, selectionNote } from '../device-selection.js';
import { EXIT_OK } from '../exit-codes.js';

export interface ServeCommandOptions {
  readonly devices?: string[];
  readonly socket?: string;
  readonly group?: string;
  readonly key?: string[];
  readonly drainMs?: number;
  /** `--pkcs11` alone: the default path; with a value: that socket. */
  readonly pkcs11?: string | boolean;
  readonly pkcs11PinFile?: string;
  readonly pkcs11AllowRawRsa?: boolean;
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
    ...(opts.pkcs11 === undefined || opts.pkcs11 === false
      ? {}
      : {
          pkcs11: {
            ...(typeof opts.pkcs11 === 'string' ? { path: opts.pkcs11 } : {}),
            ...(opts.pkcs11PinFile === undefined ? {} : { pin: readPinFile(opts.pkcs11PinFile) }),
            allowRawRsa: opts.pkcs11AllowRawRsa === true,
          },
        }),
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
