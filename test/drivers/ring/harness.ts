/** Shared helpers for the ring driver tests: a card on the inline simulator, keys, one-job runs. */

import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'vitest';
import {
  type Completion,
  type EcCurveName,
  EcPrivateKeyMaterial,
  type PrimitiveRequest,
  type QueuePair,
  RsaPrivateKeyMaterial,
} from '../../../core/driver/index.js';
import { trackProbeOptions } from '../../../core/driver/probe-options.js';
import { parseDeviceSpec } from '../../../core/platform/pci.js';
import type { RingDevice } from '../../../drivers/ring/index.js';
import { ringDriver } from '../../../drivers/ring/index.js';
import type { SimPciFunction } from '../../../simulator/function.js';
import { SimulatorPlatform } from '../../../simulator/platform.js';

export const platform = new SimulatorPlatform();

export interface Card {
  readonly fn: SimPciFunction;
  readonly device: RingDevice;
}

/**
 * Open `sim:ring?…` and probe it as the registry does: the card and the driver each read
 * their options from one tracked set, and a name neither knew is refused.
 */
export async function openCard(options = 'mode=inline&depth=8'): Promise<Card> {
  const parsed = parseDeviceSpec(`sim:ring?${options}`);
  const tracked = trackProbeOptions(parsed.options);
  const fn = await platform.open({ ...parsed, options: tracked.options });
  let device: RingDevice;
  try {
    device = (await ringDriver.probe(fn, tracked.options)) as RingDevice;
  } catch (error) {
    await fn.close();
    throw error;
  }
  try {
    tracked.check(`device spec "${parsed.text}"`);
  } catch (error) {
    await device.close();
    throw error;
  }
  return { fn, device };
}

let nextTag = 1;

/** Submit one request and wait for its completion (with a deadline so a bug cannot hang the suite). */
export async function runOne(
  qp: QueuePair,
  request: PrimitiveRequest,
  timeoutMs = 5000,
): Promise<Completion> {
  const tag = nextTag++;
  expect(qp.submit([{ tag, request }])).toBe(1);
  const [completion] = await harvestAll(qp, 1, timeoutMs);
  expect(completion!.tag).toBe(tag);
  return completion!;
}

/** Harvest until `count` completions arrived, or reject after `timeoutMs`. */
export async function harvestAll(qp: QueuePair, count: number, timeoutMs = 5000): Promise<Completion[]> {
  const out: Completion[] = [];
  const signal = AbortSignal.timeout(timeoutMs);
  while (out.length < count) {
    qp.harvest((c) => out.push(c));
    if (out.length >= count) break;
    await qp.waitForCompletions(signal);
  }
  return out;
}

function big(b64: string | undefined): bigint {
  return BigInt(`0x${Buffer.from(b64!, 'base64url').toString('hex') || '0'}`);
}

const rsaCache = new Map<number, RsaPrivateKeyMaterial>();

export function rsaKey(bits = 2048): RsaPrivateKeyMaterial {
  let key = rsaCache.get(bits);
  if (!key) {
    const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ format: 'jwk' });
    key = new RsaPrivateKeyMaterial(
      big(jwk.n),
      big(jwk.e),
      big(jwk.d),
      big(jwk.p),
      big(jwk.q),
      big(jwk.dp),
      big(jwk.dq),
      big(jwk.qi),
    );
    rsaCache.set(bits, key);
  }
  return key;
}

/** A fresh RSA key of `bits` (distinct material object) — for slot tests. */
export function freshRsaKey(bits = 512): RsaPrivateKeyMaterial {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ format: 'jwk' });
  return new RsaPrivateKeyMaterial(
    big(jwk.n),
    big(jwk.e),
    big(jwk.d),
    big(jwk.p),
    big(jwk.q),
    big(jwk.dp),
    big(jwk.dq),
    big(jwk.qi),
  );
}

const NODE_CURVE: Record<EcCurveName, string> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
};

export function ecKey(curve: EcCurveName = 'P-256'): EcPrivateKeyMaterial {
  const jwk = generateKeyPairSync('ec', { namedCurve: NODE_CURVE[curve] }).privateKey.export({
    format: 'jwk',
  });
  return new EcPrivateKeyMaterial(curve, big(jwk.d), {
    kind: 'ec-public',
    curve,
    x: big(jwk.x),
    y: big(jwk.y),
  });
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
