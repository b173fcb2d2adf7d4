/**
 * The integrity gate's options, as `openAccelerator({ queue: { integrity } })`
 * takes them, and their defaults. What each check proves is in gate.ts and the
 * README's "Integrity" section.
 */

import { InvalidInputError } from '../driver/errors.js';

/**
 * How ECDSA signatures made by a device are checked before release.
 * - `device` (default): the signing device verifies its own signature again and
 *   returns the verdict's witness (x of u1·G + u2·Q), which the host compares with
 *   r. Costs one device verification per signature and almost no host CPU. Where
 *   the device cannot verify or returns no witness, falls back to `all`.
 * - `all`: the host verifies every signature (OpenSSL; about 2× a software
 *   ECDSA signature of host CPU).
 * - `sample`: the host verifies a fraction (`sampleRate`) of signatures, and every
 *   signature of a device for `suspectWindow` results after any fault on it.
 *   Cheapest, and it can release a corrupted signature that was not sampled; a
 *   sampled one that fails takes the device out of service.
 *
 * @category Queue and stats
 */
export type SignCheck = 'device' | 'all' | 'sample';

/**
 * How verdicts (ecdsa-verify, rsa-verify, eddsa-verify) from a device are checked.
 * - `witness` (default, the strongest a device allows): a verdict that comes with
 *   a witness is compared with it; a verdict that comes without one is
 *   re-checked on the host (as `all`).
 * - `all`: every verdict re-checked on the host (a witness is still compared).
 * - `sample`: a verdict with a witness is compared with it; of the verdicts
 *   without one, a fraction (`sampleRate`, and all of them for `suspectWindow`
 *   results after a fault) is re-checked on the host, and the first mismatch
 *   takes the device out of service.
 * - `trust`: verdicts are released as the device gives them.
 *
 * @category Queue and stats
 */
export type VerifyCheck = 'witness' | 'all' | 'sample' | 'trust';

/**
 * The integrity gate's options (`openAccelerator({ queue: { integrity } })`): how
 * device results are checked on the host before a job settles. A result that fails
 * a check is withheld, the job retried elsewhere, and the fault counted against the
 * device (an `integrity-fault` event). The defaults check every result.
 *
 * @example
 * ```ts
 * // Cheaper: re-check one ECDSA signature in 16 on the host, all of them after a fault.
 * const accel = await openAccelerator({ queue: { integrity: { signCheck: 'sample', sampleRate: 1 / 16 } } });
 * ```
 *
 * @category Queue and stats
 */
export interface IntegrityOptions {
  /** ECDSA signatures made by a device. Default `device`. */
  readonly signCheck?: SignCheck;
  /** Verification verdicts. Default `witness`. */
  readonly verifyCheck?: VerifyCheck;
  /** Fraction of results `sample` re-checks on the host, in (0, 1]. Default 1/16. */
  readonly sampleRate?: number;
  /** After any fault on a device, `sample` re-checks its next this many results. Default 256. */
  readonly suspectWindow?: number;
}

/** Internal (not exported from the package): switches the gate off, for the benchmark's baseline only. */
export const GATE_OFF: unique symbol = Symbol('pkaccel.integrity.off');
/**
 * Internal (not exported from the package): the gate runs every check and releases the value
 * whatever it finds — for the benchmark on a null-engine card, whose fixed results fail the
 * checks, to measure what the checks cost.
 */
export const GATE_DRY: unique symbol = Symbol('pkaccel.integrity.dry');

/** The internal switches, beside the public options. */
export type InternalIntegrityOptions = IntegrityOptions & {
  readonly [GATE_OFF]?: boolean;
  readonly [GATE_DRY]?: boolean;
};

export interface ResolvedIntegrityOptions {
  readonly signCheck: SignCheck;
  readonly verifyCheck: VerifyCheck;
  readonly sampleRate: number;
  readonly suspectWindow: number;
  readonly off: boolean;
  readonly dry: boolean;
}

const SIGN_CHECKS: readonly SignCheck[] = ['device', 'all', 'sample'];
const VERIFY_CHECKS: readonly VerifyCheck[] = ['witness', 'all', 'sample', 'trust'];

export function resolveIntegrityOptions(
  options: InternalIntegrityOptions | undefined = {},
): ResolvedIntegrityOptions {
  const signCheck = options.signCheck ?? 'device';
  if (!SIGN_CHECKS.includes(signCheck))
    throw new InvalidInputError(`integrity option signCheck must be one of ${SIGN_CHECKS.join(', ')}`);
  const verifyCheck = options.verifyCheck ?? 'witness';
  if (!VERIFY_CHECKS.includes(verifyCheck))
    throw new InvalidInputError(`integrity option verifyCheck must be one of ${VERIFY_CHECKS.join(', ')}`);
  const sampleRate = options.sampleRate ?? 1 / 16;
  if (!(sampleRate > 0 && sampleRate <= 1))
    throw new InvalidInputError(`integrity option sampleRate must be in (0, 1], got ${sampleRate}`);
  const suspectWindow = options.suspectWindow ?? 256;
  if (!Number.isInteger(suspectWindow) || suspectWindow < 0)
    throw new InvalidInputError(
      `integrity option suspectWindow must be an integer >= 0, got ${suspectWindow}`,
    );
  return {
    signCheck,
    verifyCheck,
    sampleRate,
    suspectWindow,
    off: options[GATE_OFF] === true,
    dry: options[GATE_DRY] === true,
  };
}
