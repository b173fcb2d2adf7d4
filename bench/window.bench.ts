/**
 * Issue 4 §5, window card rows: RSA-2048 sign, ECDSA P-256 sign and verify and
 * ECDH P-256 through `accel.subtle` on `sim:window` (real engine, worker thread),
 * beside the software device and node's crypto.subtle (the baseline) in the same
 * run; and what moving operands through MMIO costs, against a plain memory copy
 * of the same bytes (the baseline) and as a share of one card operation.
 */

import { opsPerSecond } from '../cli/speed/measure.js';
import { bigintToBytes, type PrimitiveRequest } from '../core/driver/index.js';
import { parseDeviceSpec } from '../core/platform/index.js';
import { Registry } from '../core/registry/registry.js';
import { softwareDriver } from '../drivers/software/index.js';
import { windowDriver } from '../drivers/window/index.js';
import { SimulatorPlatform } from '../simulator/platform.js';
import { benchKeys, cardVsSubtleRows, type Jwk, rsaMaterialFromJwk } from './lib/card-vs-subtle.js';
import { QueuePairExecutor } from './lib/qp-executor.js';
import type { Bench, BenchRow } from './lib/types.js';

const WINDOW_SPEC = 'sim:window?engines=2';
const message = new TextEncoder().encode('a 64-byte message for the pkaccel window card benchmark........');

/** Nanoseconds per call of `fn`, over at least `ms` milliseconds. */
function nsPerCall(fn: () => void, ms: number): number {
  for (let i = 0; i < 1000; i++) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 200; i++) fn();
    calls += 200;
    now = performance.now();
  }
  return ((now - start) * 1e6) / calls;
}

/** MMIO costs on a worker-mode card: operand blocks, posted register writes, flushing reads. */
async function mmioRows(platform: SimulatorPlatform, ms: number): Promise<BenchRow[]> {
  const fn = await platform.open(parseDeviceSpec(WINDOW_SPEC));
  try {
    const mmio = fn.bar(0);
    const words = 128; // one full operand slot (4096 bits)
    const block = new Uint8Array(words * 4).fill(0xa5);
    const target = new Uint8Array(words * 4);
    const plain = new Uint8Array(0x2000);
    const memcpy = nsPerCall(() => plain.set(block, 0x200), ms);
    const write = nsPerCall(() => mmio.writeBlock(0x10000 + 0x200, block), ms);
    const read = nsPerCall(() => mmio.readBlock(0x10000 + 0x200, target), ms);
    // OPCODE of engine 0: a posted write through the FIFO to the model thread, then a read that waits for it.
    const post = nsPerCall(() => mmio.write32(0x1000, 1), ms);
    const postThenRead = nsPerCall(() => {
      mmio.write32(0x1000, 1);
      mmio.read32(0x1010);
    }, ms);
    return [
      {
        name: 'operand write (writeBlock, 128 words)',
        'ns/word': write / words,
        'memcpy ns/word': memcpy / words,
        ratio: write / memcpy,
      },
      {
        name: 'operand read (readBlock, 128 words)',
        'ns/word': read / words,
        'memcpy ns/word': memcpy / words,
        ratio: read / memcpy,
      },
      { name: 'register write (posted)', 'ns/op': post },
      { name: 'register write + flushing read', 'ns/op': postThenRead },
    ];
  } finally {
    await fn.close();
  }
}

/**
 * Per operation: the same raw RSA-2048 CRT request on a `null` engine (completes
 * at once: driver, marshalling and MMIO only) and on the real engine.
 */
async function perOpRows(registry: Registry, rsaJwk: Jwk, ms: number): Promise<BenchRow[]> {
  const key = rsaMaterialFromJwk(rsaJwk);
  const request: PrimitiveRequest = { op: 'rsa-private', key, input: bigintToBytes(12345n, 256) };
  // Words through the BAR per op: input 64 + p, q, dP, dQ, qInv 5×32 in, result 64 out, then 64 + 5×32 + 64 zeroed.
  const wordsMoved = 64 + 5 * 32 + 64 + (64 + 5 * 32 + 64);
  const rows: BenchRow[] = [];
  const perOp: Record<string, number> = {};
  for (const engine of ['null', 'real']) {
    const device = await registry.open(`${WINDOW_SPEC}&engine=${engine}`);
    try {
      const exec = new QueuePairExecutor(device.queuePairs[0]!);
      const rate = await opsPerSecond(() => exec.run(request), 1, ms);
      perOp[engine] = 1e6 / rate;
    } finally {
      await device.close();
    }
  }
  rows.push({
    name: 'raw RSA-2048 CRT on the queue pair, 1 in flight',
    'null engine µs/op': perOp.null!,
    'real engine µs/op': perOp.real!,
    'words through BAR/op': wordsMoved,
    'null µs/word': perOp.null! / wordsMoved,
    'null share of real': perOp.null! / perOp.real!,
  });
  return rows;
}

const bench: Bench = async (ctx) => {
  const windowMs = ctx.quick ? 400 : 2000;
  const platform = new SimulatorPlatform();
  const registry = new Registry();
  registry.registerPlatform(platform);
  registry.registerDriver(windowDriver);
  registry.registerDriver(softwareDriver);
  const k = await benchKeys(message);
  const rows = await cardVsSubtleRows(ctx, registry, WINDOW_SPEC, 'window', k, message, windowMs);
  rows.push(...(await mmioRows(platform, ctx.quick ? 100 : 500)));
  rows.push(...(await perOpRows(registry, k.rsaJwk, windowMs)));
  return rows;
};

export default bench;
