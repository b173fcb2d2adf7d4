/**
 * Fixtures for the virtio-crypto tests: open `sim:virtio` (inline unless asked
 * otherwise) and probe it with the virtio-crypto driver, run primitives on a
 * queue pair, RSA keys with node:crypto references.
 */

import { createHash, type KeyObject } from 'node:crypto';
import type {
  Completion,
  PrimitiveRequest,
  QueuePair,
  RsaPrivateKeyMaterial,
} from '../../../core/driver/index.js';
import type { VirtioCryptoDevice } from '../../../drivers/virtio-crypto/device.js';
import { virtioCryptoDriver } from '../../../drivers/virtio-crypto/index.js';
import type { SimPciFunction } from '../../../simulator/function.js';
import { cachedRsaKey } from '../../support/keys.js';
import { collect as collectOn, openSimCard, runOne as runOneOn } from '../../support/sim.js';

export interface OpenedVirtio {
  readonly device: VirtioCryptoDevice;
  readonly fn: SimPciFunction;
  readonly qp: QueuePair;
  close(): Promise<void>;
}

export async function openVirtio(query = ''): Promise<OpenedVirtio> {
  const full = query.includes('mode=') ? query : `mode=inline${query ? `&${query}` : ''}`;
  const { device, fn } = await openSimCard<VirtioCryptoDevice>(virtioCryptoDriver, `sim:virtio?${full}`);
  return { device, fn, qp: device.queuePairs[0]!, close: () => device.close() };
}

/** Harvest until `count` completions arrived (20 s in all unless `signal` says otherwise). */
export function collect(qp: QueuePair, count: number, signal?: AbortSignal): Promise<Completion[]> {
  return collectOn(qp, count, signal ?? AbortSignal.timeout(20_000));
}

export function runOne(qp: QueuePair, request: PrimitiveRequest, tag = 1): Promise<Completion> {
  return runOneOn(qp, request, tag, AbortSignal.timeout(20_000));
}

export function rsaKey(bits = 2048): { material: RsaPrivateKeyMaterial; key: KeyObject } {
  const { material, privateKey } = cachedRsaKey(bits);
  return { material, key: privateKey };
}

export function sha256(data: string | Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}
