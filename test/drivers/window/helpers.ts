/**
 * Shared fixtures for the window card tests: open a simulated card and probe it
 * with the window driver, run one primitive through its queue pair, keys.
 */

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Completion, Device, PrimitiveRequest, QueuePair } from '../../../core/driver/index.js';
import { CURVES, EcPrivateKeyMaterial, RsaPrivateKeyMaterial } from '../../../core/driver/index.js';
import { trackProbeOptions } from '../../../core/driver/probe-options.js';
import { ecMultiply } from '../../../core/math/index.js';
import { parseDeviceSpec } from '../../../core/platform/pci.js';
import type { WindowDevice } from '../../../drivers/window/device.js';
import { windowDriver } from '../../../drivers/window/index.js';
import type { SimPciFunction } from '../../../simulator/function.js';
import { SimulatorPlatform } from '../../../simulator/platform.js';

export interface OpenedCard {
  readonly device: WindowDevice;
  readonly fn: SimPciFunction;
  readonly qp: QueuePair;
  /** BAR0 as the host sees it, bypassing the driver (for inspection). */
  readonly bar: Uint8Array;
  close(): Promise<void>;
}

const platform = new SimulatorPlatform();

/** Open `sim:window?…` (inline unless the spec says otherwise) and probe it. */
export async function openCard(query = ''): Promise<OpenedCard> {
  const sep = query.length > 0 ? '&' : '';
  const parsed = parseDeviceSpec(`sim:window?mode=inline${sep}${query}`);
  // As the registry does: the card model and the driver each read their options, and a name
  // neither knew is refused.
  const tracked = trackProbeOptions(parsed.options);
  const fn = await platform.open({ ...parsed, options: tracked.options });
  let device: WindowDevice;
  try {
    device = (await windowDriver.probe(fn, tracked.options)) as WindowDevice;
    tracked.check(`device spec "${parsed.text}"`);
  } catch (error) {
    await fn.close();
    throw error;
  }
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

/** Submit one request and wait for its completion (never more than `limitMs`). */
export async function runOne(qp: QueuePair, request: PrimitiveRequest, tag = 7): Promise<Completion> {
  expectTaken(qp.submit([{ tag, request }]), 1);
  return await collect(qp, 1).then((list) => list[0]!);
}

function expectTaken(taken: number, want: number): void {
  if (taken !== want) throw new Error(`queue pair took ${taken} jobs, expected ${want}`);
}

/** Wait until `count` completions have been harvested. */
export async function collect(qp: QueuePair, count: number, signal?: AbortSignal): Promise<Completion[]> {
  const out: Completion[] = [];
  while (out.length < count) {
    qp.harvest((c) => out.push(c));
    if (out.length >= count) break;
    await qp.waitForCompletions(signal ?? AbortSignal.timeout(20_000));
  }
  return out;
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

const rsaCache = new Map<number, { material: RsaPrivateKeyMaterial; key: KeyObject }>();

/** An RSA key of `bits` (cached per run), with node's KeyObject for reference results. */
export function rsaKey(bits: number): { material: RsaPrivateKeyMaterial; key: KeyObject } {
  let entry = rsaCache.get(bits);
  if (!entry) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    entry = { material: rsaMaterial(privateKey), key: privateKey };
    rsaCache.set(bits, entry);
  }
  return entry;
}

const NODE_CURVES = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' } as const;

/** An EC key pair on `curve`, from node (so the public point is an independent reference). */
export function ecKey(curve: keyof typeof NODE_CURVES): EcPrivateKeyMaterial {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: NODE_CURVES[curve] });
  const j = privateKey.export({ format: 'jwk' });
  return new EcPrivateKeyMaterial(curve, b64(j.d!), { kind: 'ec-public', curve, x: b64(j.x!), y: b64(j.y!) });
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
