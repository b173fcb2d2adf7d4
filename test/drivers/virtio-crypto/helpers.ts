/**
 * Fixtures for the virtio-crypto tests: open `sim:virtio` (inline unless asked
 * otherwise) and probe it with the virtio-crypto driver, run primitives on a
 * queue pair, RSA keys with node:crypto references.
 */

import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Completion, PrimitiveRequest, QueuePair } from '../../../core/driver/index.js';
import { RsaPrivateKeyMaterial } from '../../../core/driver/index.js';
import { trackProbeOptions } from '../../../core/driver/probe-options.js';
import { parseDeviceSpec } from '../../../core/platform/pci.js';
import type { VirtioCryptoDevice } from '../../../drivers/virtio-crypto/device.js';
import { virtioCryptoDriver } from '../../../drivers/virtio-crypto/index.js';
import type { SimPciFunction } from '../../../simulator/function.js';
import { SimulatorPlatform } from '../../../simulator/platform.js';

export interface OpenedVirtio {
  readonly device: VirtioCryptoDevice;
  readonly fn: SimPciFunction;
  readonly qp: QueuePair;
  close(): Promise<void>;
}

const platform = new SimulatorPlatform();

export async function openVirtio(query = ''): Promise<OpenedVirtio> {
  const full = query.includes('mode=') ? query : `mode=inline${query ? `&${query}` : ''}`;
  const parsed = parseDeviceSpec(`sim:virtio?${full}`);
  // As the registry does: the card model and the driver each read their options, and a name
  // neither knew is refused.
  const tracked = trackProbeOptions(parsed.options);
  const fn = await platform.open({ ...parsed, options: tracked.options });
  try {
    const device = (await virtioCryptoDriver.probe(fn, tracked.options)) as VirtioCryptoDevice;
    tracked.check(`device spec "${parsed.text}"`);
    return { device, fn, qp: device.queuePairs[0]!, close: () => device.close() };
  } catch (error) {
    await fn.close();
    throw error;
  }
}

export async function collect(qp: QueuePair, count: number, signal?: AbortSignal): Promise<Completion[]> {
  const out: Completion[] = [];
  const stop = signal ?? AbortSignal.timeout(20_000);
  while (out.length < count) {
    qp.harvest((c) => out.push(c));
    if (out.length >= count) break;
    await qp.waitForCompletions(stop);
  }
  return out;
}

export async function runOne(qp: QueuePair, request: PrimitiveRequest, tag = 1): Promise<Completion> {
  const taken = qp.submit([{ tag, request }]);
  if (taken !== 1) throw new Error(`queue pair took ${taken} jobs`);
  const [completion] = await collect(qp, 1);
  return completion!;
}

function b64(s: string): bigint {
  return BigInt(`0x${Buffer.from(s, 'base64url').toString('hex') || '0'}`);
}

export function rsaMaterial(key: KeyObject): RsaPrivateKeyMaterial {
  const j = key.export({ format: 'jwk' });
  return new RsaPrivateKeyMaterial(
    b64(j.n!),
    b64(j.e!),
    b64(j.d!),
    b64(j.p!),
    b64(j.q!),
    b64(j.dp!),
    b64(j.dq!),
    b64(j.qi!),
  );
}

const cache = new Map<number, { material: RsaPrivateKeyMaterial; key: KeyObject }>();

export function rsaKey(bits = 2048): { material: RsaPrivateKeyMaterial; key: KeyObject } {
  let entry = cache.get(bits);
  if (entry === undefined) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    entry = { material: rsaMaterial(privateKey), key: privateKey };
    cache.set(bits, entry);
  }
  return entry;
}

export function sha256(data: string | Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}
