/** Shared helpers for the ring driver tests: a card on the inline simulator, keys, one-job runs. */

import type { KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import type {
  Completion,
  EcCurveName,
  EcPrivateKeyMaterial,
  PrimitiveRequest,
  QueuePair,
  RsaPrivateKeyMaterial,
} from '../../../core/driver/index.js';
import type { RingDevice } from '../../../drivers/ring/index.js';
import { ringDriver } from '../../../drivers/ring/index.js';
import { cachedRsaKey, newEcKey, newRsaKey } from '../../support/keys.js';
import { closeAfterEach, collect, openSimCard, runOne as runOneOn, type SimCard } from '../../support/sim.js';

export type Card = SimCard<RingDevice>;

/**
 * Open `sim:ring?…` and probe it as the registry does: the card and the driver each read
 * their options from one tracked set, and a name neither knew is refused.
 */
export function openCard(options = 'mode=inline&depth=8'): Promise<Card> {
  return openSimCard<RingDevice>(ringDriver, `sim:ring?${options}`);
}

/** {@link openCard}, closed after the test that opened it. */
export async function card(options?: string): Promise<Card> {
  const c = await openCard(options);
  closeAfterEach(c.device);
  return c;
}

let nextTag = 1;

/** Submit one request and wait for its completion (with a deadline so a bug cannot hang the suite). */
export async function runOne(
  qp: QueuePair,
  request: PrimitiveRequest,
  timeoutMs = 5000,
): Promise<Completion> {
  const tag = nextTag++;
  const completion = await runOneOn(qp, request, tag, AbortSignal.timeout(timeoutMs));
  expect(completion.tag).toBe(tag);
  return completion;
}

/** Harvest until `count` completions arrived, or reject after `timeoutMs`. */
export function harvestAll(qp: QueuePair, count: number, timeoutMs = 5000): Promise<Completion[]> {
  return collect(qp, count, AbortSignal.timeout(timeoutMs));
}

/** An RSA key of `bits` (made once per file), with node's KeyObjects for reference results. */
export function rsaKeyPair(bits = 2048): {
  material: RsaPrivateKeyMaterial;
  privateKey: KeyObject;
  publicKey: KeyObject;
} {
  return cachedRsaKey(bits);
}

export function rsaKey(bits = 2048): RsaPrivateKeyMaterial {
  return cachedRsaKey(bits).material;
}

/** A fresh RSA key of `bits` (distinct material object) — for slot tests. */
export function freshRsaKey(bits = 512): RsaPrivateKeyMaterial {
  return newRsaKey(bits).material;
}

export function ecKey(curve: EcCurveName = 'P-256'): EcPrivateKeyMaterial {
  return newEcKey(curve).material;
}

export function bytesOf(value: bigint, length: number): Uint8Array {
  return Uint8Array.from(Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex'));
}

/** Whether `needle` occurs anywhere in `haystack`. */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return (
    Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(Buffer.from(needle)) >= 0
  );
}
