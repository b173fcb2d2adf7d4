/**
 * The contenders of one `speed` run: each selected device on its own
 * accelerator (so its figures are its own), pkaccel's software provider, and
 * node's own crypto.subtle as the baseline every ratio is against.
 */

import { webcrypto } from 'node:crypto';
import type { Accelerator } from '../../index.js';
import { type CommandContext, messageOf } from '../context.js';
import { openSelected } from '../device-selection.js';
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

function acceleratorProvider(spec: string, accel: Accelerator, fallback: string | undefined): Provider {
  return {
    name: spec,
    kind: spec === fallback ? 'software' : 'device',
    model: accel.devices.map((d) => d.model).join(', '),
    subtle: accel.subtle as unknown as SubtleLike,
    close: () => accel.close(),
  };
}

/**
 * Open the providers: the device specs in order, then the fallback provider
 * (`software`) if it was not among them, then node. A spec that cannot be
 * opened is reported, not fatal; a spec the registry refuses is a usage error
 * (thrown after closing what was opened).
 */
export async function openProviders(
  ctx: CommandContext,
  specs: readonly string[],
): Promise<{ providers: Provider[]; failed: { spec: string; error: string }[] }> {
  const fallback = ctx.registry.fallbackDriver()?.scheme;
  const wanted = fallback === undefined || specs.includes(fallback) ? [...specs] : [...specs, fallback];
  const providers: Provider[] = [];
  const failed: { spec: string; error: string }[] = [];
  try {
    for (const spec of wanted) {
      const { accel, error } = await openSelected(ctx, spec);
      if (accel) providers.push(acceleratorProvider(spec, accel, fallback));
      else failed.push({ spec, error: messageOf(error) });
    }
  } catch (error) {
    await Promise.allSettled(providers.map((p) => p.close()));
    throw error;
  }
  providers.push(nodeProvider());
  return { providers, failed };
}
