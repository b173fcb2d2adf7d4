/**
 * How long a window-card operation takes (datasheet §12), from the spec options:
 * `engine=real|null|timed`, and for `timed` a modeled service time.
 */

import { OP_ECMUL, OP_MODEXP_CRT } from './window-registers.js';

export type WindowEngineMode = 'real' | 'null' | 'timed';

export interface WindowTiming {
  readonly mode: WindowEngineMode;
  /** Extra latency of a `delay-completion` fault. */
  readonly faultDelayMs: number;
  /** Milliseconds from START to completion, given how long the arithmetic itself took. */
  serviceMs(opcode: number, lenA: number, computeMs: number): number;
}

function numberOption(options: Readonly<Record<string, string>>, key: string, fallback: number): number {
  const text = options[key];
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0)
    throw new RangeError(`sim:window option ${key}=${text}: expected a number ≥ 0`);
  return v;
}

/**
 * Modeled service time of a `timed` engine in microseconds: `service_us` for a
 * 2048-bit MODEXP_CRT, scaled by the cube of the operand length (schoolbook
 * exponentiation) and halved for the much shorter EC operands' fixed cost.
 */
function modeledUs(base: number, opcode: number, lenA: number): number {
  if (opcode === OP_ECMUL) return base / 2;
  const scale = (lenA / 64) ** 3;
  return opcode === OP_MODEXP_CRT ? base * scale : base * scale * 0.05;
}

export function windowTiming(options: Readonly<Record<string, string>>): WindowTiming {
  const mode = options.engine ?? 'real';
  if (mode !== 'real' && mode !== 'null' && mode !== 'timed') {
    throw new RangeError(`sim:window option engine=${mode}: expected real, null or timed`);
  }
  const faultDelayMs = numberOption(options, 'delayms', 20);
  const serviceUs = numberOption(options, 'service_us', 1000);
  return {
    mode,
    faultDelayMs,
    serviceMs(opcode, lenA, computeMs) {
      if (mode !== 'timed') return 0;
      return Math.max(0, modeledUs(serviceUs, opcode, lenA) / 1000 - computeMs);
    },
  };
}
