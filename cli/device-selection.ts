/**
 * Which devices a command works on, and how it opens them. The list is
 * `--devices` (comma-separated specs, may be repeated), else PKACCEL_DEVICES,
 * else `auto`, resolved by core's `resolveDeviceSelection` (one DeviceSelection
 * type for the library and the CLI). Unlike a library, the command adds the
 * simulated cards when `auto` finds no card, and says so on stderr rather than
 * letting a simulated figure pass for a card's.
 *
 * A device spec the registry refuses (unknown scheme, unknown option, bad
 * value, empty entry) is a usage error: one line on stderr, exit 2.
 */

import {
  type Accelerator,
  type DeviceSelection,
  InvalidInputError,
  type OpenAcceleratorOptions,
  openAccelerator,
  resolveDeviceSelection,
} from '../index.js';
import type { CommandContext } from './context.js';
import { UsageError } from './exit-codes.js';

/** Where the list came from, as a person reads it: the option's name for `devices`. */
export function sourceLabel(selection: DeviceSelection): string {
  return selection.source === 'devices' ? '--devices' : selection.source;
}

/** Turn an InvalidInputError (a spec the registry refused) into a usage error; anything else as it is. */
export function asUsageError(error: unknown): unknown {
  return error instanceof InvalidInputError ? new UsageError(error.message, { cause: error }) : error;
}

/** Resolve `--devices` (repeatable, comma-separated) the way openAccelerator does, with the simulator when no card is found. */
export async function selectDevices(
  ctx: CommandContext,
  option: readonly string[] | undefined,
): Promise<DeviceSelection> {
  try {
    return await resolveDeviceSelection({
      devices: option === undefined ? undefined : option.join(','),
      registry: ctx.registry,
      env: ctx.env,
      signal: ctx.signal,
      simulateWhenNoCard: true,
    });
  } catch (error) {
    throw asUsageError(error);
  }
}

/**
 * Open one selected spec on its own accelerator. A refused spec (InvalidInputError:
 * an unknown option, a bad value) throws a UsageError; any other failure (a card
 * that does not answer, a native addon that was not built) is returned for the
 * command to report in its table.
 */
export async function openSelected(
  ctx: CommandContext,
  specs: string | readonly string[],
  extra: Pick<OpenAcceleratorOptions, 'queue'> = {},
): Promise<{ accel: Accelerator; error?: undefined } | { accel?: undefined; error: unknown }> {
  try {
    const accel = await openAccelerator({
      devices: typeof specs === 'string' ? [specs] : specs,
      registry: ctx.registry,
      signal: ctx.signal,
      ...extra,
    });
    return { accel };
  } catch (error) {
    const usage = asUsageError(error);
    if (usage instanceof UsageError) throw usage;
    return { error };
  }
}

/** The note a command prints about its device list (to stderr, so --json output stays parseable). */
export function selectionNote(ctx: CommandContext, selection: DeviceSelection): string | undefined {
  if (selection.usedSimulatorFallback)
    return `no accelerator card found: using the simulator (${selection.simulated.join(', ')}) (results are the simulated cards', not a real card's)`;
  const fallback = ctx.registry.fallbackDriver()?.scheme;
  if (selection.source === 'auto' && selection.cards === 0 && !selection.specs.some((s) => s !== fallback))
    return `no accelerator card found and no simulator registered: only the ${fallback ?? 'fallback'} provider is available`;
  return undefined;
}
