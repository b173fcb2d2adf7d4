/**
 * Fault injection: a per-card schedule, from the spec option
 * `faults=<rule>,<rule>,…`. A rule is `<name>:<probability>` (each operation,
 * independently) or `<name>@<n>` (exactly the n-th operation, counting from 1).
 * The first rule that fires for an operation wins. Names:
 *
 *   error      error status (ENGINE_ERROR)          drop     completion never written
 *   duplicate  completion written twice              delay    completion written late (`delayms`)
 *   corrupt    one bit of the result flipped (RSA-CRT: in one CRT half)
 *   hang       the queue stops: no completion ever   remove   surprise removal
 *   garbage    nonsense in completion fields (tag out of range, length past the buffer)
 *
 * Every random choice a fault makes comes from the spec's `seed` (default 1):
 * which operations a probabilistic rule hits (FaultSchedule, in the runner), and
 * what the fault then does — which bit `corrupt` flips, whether it flips a
 * verdict or its witness (FaultChoices, in the model) — from two streams of one
 * small seeded generator. The same spec and seed replay the same faults on the
 * same sequence of operations. Nothing in the simulator uses Math.random.
 *
 * `reinsert=<ms>`: a removed card (the `remove` fault, or `sim.removeNow()`)
 * is inserted again after that many milliseconds (simulator/function.ts).
 */

import { InvalidInputError } from '../core/driver/errors.js';
import type { FaultKind } from './model.js';

const NAMES: Readonly<Record<string, FaultKind>> = {
  error: 'error-status',
  drop: 'drop-completion',
  duplicate: 'duplicate-completion',
  delay: 'delay-completion',
  corrupt: 'corrupt-result',
  hang: 'hang',
  remove: 'surprise-removal',
  garbage: 'garbage-completion',
};

export type FaultRule =
  | { readonly kind: FaultKind; readonly probability: number }
  | { readonly kind: FaultKind; readonly nth: number };

/** Parse a `faults=` option; throws an InvalidInputError naming the bad rule. */
export function parseFaultRules(text: string | undefined): FaultRule[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((raw) => {
    const rule = raw.trim();
    const match = /^([a-z]+)(?::([0-9.]+)|@([0-9]+))$/.exec(rule);
    const kind = match ? NAMES[match[1]!] : undefined;
    if (!match || kind === undefined) {
      throw new InvalidInputError(
        `bad fault rule "${rule}": expected <name>:<probability> or <name>@<n>, names ${Object.keys(NAMES).join(', ')}`,
      );
    }
    if (match[2] !== undefined) {
      const probability = Number(match[2]);
      if (!(probability >= 0 && probability <= 1)) {
        throw new InvalidInputError(`bad fault rule "${rule}": probability must be in [0, 1]`);
      }
      return { kind, probability };
    }
    const nth = Number(match[3]);
    if (nth < 1) throw new InvalidInputError(`bad fault rule "${rule}": operations count from 1`);
    return { kind, nth };
  });
}

/** A small seeded PRNG (mulberry32): reproducible fault runs without a dependency. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The spec's `seed` (default 1); an InvalidInputError when it is not an integer. */
export function faultSeed(options: Readonly<Record<string, string>>): number {
  const seed = options.seed === undefined ? 1 : Number(options.seed);
  if (!Number.isInteger(seed)) throw new InvalidInputError(`bad seed "${options.seed}": expected an integer`);
  return seed;
}

/** The spec's `reinsert` delay in ms, or undefined when a removed card stays removed. */
export function reinsertDelayMs(options: Readonly<Record<string, string>>): number | undefined {
  const text = options.reinsert;
  if (text === undefined) return undefined;
  const ms = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(ms) || ms > 3_600_000) {
    throw new InvalidInputError(`bad reinsert "${text}": expected milliseconds from 0 to 3600000`);
  }
  return ms;
}

/** Mixed into the seed for the choices stream, so it is independent of the schedule's. */
const CHOICES_STREAM = 0x9e3779b9;

/**
 * The random choices a fault makes once it fires (which bit, verdict or witness),
 * seeded from the spec's `seed`: a model makes one per card.
 */
export class FaultChoices {
  readonly #random: () => number;

  constructor(seed = 1) {
    this.#random = mulberry32((seed ^ CHOICES_STREAM) >>> 0);
  }

  static fromOptions(options: Readonly<Record<string, string>>): FaultChoices {
    return new FaultChoices(faultSeed(options));
  }

  /** An integer in [0, count) (0 when count < 1). */
  below(count: number): number {
    return count < 1 ? 0 : Math.floor(this.#random() * count);
  }

  /** True or false, evenly. */
  coin(): boolean {
    return this.#random() < 0.5;
  }
}

export class FaultSchedule {
  readonly #rules: readonly FaultRule[];
  readonly #random: () => number;
  #operations = 0;

  constructor(rules: readonly FaultRule[], seed = 1) {
    this.#rules = rules;
    this.#random = mulberry32(seed);
  }

  static fromOptions(options: Readonly<Record<string, string>>): FaultSchedule {
    return new FaultSchedule(parseFaultRules(options.faults), faultSeed(options));
  }

  /** Operations asked about so far. */
  get operations(): number {
    return this.#operations;
  }

  /** Called once per operation: the fault to inject on it, if any. */
  next(): FaultKind | undefined {
    this.#operations++;
    for (const rule of this.#rules) {
      if ('nth' in rule) {
        if (rule.nth === this.#operations) return rule.kind;
      } else if (rule.probability > 0 && this.#random() < rule.probability) {
        return rule.kind;
      }
    }
    return undefined;
  }
}
