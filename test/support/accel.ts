/** What tests do with an accelerator over and over: import a key, switch the integrity gate off for a control run. */

import type { Accelerator, CryptoKey, JsonWebKey, KeyUsage } from '../../core/api/index.js';
import { GATE_OFF, type IntegrityOptions } from '../../core/integrity/options.js';

type ImportKey = Accelerator['subtle']['importKey'];

/** The integrity options of a control run: the gate switched off, to show what it stops. */
export const GATE_OFF_OPTIONS = { [GATE_OFF]: true } as IntegrityOptions;

/** A JWK imported into the accelerator as a non-extractable key with these usages. */
export function importJwk(
  accel: Pick<Accelerator, 'subtle'>,
  jwk: JsonWebKey,
  algorithm: Parameters<ImportKey>[2],
  ...usages: KeyUsage[]
): Promise<CryptoKey> {
  return accel.subtle.importKey('jwk', jwk, algorithm, false, usages);
}

/** The error a promise rejects with; fails the test if it fulfils. */
export async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
