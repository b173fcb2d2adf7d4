/**
 * Issue 4 §5, window card rows: RSA-2048 sign, ECDSA P-256 sign and verify and
 * ECDH P-256 through `accel.subtle` on `sim:window` (real engine, worker thread),
 * beside the software device and node's crypto.subtle (the baseline) in the same
 * run; and what moving operands through MMIO costs, against a plain memory copy
 * of the same bytes (the baseline) and as a share of one card operation.
 */

import { webcrypto } from 'node:crypto';
import { type Accelerator, openAccelerator } from '../core/api/index.js';
import { bigintToBytes, type PrimitiveRequest, RsaPrivateKeyMaterial } from '../core/driver/index.js';
import { parseDeviceSpec } from '../core/platform/index.js';
import { Registry } from '../core/registry/registry.js';
import { softwareDriver } from '../drivers/software/index.js';
import { windowDriver } from '../drivers/window/index.js';
import { SimulatorPlatform } from '../simulator/platform.js';
import { opsPerSecond } from './lib/measure.js';
import { QueuePairExecutor } from './lib/qp-executor.js';
import type { Bench, BenchRow } from './lib/types.js';

const subtle = webcrypto.subtle;
type Key = webcrypto.CryptoKey;
type Jwk = webcrypto.JsonWebKey;

const WINDOW_SPEC = 'sim:window?engines=2';
const message = new TextEncoder().encode('a 64-byte message for the pkaccel window card benchmark........');

interface Case {
  readonly name: string;
  /** One call through node's crypto.subtle (baseline) or an accelerator's subtle. */
  make(s: typeof subtle | Accelerator['subtle']): Promise<() => Promise<unknown>>;
}

async function keys() {
  const rsaAlg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const rsa = (await subtle.generateKey(
    { ...rsaAlg, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const ecAlg = { name: 'ECDSA', namedCurve: 'P-256' };
  const ec = (await subtle.generateKey(ecAlg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const dhAlg = { name: 'ECDH', namedCurve: 'P-256' };
  const dhA = (await subtle.generateKey(dhAlg, true, ['deriveBits'])) as webcrypto.CryptoKeyPair;
  const dhB = (await subtle.generateKey(dhAlg, true, ['deriveBits'])) as webcrypto.CryptoKeyPair;
  const jwk = async (k: Key) => subtle.exportKey('jwk', k) as Promise<Jwk>;
  return {
    rsaAlg,
    ecAlg,
    dhAlg,
    rsaJwk: await jwk(rsa.privateKey),
    ecJwk: await jwk(ec.privateKey),
    ecPubJwk: await jwk(ec.publicKey),
    ecSig: await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey, message),
    dhAJwk: await jwk(dhA.privateKey),
    dhBPubJwk: await jwk(dhB.publicKey),
  };
}

function cases(k: Awaited<ReturnType<typeof keys>>): Case[] {
  const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };
  // Node's subtle and the accelerator's take the same calls; the casts bridge their key types.
  const imp = (s: typeof subtle | Accelerator['subtle'], jwk: Jwk, alg: object, usages: string[]) =>
    (s as typeof subtle).importKey('jwk', jwk, alg as never, false, usages as never);
  return [
    {
      name: 'RSA-2048 sign',
      async make(s) {
        const key = await imp(s, k.rsaJwk, k.rsaAlg, ['sign']);
        return () => (s as typeof subtle).sign(k.rsaAlg, key, message);
      },
    },
    {
      name: 'ECDSA P-256 sign',
      async make(s) {
        const key = await imp(s, k.ecJwk, k.ecAlg, ['sign']);
        return () => (s as typeof subtle).sign(ecdsa, key, message);
      },
    },
    {
      name: 'ECDSA P-256 verify',
      async make(s) {
        const key = await imp(s, k.ecPubJwk, k.ecAlg, ['verify']);
        return async () => {
          if (!(await (s as typeof subtle).verify(ecdsa, key, k.ecSig, message)))
            throw new Error('verify failed');
        };
      },
    },
    {
      name: 'ECDH P-256',
      async make(s) {
        const mine = await imp(s, k.dhAJwk, k.dhAlg, ['deriveBits']);
        const peer = await imp(s, k.dhBPubJwk, k.dhAlg, []);
        return () => (s as typeof subtle).deriveBits({ name: 'ECDH', public: peer }, mine, 256);
      },
    },
  ];
}

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
  const int = (name: keyof Jwk) =>
    BigInt(`0x${Buffer.from(rsaJwk[name] as string, 'base64url').toString('hex')}`);
  const key = new RsaPrivateKeyMaterial(
    int('n'),
    int('e'),
    int('d'),
    int('p'),
    int('q'),
    int('dp'),
    int('dq'),
    int('qi'),
  );
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
  const k = await keys();
  const card = await openAccelerator({ devices: [WINDOW_SPEC], registry });
  const software = await openAccelerator({ devices: ['software'], registry });
  const rows: BenchRow[] = [];
  try {
    for (const c of cases(k)) {
      const node = await c.make(subtle);
      const onCard = await c.make(card.subtle);
      const onSoftware = await c.make(software.subtle);
      for (const concurrency of [1, 16]) {
        const nodeRate = await opsPerSecond(node, concurrency, windowMs);
        const cardRate = await opsPerSecond(onCard, concurrency, windowMs);
        const softwareRate = await opsPerSecond(onSoftware, concurrency, windowMs);
        ctx.log(
          `${c.name} @${concurrency}: node ${nodeRate.toFixed(0)}/s, sim:window ${cardRate.toFixed(0)}/s`,
        );
        rows.push({
          name: c.name,
          concurrency,
          'node subtle ops/s': nodeRate,
          'software ops/s': softwareRate,
          'sim:window ops/s': cardRate,
          'window / node': cardRate / nodeRate,
          'window / software': cardRate / softwareRate,
        });
      }
    }
  } finally {
    await card.close();
    await software.close();
  }
  rows.push(...(await mmioRows(platform, ctx.quick ? 100 : 500)));
  rows.push(...(await perOpRows(registry, k.rsaJwk, windowMs)));
  return rows;
};

export default bench;
