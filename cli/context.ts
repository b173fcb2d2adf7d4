/** What every command gets: the registry to open devices from, the environment, output, and a stop signal. */

import type { Registry } from '../index.js';
import type { Io } from './io.js';

export interface CommandContext {
  readonly registry: Registry;
  readonly env: NodeJS.ProcessEnv;
  readonly io: Io;
  /** Aborted on Ctrl-C: long runs stop early and still report what they measured. */
  readonly signal: AbortSignal;
}

/** `--sysfs-root`, else PKACCEL_SYSFS_ROOT, else the real /sys. */
export function sysfsRootOf(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return option ?? (env.PKACCEL_SYSFS_ROOT || '/sys');
}

export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
