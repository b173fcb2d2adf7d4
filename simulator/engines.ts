/**
 * Engine options shared by the simulated cards: what an engine does with an
 * operation (`engine=real|null|timed`), how many work in parallel (`engines=N`),
 * and how long an operation takes in timed mode (`service=<ms>` or `rate=<ops/s>`
 * for the whole card), plus how late a delayed completion is (`delayms`).
 */

import { InvalidInputError } from '../core/driver/errors.js';

export type EngineMode = 'real' | 'null' | 'timed';

export interface EngineConfig {
  readonly mode: EngineMode;
  /** Engines working in parallel. */
  readonly count: number;
  /** Timed mode: service time of one operation on one engine, in milliseconds. */
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
  let serviceMs = positiveNumber(options, 'service', defaults.serviceMs);
  if (options.rate !== undefined && options.service === undefined) {
    const rate = positiveNumber(options, 'rate', 0);
    if (rate <= 0)
      throw new InvalidInputError(`bad simulator option rate=${options.rate}: expected ops/s above 0`);
    // The card as a whole does `rate` operations per second: each engine one every count/rate seconds.
    serviceMs = (count / rate) * 1000;
  }
  return { mode, count, serviceMs, faultDelayMs: positiveNumber(options, 'delayms', 50) };
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
