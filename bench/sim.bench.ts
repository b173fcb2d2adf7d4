/**
 * Issue 4 §5, ring card rows: RSA-2048 sign, ECDSA P-256 sign and verify and
 * ECDH P-256 through `accel.subtle` on `sim:ring` (real engine, model on its
 * worker thread), beside the software device and node's crypto.subtle (the
 * baseline) in the same run. Then the framework alone: the same raw RSA-2048
 * CRT request straight on one queue pair with a `null` engine (completes at
 * once: driver, rings, doorbells, interrupts, worker hand-off) against the real
 * engine, at 1 and 64 in flight.
 */

import { webcrypto } from 'node:crypto';
import { type Accelerator, openAccelerator } from '../core/api/index.js';
import { bigintToBytes, type PrimitiveRequest, RsaPrivateKeyMaterial } from '../core/driver/index.js';
import { Registry } from '../core/registry/registry.js';
import { ringDriver } from '../drivers/ring/index.js';
import { softwareDriver } from '../drivers/software/index.js';
import { SimulatorPlatform } from '../simulator/platform.js';
import { opsPerSecond } from './lib/measure.js';
import { QueuePairExecutor } from './lib/qp-executor.js';
import type { Bench, BenchRow } from './lib/types.js';

const subtle = webcrypto.subtle;
type Key = webcrypto.CryptoKey;
type Jwk = webcrypto.JsonWebKey;
type AnySubtle = typeof subtle | Accelerator['subtle'];

const RING_SPEC = 'sim:ring';
const message = new TextEncoder().encode('a 64-byte message for the pkaccel ring card benchmark..........');

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

type Keys = Awaited<ReturnType<typeof keys>>;

interface Case {
  readonly name: string;
  make(s: AnySubtle): Promise<() => Promise<unknown>>;
}

function cases(k: Keys): Case[] {
  const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };
  // Node's subtle and the accelerator's take the same calls; the casts bridge their key types.
  const imp = (s: AnySubtle, jwk: Jwk, alg: object, usages: string[]) =>
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

function rsaMaterial(jwk: Jwk): RsaPrivateKeyMaterial {
  const int = (name: keyof Jwk) =>
    BigInt(`0x${Buffer.from(jwk[name] as string, 'base64url').toString('hex')}`);
  return new RsaPrivateKeyMaterial(
    int('n'),
    int('e'),
    int('d'),
    int('p'),
    int('q'),
    int('dp'),
    int('dq'),
    int('qi'),
  );
}

/** Raw RSA-2048 CRT straight on queue pair 0: null engine (framework alone) against the real engine. */
async function framework(registry: Registry, rsaJwk: Jwk, ms: number): Promise<BenchRow[]> {
  const request: PrimitiveRequest = {
    op: 'rsa-private',
    key: rsaMaterial(rsaJwk),
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
  const k = await keys();
  const card = await openAccelerator({ devices: [RING_SPEC], registry });
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
          `${c.name} @${concurrency}: node ${nodeRate.toFixed(0)}/s, sim:ring ${cardRate.toFixed(0)}/s`,
        );
        rows.push({
          name: c.name,
          concurrency,
          'node subtle ops/s': nodeRate,
          'software ops/s': softwareRate,
          'sim:ring ops/s': cardRate,
          'ring / node': cardRate / nodeRate,
          'ring / software': cardRate / softwareRate,
        });
      }
    }
  } finally {
    await card.close();
    await software.close();
  }
  rows.push(...(await framework(registry, k.rsaJwk, windowMs)));
  return rows;
};

export default bench;
