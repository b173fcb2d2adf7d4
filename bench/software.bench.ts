/**
 * Issue 2 §8: the software provider through `accel.subtle` against node's own
 * crypto.subtle (the baseline), in the same process, at 1 and 64 calls in flight.
 * A third column measures the provider alone, straight on its QueuePair (ECDSA
 * requests carrying the message, so OpenSSL signs/verifies it directly), to
 * separate the provider's speed from the layers above it.
 *
 * The machine is shared and noisy, so each row is several short rounds with the
 * three sides interleaved in every round: the ratio is the median of the
 * per-round ratios (with their min–max), and beside ops/s each side's CPU time
 * per operation (process.cpuUsage: every thread of the process, so node's libuv
 * pool and our workers alike), which is much steadier than wall-clock rates.
 */

import { createHash, webcrypto } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import {
  bytesToBigint,
  EcPrivateKeyMaterial,
  OkpPrivateKeyMaterial,
  type PrimitiveRequest,
  RsaPrivateKeyMaterial,
} from '../core/driver/index.js';
import { parseDeviceSpec } from '../core/platform/index.js';
import { softwareDriver } from '../drivers/software/index.js';
import { openAccelerator } from '../index.js';
import { QueuePairExecutor } from './lib/qp-executor.js';
import type { Bench, BenchRow } from './lib/types.js';

const subtle = webcrypto.subtle;
type Key = webcrypto.CryptoKey;
type Jwk = webcrypto.JsonWebKey;
type AccelSubtle = Awaited<ReturnType<typeof openAccelerator>>['subtle'];

const message = new TextEncoder().encode('a 64-byte message for the pkaccel software provider benchmark..');
const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());
const int = (jwk: Jwk, name: keyof Jwk) => bytesToBigint(Buffer.from(jwk[name] as string, 'base64url'));
const bytes = (jwk: Jwk, name: keyof Jwk) => new Uint8Array(Buffer.from(jwk[name] as string, 'base64url'));

function ecMaterial(jwk: Jwk): EcPrivateKeyMaterial {
  return new EcPrivateKeyMaterial('P-256', int(jwk, 'd'), {
    kind: 'ec-public',
    curve: 'P-256',
    x: int(jwk, 'x'),
    y: int(jwk, 'y'),
  });
}

interface Case {
  readonly name: string;
  readonly node: () => Promise<unknown>;
  readonly accel: () => Promise<unknown>;
  readonly queuePair: () => Promise<unknown>;
}

async function importBoth(
  accel: AccelSubtle,
  jwk: Jwk,
  algorithm: webcrypto.Algorithm & object,
  usages: string[],
) {
  return (await accel.importKey(
    'jwk',
    jwk as never,
    algorithm as never,
    false,
    usages as never,
  )) as unknown as Key;
}

