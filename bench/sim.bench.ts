/**
 * Issue 4 §5, ring card rows: RSA-2048 sign, ECDSA P-256 sign and verify and
 * ECDH P-256 through `accel.subtle` on `sim:ring` (real engine, model on its
 * worker thread), beside the software device and node's crypto.subtle (the
 * baseline) in the same run. Then the framework alone: the same raw RSA-2048
 * CRT request straight on one queue pair with a `null` engine (completes at
 * once: driver, rings, doorbells, interrupts, worker hand-off) against the real
 * engine, at 1 and 64 in flight.
 */

import { opsPerSecond } from '../cli/speed/measure.js';
import { bigintToBytes, type PrimitiveRequest } from '../core/driver/index.js';
import { Registry } from '../core/registry/registry.js';
import { ringDriver } from '../drivers/ring/index.js';
import { softwareDriver } from '../drivers/software/index.js';
import { SimulatorPlatform } from '../simulator/platform.js';
import { benchKeys, cardVsSubtleRows, type Jwk, rsaMaterialFromJwk } from './lib/card-vs-subtle.js';
import { QueuePairExecutor } from './lib/qp-executor.js';
import type { Bench, BenchRow } from './lib/types.js';

const RING_SPEC = 'sim:ring';
const message = new TextEncoder().encode('a 64-byte message for the pkaccel ring card benchmark..........');

/** Raw RSA-2048 CRT straight on queue pair 0: null engine (framework alone) against the real engine. */
async function framework(registry: Registry, rsaJwk: Jwk, ms: number): Promise<BenchRow[]> {
  const request: PrimitiveRequest = {
    op: 'rsa-private',
    key: rsaMaterialFromJwk(rsaJwk),
    input: bigintToBytes(12345n, 256),
  };
  const rows: BenchRow[] = [];
  for (const inFlight of [1, 64]) {
    const rate: Record<string, number> = {};
    for (const engine of ['null', 'real']) {
      const device = await registry.open(`${RING_SPEC}?engine=${engine}`);
      try {
        const exec = new QueuePairExecutor(device.queuePairs[0]!);
        rate[engine] = await opsPerSecond(() => exec.run(request), inFlight, ms);
      } finally {
        await device.close();
      }
    }
    rows.push({
      name: 'raw RSA-2048 CRT on one queue pair',
      concurrency: inFlight,
      'null engine ops/s': rate.null!,
      'real engine ops/s': rate.real!,
      'null µs/op': 1e6 / rate.null!,
      'framework share of real': rate.real! / rate.null!,
    });
  }
  return rows;
}

const bench: Bench = async (ctx) => {
  const windowMs = ctx.quick ? 400 : 2000;
  const registry = new Registry();
  registry.registerPlatform(new SimulatorPlatform());
  registry.registerDriver(ringDriver);
  registry.registerDriver(softwareDriver);
  const k = await benchKeys(message);
  const rows = await cardVsSubtleRows(ctx, registry, RING_SPEC, 'ring', k, message, windowMs);
  rows.push(...(await framework(registry, k.rsaJwk, windowMs)));
  return rows;
};

export default bench;
