/**
 * Shared fixtures for the window card tests: open a simulated card and probe it
 * with the window driver, run one primitive through its queue pair, keys.
 */

import type { KeyObject } from 'node:crypto';
import {
  type Completion,
  CURVES,
  type Device,
  type EcCurveName,
  type EcPrivateKeyMaterial,
  type PrimitiveRequest,
  type QueuePair,
  type RsaPrivateKeyMaterial,
} from '../../../core/driver/index.js';
import { ecMultiply } from '../../../core/math/index.js';
import type { WindowDevice } from '../../../drivers/window/device.js';
import { windowDriver } from '../../../drivers/window/index.js';
import type { SimPciFunction } from '../../../simulator/function.js';
import { cachedRsaKey, newEcKey } from '../../support/keys.js';
import { collect, openSimCard, runOne as runOneOn } from '../../support/sim.js';

export interface OpenedCard {
  readonly device: WindowDevice;
  readonly fn: SimPciFunction;
  readonly qp: QueuePair;
  /** BAR0 as the host sees it, bypassing the driver (for inspection). */
  readonly bar: Uint8Array;
  close(): Promise<void>;
}

/** Open `sim:window?…` (inline unless the spec says otherwise) and probe it. */
export async function openCard(query = ''): Promise<OpenedCard> {
  const sep = query.length > 0 ? '&' : '';
  const { device, fn } = await openSimCard<WindowDevice>(
    windowDriver,
    `sim:window?mode=inline${sep}${query}`,
  );
  const qp = device.queuePairs[0]!;
  return {
    device,
    fn,
    qp,
    get bar(): Uint8Array {
      return barBytes(fn);
    },
    close: () => device.close(),
  };
}

/** The raw BAR0 bytes of a simulated card (test-only reach through the platform). */
export function barBytes(fn: SimPciFunction): Uint8Array {
  const mmio = fn.bar(0);
  const out = new Uint8Array(mmio.size);
  mmio.readBlock(0, out);
  return out;
}

/** Submit one request and wait for its completion (never more than 20 s). */
export function runOne(qp: QueuePair, request: PrimitiveRequest, tag = 7): Promise<Completion> {
  return runOneOn(qp, request, tag);
}

export { collect };

/** An RSA key of `bits` (cached per run), with node's KeyObject for reference results. */
export function rsaKey(bits: number): { material: RsaPrivateKeyMaterial; key: KeyObject } {
  const { material, privateKey } = cachedRsaKey(bits);
  return { material, key: privateKey };
}

/** An EC key pair on `curve`, from node (so the public point is an independent reference). */
export function ecKey(curve: EcCurveName): EcPrivateKeyMaterial {
  return newEcKey(curve).material;
}

/** k·G by core/math, as an independent reference for the card. */
export function referenceMul(curve: keyof typeof CURVES, k: bigint, point?: { x: bigint; y: bigint }) {
  return ecMultiply(CURVES[curve], k, point);
}

/** Whether `needle` occurs anywhere in `haystack`. */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0) return true;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The little-endian bytes of `v` as the card stores it (lowest `bytes` bytes). */
export function leBytes(v: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = v;
  for (let i = 0; i < bytes; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

export type { Device };
