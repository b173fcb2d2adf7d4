/**
 * Which devices a command works on: `--devices` (comma-separated specs, may be
 * repeated), else PKACCEL_DEVICES, else `auto`. `auto` expands through the
 * registry, and when it falls back to the simulator because no card was found,
 * the command says so rather than letting a simulated figure pass for a card's.
 */

import type { Registry } from '../index.js';

export interface DeviceSelection {
  /** Where the list came from, for the notes a command prints. */
  readonly source: '--devices' | 'PKACCEL_DEVICES' | 'auto';
  /** The specs to open, `auto` expanded, in order, without duplicates. */
  readonly specs: readonly string[];
  /** `auto` found no card and used the simulator's default devices. */
  readonly usedSimulatorFallback: boolean;
}

/** Split `--devices a,b --devices c` into ["a", "b", "c"]. */
export function splitSpecs(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export async function selectDevices(
  registry: Registry,
  option: readonly string[] | undefined,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<DeviceSelection> {
  const fromOption = splitSpecs(option);
  const fromEnv = splitSpecs(env.PKACCEL_DEVICES === undefined ? [] : [env.PKACCEL_DEVICES]);
  const source = fromOption.length > 0 ? '--devices' : fromEnv.length > 0 ? 'PKACCEL_DEVICES' : 'auto';
  const requested = fromOption.length > 0 ? fromOption : fromEnv.length > 0 ? fromEnv : ['auto'];
  const specs: string[] = [];
  let usedSimulatorFallback = false;
  for (const spec of requested) {
    let expanded = [spec];
    if (spec === 'auto') {
      const auto = await registry.autoSpecs(signal);
      expanded = auto.specs;
      usedSimulatorFallback ||= auto.usedFallback;
    }
    for (const s of expanded) if (!specs.includes(s)) specs.push(s);
  }
  return { source, specs, usedSimulatorFallback };
}

/** The note a command prints about its device list (to stderr, so --json output stays parseable). */
export function selectionNote(selection: DeviceSelection): string | undefined {
  if (selection.usedSimulatorFallback) {
    const simulated = selection.specs.filter((s) => s.startsWith('sim:'));
    return `no accelerator card found: using the simulator (${simulated.join(', ')}) (results are the simulated cards', not a real card's)`;
  }
  if (selection.source === 'auto' && !selection.specs.some((s) => s !== 'software'))
    return 'no accelerator card found and no simulator registered: only the software provider is available';
  return undefined;
}
