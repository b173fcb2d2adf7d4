/**
 * The contenders of one `speed` run: each selected device on its own
 * accelerator (so its figures are its own), pkaccel's software provider, and
 * node's own crypto.subtle as the baseline every ratio is against.
 */

import { webcrypto } from 'node:crypto';
import { type Accelerator, openAccelerator, type Registry } from '../../index.js';
import { messageOf } from '../context.js';
import type { SubtleLike } from './algorithms.js';

export type ProviderKind = 'device' | 'software' | 'node';

export interface Provider {
  /** The device spec, or "node" for node's crypto.subtle. */
  readonly name: string;
  readonly kind: ProviderKind;
  readonly model: string;
  readonly subtle: SubtleLike;
  close(): Promise<void>;
}

export const NODE_PROVIDER = 'node';

function nodeProvider(): Provider {
  return {
    name: NODE_PROVIDER,
    kind: 'node',
    model: `node ${process.version} crypto.subtle (OpenSSL ${process.versions.openssl})`,
    subtle: webcrypto.subtle as unknown as SubtleLike,
    close: async () => {},
  };
}

function acceleratorProvider(spec: string, accel: Accelerator): Provider {
  return {
    name: spec,
    kind: spec === 'software' ? 'software' : 'device',
    model: accel.devices.map((d) => d.model).join(', '),
    subtle: accel.subtle as unknown as SubtleLike,
    close: () => accel.close(),
  };
}

/**
 * Open the providers: the device specs in order, then `software` if it was not
 * among them, then node. A spec that cannot be opened is reported, not fatal.
 */
export async function openProviders(
  registry: Registry,
  specs: readonly string[],
  signal: AbortSignal,
): Promise<{ providers: Provider[]; failed: { spec: string; error: string }[] }> {
  const wanted = specs.includes('software') ? [...specs] : [...specs, 'software'];
  const providers: Provider[] = [];
  const failed: { spec: string; error: string }[] = [];
  for (const spec of wanted) {
    try {
      providers.push(acceleratorProvider(spec, await openAccelerator({ devices: [spec], registry, signal })));
    } catch (error) {
      failed.push({ spec, error: messageOf(error) });
    }
  }
  providers.push(nodeProvider());
  return { providers, failed };
}
