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
 * Probabilistic rules draw from a seeded generator (`seed=<n>`) so a failing run
 * can be repeated.
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

export class FaultSchedule {
  readonly #rules: readonly FaultRule[];
  readonly #random: () => number;
  #operations = 0;

  constructor(rules: readonly FaultRule[], seed = 1) {
    this.#rules = rules;
    this.#random = mulberry32(seed);
  }

  static fromOptions(options: Readonly<Record<string, string>>): FaultSchedule {
    const seed = options.seed === undefined ? 1 : Number(options.seed);
    if (!Number.isInteger(seed))
      throw new InvalidInputError(`bad seed "${options.seed}": expected an integer`);
    return new FaultSchedule(parseFaultRules(options.faults), seed);
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
