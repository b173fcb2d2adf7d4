/**
 * How long a window-card operation takes (datasheet §12), from the simulator's
 * shared engine options (simulator/engines.ts): `engine=real|null|timed`,
 * `service=<ms>` or `rate=<ops/s>` (timed engines, and real ones computing on a
 * modeled schedule), `delayms` for the delayed-completion fault.
 */

import { type EngineMode, parseEngineConfig } from '../../engines.js';

export interface WindowTiming {
  readonly mode: EngineMode;
  /** Extra latency of a `delay-completion` fault. */
  readonly faultDelayMs: number;
  /** Milliseconds from the arithmetic's end to completion, given how long the arithmetic took. */
  serviceMs(computeMs: number): number;
}

/** Timed engines default to 1 ms per operation: the order of a PKA engine's RSA-2048 CRT. */
const DEFAULT_SERVICE_MS = 1;

export function windowTiming(options: Readonly<Record<string, string>>, engines: number): WindowTiming {
  const config = parseEngineConfig(
    { ...options, engines: String(engines) },
    { count: engines, serviceMs: DEFAULT_SERVICE_MS },
  );
  return {
    mode: config.mode,
    faultDelayMs: config.faultDelayMs,
    // A timed engine (or a real one given service/rate) takes its service time in all, however
    // long the model's own arithmetic took; config.serviceMs is 0 for the others.
    serviceMs: (computeMs) => Math.max(0, config.serviceMs - computeMs),
  };
}
