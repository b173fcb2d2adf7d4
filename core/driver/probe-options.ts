/**
 * One parser for the options of a device spec's query string
 * (`sim:ring?engines=8&poll=5`, `software?workers=2`), in the spirit of DPDK's
 * kvargs: every driver, platform and simulated model declares the options it
 * takes as a schema and parses them here, so an unknown name or a bad value is
 * refused the same way everywhere, with the list of valid names.
 *
 * Option names are lowerCamel or single words (`poll`, `engines`, `pollNoIrq`).
 *
 * One spec's options may be read by more than one party: a `sim:` spec goes to
 * the simulated card (engines, faults, seed, …) and to the driver that probes
 * it (poll, irq, …). The registry therefore hands out the options with a
 * ledger ({@link trackProbeOptions}): each `parseProbeOptions` call records the
 * names it knows instead of refusing the others, and the registry refuses the
 * names nobody knew once the device is open, listing every party's names.
 * Called on a plain object (a test, a direct call), `parseProbeOptions` refuses
 * unknown names itself.
 *
 * @module
 */

import { InvalidInputError } from './errors.js';

/**
 * An integer option, in `[min, max]` (inclusive) when given.
 *
 * @category Driver contracts
 */
export interface IntOptionSpec {
  /** Discriminant: an integer option. */
  readonly kind: 'int';
  /** The smallest value accepted (inclusive); no lower bound when absent. */
  readonly min?: number;
  /** The largest value accepted (inclusive); no upper bound when absent. */
  readonly max?: number;
  /** The value when the option is absent; leave out for "undefined when absent". */
  readonly default?: number;
  /** One line for help texts and error messages. */
  readonly doc?: string;
}

/**
 * One of a fixed set of words.
 *
 * @category Driver contracts
 */
export interface EnumOptionSpec<V extends string = string> {
  /** Discriminant: one word of `values`. */
  readonly kind: 'enum';
  /** The words accepted. */
  readonly values: readonly V[];
  /** The value when the option is absent; leave out for "undefined when absent". */
  readonly default?: V;
  /** One line for help texts and error messages. */
  readonly doc?: string;
}

/**
 * A switch: `on`/`off`, `true`/`false`, `yes`/`no`, `1`/`0`; the bare name
 * (`?inline`) means on.
 *
 * @category Driver contracts
 */
export interface BoolOptionSpec {
  /** Discriminant: a switch. */
  readonly kind: 'bool';
  /** The value when the option is absent; leave out for "undefined when absent". */
  readonly default?: boolean;
  /** One line for help texts and error messages. */
  readonly doc?: string;
}

/**
 * Free text (a fault list, a file name); checked by whoever uses it.
 *
 * @category Driver contracts
 */
export interface StringOptionSpec {
  /** Discriminant: free text. */
  readonly kind: 'string';
  /** The value when the option is absent; leave out for "undefined when absent". */
  readonly default?: string;
  /** One line for help texts and error messages. */
  readonly doc?: string;
}

/**
 * How one option is read.
 *
 * @category Driver contracts
 */
export type ProbeOptionSpec = IntOptionSpec | EnumOptionSpec | BoolOptionSpec | StringOptionSpec;

/**
 * Option name → how it is read.
 *
 * @category Driver contracts
 */
export type ProbeOptionSchema = Readonly<Record<string, ProbeOptionSpec>>;

/**
 * The value type an option spec parses to: number, one of the enum's words, boolean or string.
 *
 * @category Driver contracts
 */
export type ProbeOptionValue<S extends ProbeOptionSpec> = S extends IntOptionSpec
  ? number
  : S extends EnumOptionSpec<infer V>
    ? V
    : S extends BoolOptionSpec
      ? boolean
      : string;

/**
 * The parsed options: each one typed by its kind, `undefined` only where the schema has no default.
 *
 * @category Driver contracts
 */
export type ParsedProbeOptions<S extends ProbeOptionSchema> = {
  readonly [K in keyof S]: S[K] extends HasDefault
    ? ProbeOptionValue<S[K]>
    : ProbeOptionValue<S[K]> | undefined;
};

/**
 * An option spec with a default value.
 *
 * @category Driver contracts
 */
export interface HasDefault {
  /** The value when the option is absent. */
  readonly default: unknown;
}

/** Who read which names of one spec's options (see {@link trackProbeOptions}). */
interface Ledger {
  readonly readers: { readonly where: string; readonly names: readonly string[] }[];
}

const LEDGER: unique symbol = Symbol('pkaccel.probeOptionLedger');

type Tracked = Readonly<Record<string, string>> & { readonly [LEDGER]?: Ledger };

const TRUE_WORDS = new Set(['', 'on', 'true', 'yes', '1']);
const FALSE_WORDS = new Set(['off', 'false', 'no', '0']);

