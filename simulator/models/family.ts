/**
 * What a simulated card family declares about itself, in its own folder
 * (`simulator/models/<family>/family.ts`), without loading its model: the spec
 * name (`sim:<name>`), whether the simulator offers it by default (what tools
 * open when no card is found), a line for help texts, the spec options the card
 * reads, and where its model module is. The module default-exports it: that is
 * how `./index.ts` finds the family (no list names it); the platform, `auto` and
 * the CLI help derive everything from the declarations found.
 */

import {
  type ParsedProbeOptions,
  type ProbeOptionSchema,
  parseProbeOptions,
} from '../../core/driver/probe-options.js';

export interface ModelFamily<S extends ProbeOptionSchema = ProbeOptionSchema> {
  /** The spec target that names it: `sim:<name>`; the model's `ModelDefinition.name`. */
  readonly name: string;
  /** One line for help texts and listings. */
  readonly description: string;
  /** Whether the simulator offers this card by default (`defaultSpecs()`: what tools open when no card is found). */
  readonly offeredByDefault: boolean;
  /**
   * The spec options the card itself reads (`sim:window?engines=4`), beside the
   * simulator's own (mode, faults, seed, engine, …) and the driver's. Absent:
   * the family has not declared them (its options are then not checked by name).
   */
  readonly options?: S;
  /** The model module, relative to the models folder holding the family's folder, without extension (`window/model`); it default-exports a ModelDefinition. */
  readonly module: string;
}

/**
 * A model's own options, parsed by its family's schema. The spec's other names
 * (the simulator's, the driver's) are someone else's to read and check, so only
 * the family's names are looked at here; a bad value throws an InvalidInputError
 * naming the option.
 */
export function familyOptions<S extends ProbeOptionSchema>(
  family: ModelFamily<S> & { readonly options: S },
  options: Readonly<Record<string, string>>,
): ParsedProbeOptions<S> {
  const own: Record<string, string> = {};
  for (const name of Object.keys(family.options)) {
    const value = Object.hasOwn(options, name) ? options[name] : undefined;
    if (value !== undefined) own[name] = value;
  }
  return parseProbeOptions(own, family.options, `sim:${family.name}`);
}