async function cases(accel: AccelSubtle, qp: QueuePairExecutor): Promise<Case[]> {
  const run = (request: PrimitiveRequest) => qp.run(request);

  const rsaAlg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const rsa = (await subtle.generateKey(
    { ...rsaAlg, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const rsaJwk = await subtle.exportKey('jwk', rsa.privateKey);
  const rsaPubJwk = await subtle.exportKey('jwk', rsa.publicKey);
  const aRsa = await importBoth(accel, rsaJwk, rsaAlg, ['sign']);
  const aRsaPub = await importBoth(accel, rsaPubJwk, rsaAlg, ['verify']);
  const rsaSig = await subtle.sign(rsaAlg, rsa.privateKey, message);
  const rsaMaterial = new RsaPrivateKeyMaterial(
    int(rsaJwk, 'n'),
    int(rsaJwk, 'e'),
    int(rsaJwk, 'd'),
    int(rsaJwk, 'p'),
    int(rsaJwk, 'q'),
    int(rsaJwk, 'dp'),
    int(rsaJwk, 'dq'),
    int(rsaJwk, 'qi'),
  );
  const pkcs1 = { scheme: 'pkcs1-v1_5', hash: 'SHA-256' } as const;

  const ecAlg = { name: 'ECDSA', namedCurve: 'P-256' };
  const ecSignAlg = { name: 'ECDSA', hash: 'SHA-256' };
  const ec = (await subtle.generateKey(ecAlg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ecJwk = await subtle.exportKey('jwk', ec.privateKey);
  const aEc = await importBoth(accel, ecJwk, ecAlg, ['sign']);
  const aEcPub = await importBoth(accel, await subtle.exportKey('jwk', ec.publicKey), ecAlg, ['verify']);
  const ecSig = new Uint8Array(await subtle.sign(ecSignAlg, ec.privateKey, message));
  const ecMat = ecMaterial(ecJwk);
  const prehashed = { hash: 'SHA-256', data: message } as const;

  const dhAlg = { name: 'ECDH', namedCurve: 'P-256' };
  const dhA = (await subtle.generateKey(dhAlg, true, ['deriveBits'])) as webcrypto.CryptoKeyPair;
  const dhB = (await subtle.generateKey(dhAlg, true, ['deriveBits'])) as webcrypto.CryptoKeyPair;
  const dhAJwk = await subtle.exportKey('jwk', dhA.privateKey);
  const dhBPubJwk = await subtle.exportKey('jwk', dhB.publicKey);
  const aDhA = await importBoth(accel, dhAJwk, dhAlg, ['deriveBits']);
  const aDhB = await importBoth(accel, dhBPubJwk, dhAlg, []);
  const dhMat = ecMaterial(dhAJwk);
  const dhPeer = {
    kind: 'ec-public',
    curve: 'P-256',
    x: int(dhBPubJwk, 'x'),
    y: int(dhBPubJwk, 'y'),
  } as const;

  const ed = (await subtle.generateKey({ name: 'Ed25519' }, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const edJwk = await subtle.exportKey('jwk', ed.privateKey);
  const aEd = await importBoth(accel, edJwk, { name: 'Ed25519' }, ['sign']);
  const edMat = new OkpPrivateKeyMaterial('Ed25519', bytes(edJwk, 'd'), {
    kind: 'okp-public',
    curve: 'Ed25519',
    x: bytes(edJwk, 'x'),
  });

  return [
    {
      name: 'RSA-2048 sign',
      node: () => subtle.sign(rsaAlg, rsa.privateKey, message),
      accel: () => accel.sign(rsaAlg, aRsa as never, message),
      queuePair: () => run({ op: 'rsa-sign', key: rsaMaterial, padding: pkcs1, digest: sha256(message) }),
    },
    {
      name: 'RSA-2048 verify',
      node: () => subtle.verify(rsaAlg, rsa.publicKey, rsaSig, message),
      accel: () => accel.verify(rsaAlg, aRsaPub as never, rsaSig, message),
      queuePair: () =>
        run({
          op: 'rsa-verify',
          key: rsaMaterial.publicKey,
          padding: pkcs1,
          digest: sha256(message),
          signature: new Uint8Array(rsaSig),
        }),
    },
    {
      name: 'ECDSA P-256 sign',
      node: () => subtle.sign(ecSignAlg, ec.privateKey, message),
      accel: () => accel.sign(ecSignAlg, aEc as never, message),
      queuePair: () => run({ op: 'ecdsa-sign', key: ecMat, digest: sha256(message), message: prehashed }),
    },
    {
      name: 'ECDSA P-256 verify',
      node: () => subtle.verify(ecSignAlg, ec.publicKey, ecSig, message),
      accel: () => accel.verify(ecSignAlg, aEcPub as never, ecSig, message),
      queuePair: () =>
        run({
          op: 'ecdsa-verify',
          key: ecMat.publicKey,
          digest: sha256(message),
          signature: ecSig,
          message: prehashed,
        }),
    },
    {
      name: 'ECDH P-256',
      node: () => subtle.deriveBits({ name: 'ECDH', public: dhB.publicKey }, dhA.privateKey, 256),
      accel: () => accel.deriveBits({ name: 'ECDH', public: aDhB } as never, aDhA as never, 256),
      queuePair: () => run({ op: 'ecdh', key: dhMat, peer: dhPeer }),
    },
    {
      name: 'Ed25519 sign',
      node: () => subtle.sign({ name: 'Ed25519' }, ed.privateKey, message),
      accel: () => accel.sign({ name: 'Ed25519' }, aEd as never, message),
      queuePair: () => run({ op: 'eddsa-sign', key: edMat, message }),
    },
  ];
}

interface Sample {
  readonly ops: number;
  readonly cpuUs: number;
}

/** ops/s and CPU µs per op with `concurrency` calls in flight for `ms` (after a short warm-up). */
async function sample(op: () => Promise<unknown>, concurrency: number, ms: number): Promise<Sample> {
  const run = async (windowMs: number): Promise<Sample> => {
    const deadline = performance.now() + windowMs;
    let count = 0;
    const loop = async () => {
      while (performance.now() < deadline) {
        await op();
        count++;
      }
    };
    const cpu = process.cpuUsage();
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, loop));
    const used = process.cpuUsage(cpu);
    return {
      ops: count / ((performance.now() - started) / 1000),
      cpuUs: (used.user + used.system) / Math.max(1, count),
    };
  };
  await run(Math.min(100, ms / 4));
  return run(ms);
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const bench: Bench = async (ctx) => {
  const windowMs = ctx.quick ? 200 : 500;
  const rounds = ctx.quick ? 2 : 5;
  const accel = await openAccelerator({ devices: ['software'] });
  const device = await softwareDriver.open(parseDeviceSpec('software'));
  const rows: BenchRow[] = [];
  ctx.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${availableParallelism()} CPUs`,
  );
  try {
    const qp = new QueuePairExecutor(device.queuePairs[0]!);
    for (const c of await cases(accel.subtle, qp)) {
      for (const concurrency of [1, 64]) {
        // Interleaved in every round, so a burst of load from elsewhere on the machine hits all sides alike.
        const node: Sample[] = [];
        const viaSubtle: Sample[] = [];
        const viaQueuePair: Sample[] = [];
        for (let round = 0; round < rounds; round++) {
          node.push(await sample(c.node, concurrency, windowMs));
          viaSubtle.push(await sample(c.accel, concurrency, windowMs));
          viaQueuePair.push(await sample(c.queuePair, concurrency, windowMs));
        }
        const ratios = viaSubtle.map((s, i) => s.ops / node[i]!.ops);
        const qpRatios = viaQueuePair.map((s, i) => s.ops / node[i]!.ops);
        const ops = (xs: Sample[]) => median(xs.map((x) => x.ops));
        const cpu = (xs: Sample[]) => median(xs.map((x) => x.cpuUs));
        ctx.log(
          `${c.name} @${concurrency}: ratio ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}), CPU µs/op node ${cpu(node).toFixed(0)} accel ${cpu(viaSubtle).toFixed(0)}`,
        );
        rows.push({
          name: c.name,
          concurrency,
          'node subtle ops/s': ops(node),
          'accel.subtle ops/s': ops(viaSubtle),
          ratio: median(ratios),
          'ratio min': Math.min(...ratios),
          'ratio max': Math.max(...ratios),
          'node CPU µs/op': cpu(node),
          'accel CPU µs/op': cpu(viaSubtle),
          'CPU ratio': cpu(node) / cpu(viaSubtle),
          'queue pair ops/s': ops(viaQueuePair),
          'queue pair ratio': median(qpRatios),
        });
      }
    }
  } finally {
    await device.close();
    await accel.close();
  }
  return rows;
};

export default bench;