/**
 * Read `options` by `schema`. `where` names the reader in messages ("ring
 * driver", "device spec \"sim:ring?poll=x\""). Throws an InvalidInputError
 * naming the option and the value when a value does not fit, and, unless the
 * options are tracked by the registry, when a name is not in the schema (the
 * message lists the valid ones).
 *
 * @example
 * ```ts
 * const SCHEMA = {
 *   poll: { kind: 'int', min: 1, max: 1000, default: 20, doc: 'safety-net poll period, ms' },
 *   irq: { kind: 'enum', values: ['msix', 'intx', 'poll'], default: 'msix' },
 * } as const satisfies ProbeOptionSchema;
 * const { poll, irq } = parseProbeOptions(options, SCHEMA, 'window driver');
 * ```
 *
 * @category Driver contracts
 */
export function parseProbeOptions<const S extends ProbeOptionSchema>(
  options: Readonly<Record<string, string>>,
  schema: S,
  where: string,
): ParsedProbeOptions<S> {
  const ledger = (options as Tracked)[LEDGER];
  const names = Object.keys(schema);
  if (ledger) ledger.readers.push({ where, names });
  else {
    for (const name of Object.keys(options)) {
      if (!Object.hasOwn(schema, name)) throw unknownOption(name, where, [{ where, names }]);
    }
  }
  const parsed: Record<string, unknown> = {};
  for (const name of names) {
    const spec = schema[name] as ProbeOptionSpec;
    const text = Object.hasOwn(options, name) ? options[name] : undefined;
    parsed[name] = text === undefined ? spec.default : parseValue(name, text, spec, where);
  }
  return parsed as ParsedProbeOptions<S>;
}

function parseValue(name: string, text: string, spec: ProbeOptionSpec, where: string): unknown {
  const bad = (expected: string) =>
    new InvalidInputError(`${where}: option "${name}" must be ${expected}, got "${text}"`);
  switch (spec.kind) {
    case 'int': {
      const min = spec.min ?? Number.MIN_SAFE_INTEGER;
      const max = spec.max ?? Number.MAX_SAFE_INTEGER;
      const range =
        spec.min !== undefined && spec.max !== undefined
          ? `an integer from ${spec.min} to ${spec.max}`
          : spec.min !== undefined
            ? `an integer ≥ ${spec.min}`
            : spec.max !== undefined
              ? `an integer ≤ ${spec.max}`
              : 'an integer';
      if (!/^[+-]?\d+$/.test(text.trim())) throw bad(range);
      const value = Number(text);
      if (!Number.isSafeInteger(value) || value < min || value > max) throw bad(range);
      return value;
    }
    case 'enum':
      if (!spec.values.includes(text)) throw bad(`one of ${spec.values.join(', ')}`);
      return text;
    case 'bool': {
      const word = text.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      throw bad('on or off');
    }
    case 'string':
      return text;
  }
}

function unknownOption(
  name: string,
  where: string,
  readers: readonly { readonly where: string; readonly names: readonly string[] }[],
): InvalidInputError {
  const seen = new Set<string>();
  const unique = readers.filter((r) => {
    const key = `${r.where}\0${r.names.join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const lists = unique
    .filter((r) => r.names.length > 0)
    .map((r) => (unique.length > 1 ? `${r.names.join(', ')} (${r.where})` : r.names.join(', ')));
  const valid = lists.length === 0 ? 'it takes no options' : `valid options: ${lists.join('; ')}`;
  return new InvalidInputError(`${where}: unknown option "${name}"; ${valid}`);
}

/**
 * Options handed to several readers, and the check that every name was known to one of them.
 *
 * @category Driver contracts
 */
export interface TrackedProbeOptions {
  /** The same options, carrying the ledger (pass these, not copies, to every reader). */
  readonly options: Readonly<Record<string, string>>;
  /** The parties that read the options so far. */
  readonly readers: readonly string[];
  /**
   * Throw an InvalidInputError for the first option no reader knew, listing every
   * reader's options. Does nothing when no reader used `parseProbeOptions` (a
   * driver that reads its options by hand is not second-guessed).
   */
  check(where: string): void;
}

/**
 * Give `options` a ledger so that several readers can each parse their own
 * names; `check` then refuses the names none of them knew. The ledger is a
 * non-enumerable symbol property: `Object.keys`, JSON and structured clone (a
 * worker) do not see it, and a copy (`{ ...options }`) drops it, so a copy is
 * parsed strictly.
 *
 * @category Driver contracts
 */
export function trackProbeOptions(options: Readonly<Record<string, string>>): TrackedProbeOptions {
  const ledger: Ledger = { readers: [] };
  const tracked: Record<string, string> = { ...options };
  Object.defineProperty(tracked, LEDGER, { value: ledger, enumerable: false });
  Object.freeze(tracked);
  return {
    options: tracked,
    get readers() {
      return ledger.readers.map((r) => r.where);
    },
    check(where: string) {
      if (ledger.readers.length === 0) return;
      const known = new Set(ledger.readers.flatMap((r) => r.names));
      for (const name of Object.keys(options)) {
        if (!known.has(name)) throw unknownOption(name, where, ledger.readers);
      }
    },
  };
}
