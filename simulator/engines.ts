/**
 * Engine options shared by the simulated cards: what an engine does with an
 * operation (`engine=real|null|timed`), how many work in parallel (`engines=N`),
 * how long an operation takes (`service=<ms>` per operation on one engine, or
 * `rate=<ops/s>` for the whole card), plus how late a delayed completion is (`delayms`).
 *
 * - `real`: correct results (the host's CPU computes them, on the model's thread).
 *   Without `service`/`rate` an operation completes as soon as it is computed. With
 *   them, the card is a modeled one that computes for real: an operation's result
 *   is computed when an engine takes it, and its completion is posted at
 *   max(start + service, the computation's end), `engines` at a time — a card
 *   declared faster than the host's software (a TLS client accepts its
 *   signatures), whose real throughput is still bounded by the one model thread
 *   that computes (`rate` is a ceiling, never a promise the host's CPU can keep).
 * - `null`: a fixed result at once (service and rate ignored): the framework alone.
 * - `timed`: the same fixed result after the service time (default: the model's).
 */

import { InvalidInputError } from '../core/driver/errors.js';

export type EngineMode = 'real' | 'null' | 'timed';

export interface EngineConfig {
  readonly mode: EngineMode;
  /** Engines working in parallel. */
  readonly count: number;
  /**
   * Modeled service time of one operation on one engine, in milliseconds: timed engines
   * always (the model's default unless given); real engines only when `service` or `rate`
   * is given; 0 otherwise (null engines, and real ones completing as soon as computed).
   */
  readonly serviceMs: number;
  /** Extra latency of a `delay` fault, in milliseconds. */
  readonly faultDelayMs: number;
}

function positiveNumber(options: Readonly<Record<string, string>>, name: string, fallback: number): number {
  const text = options[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidInputError(`bad simulator option ${name}=${text}: expected a non-negative number`);
  }
  return value;
}

export function parseEngineConfig(
  options: Readonly<Record<string, string>>,
  defaults: { readonly count: number; readonly serviceMs: number },
): EngineConfig {
  const mode = options.engine ?? 'real';
  if (mode !== 'real' && mode !== 'null' && mode !== 'timed') {
    throw new InvalidInputError(`bad simulator option engine=${mode}: expected real, null or timed`);
  }
  const count = positiveNumber(options, 'engines', defaults.count);
  if (!Number.isInteger(count) || count < 1 || count > 256) {
    throw new InvalidInputError(
      `bad simulator option engines=${options.engines}: expected an integer in 1..256`,
    );
  }
  // A real engine is scheduled only when told to: its default is "as soon as computed".
  let serviceMs = positiveNumber(options, 'service', mode === 'timed' ? defaults.serviceMs : 0);
  if (options.rate !== undefined && options.service === undefined) {
    const rate = positiveNumber(options, 'rate', 0);
    if (rate <= 0)
      throw new InvalidInputError(`bad simulator option rate=${options.rate}: expected ops/s above 0`);
    // The card as a whole does `rate` operations per second: each engine one every count/rate seconds.
    serviceMs = (count / rate) * 1000;
  }
  if (mode === 'null') serviceMs = 0; // the null engine completes at once, whatever the spec says
  return { mode, count, serviceMs, faultDelayMs: positiveNumber(options, 'delayms', 50) };
}

/**
 * Whether operations compute for real on a modeled schedule (`engine=real` with `service` or
 * `rate`): the model computes when an engine takes the operation and posts the completion
 * at max(start + serviceMs, the computation's end).
 */
export function realOnSchedule(config: EngineConfig): boolean {
  return config.mode === 'real' && config.serviceMs > 0;
}

/**
 * The card's engines as a counter of busy ones: a model hands an operation to a
 * free engine and gives it back when the operation's completion is written.
 */
export class EnginePool {
  readonly config: EngineConfig;
  #busy = 0;

  constructor(config: EngineConfig) {
    this.config = config;
  }

  get free(): number {
    return this.config.count - this.#busy;
  }

  take(): void {
    if (this.#busy >= this.config.count) throw new Error('no free engine');
    this.#busy++;
  }

  give(): void {
    if (this.#busy > 0) this.#busy--;
  }

  /** Forget every operation in flight (card reset). */
  clear(): void {
    this.#busy = 0;
  }
}
