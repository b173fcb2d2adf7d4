/**
 * Issue 2 §8: the software provider through `accel.subtle` against node's own
 * crypto.subtle (the baseline), in the same process, at 1 and 64 calls in flight.
 * accel.subtle runs twice: on the software device as `auto` opens it (the
 * worker pool, the calling thread keeping its share of each batch; the `ratio`
 * columns) and with pool=uv (jobs with a node:crypto callback form on libuv's
 * pool; the `pool=uv` columns). A queue-pair column measures the default
 * provider alone, straight on its QueuePair (RSA and ECDSA requests carrying the
 * message, so OpenSSL signs/verifies it directly), to separate the provider's
 * speed from the layers above it.
 *
 * At 64 in flight three more columns say what is possible at all. `ceiling`
 * (bench/lib/ceiling.ts): node:crypto's own synchronous call on every CPU at
 * once with no dispatch, and its ratio to node's subtle: the most any provider
 * built on node:crypto could be ahead of node on this machine. `layers`: the CPU
 * per call of accel.subtle, algorithms and job queue on a null device answering
 * at once (the RSA fault check included). `bound`: the ratio this design would
 * reach if handing work to threads cost nothing (the ceiling's CPU per call plus
 * the layers').
 *
 * The machine is shared and noisy, so each row is several short rounds with the
 * sides interleaved in every round: the ratio is the median of the
 * per-round ratios (with their min–max), and beside ops/s each side's CPU time
 * per operation (process.cpuUsage: every thread of the process, so node's libuv
 * pool and our workers alike), which is much steadier than wall-clock rates.
 */

import { createHash, KeyObject, webcrypto } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { closedLoop } from '../cli/speed/closed-loop.js';
import {
  bytesToBigint,
  EcPrivateKeyMaterial,
  OkpPrivateKeyMaterial,
  type PrimitiveOp,
  type PrimitiveRequest,
  type PrimitiveValue,
} from '../core/driver/index.js';
import { parseDeviceSpec } from '../core/platform/index.js';
import { softwareDriver } from '../drivers/software/index.js';
import { openAccelerator, Registry } from '../index.js';
import { nullDevice } from '../test/support/fake-device.js';
import { benchKeys, rsaMaterialFromJwk } from './lib/card-vs-subtle.js';
import { type CeilingJob, ceilingOpsPerSecond } from './lib/ceiling.js';
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
  /** accel.subtle on the default software device, then on one with pool=uv. */
  readonly accel: readonly [() => Promise<unknown>, () => Promise<unknown>];
  readonly queuePair: () => Promise<unknown>;
  /** The same operation for the ceiling threads (bench/lib/ceiling.ts). */
  readonly ceiling: Omit<CeilingJob, 'start' | 'ms'>;
  /** The same call through accel.subtle on a device answering `value` at once (our layers alone). */
  readonly layers: LayersProbe;
}

interface LayersProbe {
  readonly op: PrimitiveOp;
  /** The device's answer: the right one, so checks above the device (the RSA fault check) pass and run. */
  readonly value: PrimitiveValue;
  readonly keys: readonly (readonly [Jwk, webcrypto.Algorithm & object, string[]])[];
  call(accel: AccelSubtle, keys: readonly Key[]): Promise<unknown>;
}

/** Open an accelerator on a null device for `probe`, with its keys imported. */
async function onNullDevice(probe: LayersProbe) {
  const registry = new Registry();
  registry.registerDriver({
    kind: 'virtual',
    name: 'null',
    scheme: 'null',
    priority: 100,
    // Stands in for the software device (the reference): the integrity gate runs the checks it
    // runs there (RSA results opened with the public key), not a host re-verification.
    role: 'fallback',
    open: async () => nullDevice(probe.value, { ops: [probe.op] }),
  });
  const accel = await openAccelerator({ devices: ['null'], registry });
  const keys = [] as Key[];
  for (const [jwk, algorithm, usages] of probe.keys)
    keys.push(await importInto(accel.subtle, jwk, algorithm, usages));
  return { run: () => probe.call(accel.subtle, keys), close: () => accel.close() };
}

/** A JWK imported non-extractable into an accelerator. */
async function importInto(
  accel: AccelSubtle,
  jwk: Jwk,
  algorithm: webcrypto.Algorithm & object,
  usages: string[],
): Promise<Key> {
  return (await accel.importKey(
    'jwk',
    jwk as never,
    algorithm as never,
    false,
    usages as never,
  )) as unknown as Key;
}

async function importBoth(
  accels: readonly [AccelSubtle, AccelSubtle],
  jwk: Jwk,
  algorithm: webcrypto.Algorithm & object,
  usages: string[],
): Promise<[Key, Key]> {
  return [
    await importInto(accels[0], jwk, algorithm, usages),
    await importInto(accels[1], jwk, algorithm, usages),
  ];
}

/** The same call on both accelerators. */
function both(
  accels: readonly [AccelSubtle, AccelSubtle],
  call: (accel: AccelSubtle, which: 0 | 1) => Promise<unknown>,
): readonly [() => Promise<unknown>, () => Promise<unknown>] {
  return [() => call(accels[0], 0), () => call(accels[1], 1)];
}

/** What a verify row needs: the rest of its case (true from every layer) follows from these. */
interface VerifyCaseSpec {
  readonly name: string;
  readonly op: 'rsa-verify' | 'ecdsa-verify';
  /** The verify call's algorithm (with its hash for ECDSA). */
  readonly algorithm: webcrypto.Algorithm & object;
  /** The algorithm the public key is imported as. */
  readonly keyAlgorithm: webcrypto.Algorithm & object;
  readonly publicJwk: Jwk;
  readonly nodeKey: webcrypto.CryptoKey;
  readonly accelKeys: readonly [Key, Key];
  readonly signature: Uint8Array;
  readonly queuePair: () => Promise<unknown>;
}

/** A verify row: the same public key and signature at every layer, node's and the ceiling's included. */
function verifyCase(accel: readonly [AccelSubtle, AccelSubtle], spec: VerifyCaseSpec): Case {
  const { algorithm, signature } = spec;
  return {
    name: spec.name,
    ceiling: { op: spec.op, message, publicKey: KeyObject.from(spec.nodeKey), signature },
    layers: {
      op: spec.op,
      value: true,
      keys: [[spec.publicJwk, spec.keyAlgorithm, ['verify']]],
      call: (a, [k]) => a.verify(algorithm as never, k as never, signature, message),
    },
    node: () => subtle.verify(algorithm, spec.nodeKey, signature, message),
    accel: both(accel, (a, i) =>
      a.verify(algorithm as never, spec.accelKeys[i] as never, signature, message),
    ),
    queuePair: spec.queuePair,
  };
}

async function cases(accel: readonly [AccelSubtle, AccelSubtle], qp: QueuePairExecutor): Promise<Case[]> {
  const run = (request: PrimitiveRequest) => qp.run(request);

  // The keys the sim and window benches use (JWK), and node's side holding the same keys as CryptoKeys.
  const keys = await benchKeys(message);
  const { rsaAlg, ecAlg, dhAlg, rsaJwk, ecJwk, ecPubJwk, dhAJwk, dhBPubJwk } = keys;
  const rsaPubJwk: Jwk = { kty: 'RSA', n: rsaJwk.n, e: rsaJwk.e };
  const nodeKey = (jwk: Jwk, algorithm: webcrypto.Algorithm & object, usages: webcrypto.KeyUsage[]) =>
    subtle.importKey('jwk', jwk, algorithm, true, usages);
  const rsa = {
    privateKey: await nodeKey(rsaJwk, rsaAlg, ['sign']),
    publicKey: await nodeKey(rsaPubJwk, rsaAlg, ['verify']),
  };
  const ec = {
    privateKey: await nodeKey(ecJwk, ecAlg, ['sign']),
    publicKey: await nodeKey(ecPubJwk, ecAlg, ['verify']),
  };
  const dhA = { privateKey: await nodeKey(dhAJwk, dhAlg, ['deriveBits']) };
  const dhB = { publicKey: await nodeKey(dhBPubJwk, dhAlg, []) };

  const aRsa = await importBoth(accel, rsaJwk, rsaAlg, ['sign']);
  const aRsaPub = await importBoth(accel, rsaPubJwk, rsaAlg, ['verify']);
  const rsaSig = await subtle.sign(rsaAlg, rsa.privateKey, message);
  const rsaMaterial = rsaMaterialFromJwk(rsaJwk);
  const pkcs1 = { scheme: 'pkcs1-v1_5', hash: 'SHA-256' } as const;
  const prehashed = { hash: 'SHA-256', data: message } as const;

  const ecSignAlg = { name: 'ECDSA', hash: 'SHA-256' };
  const aEc = await importBoth(accel, ecJwk, ecAlg, ['sign']);
  const aEcPub = await importBoth(accel, ecPubJwk, ecAlg, ['verify']);
  const ecSig = new Uint8Array(keys.ecSig);
  const ecMat = ecMaterial(ecJwk);

  const aDhA = await importBoth(accel, dhAJwk, dhAlg, ['deriveBits']);
  const aDhB = await importBoth(accel, dhBPubJwk, dhAlg, []);
  const dhMat = ecMaterial(dhAJwk);
  const dhSecret = new Uint8Array(
    await subtle.deriveBits({ name: 'ECDH', public: dhB.publicKey }, dhA.privateKey, 256),
  );
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
      ceiling: { op: 'rsa-sign', message, privateKey: KeyObject.from(rsa.privateKey) },
      layers: {
        op: 'rsa-sign',
        value: new Uint8Array(rsaSig),
        keys: [[rsaJwk, rsaAlg, ['sign']]],
        call: (a, [k]) => a.sign(rsaAlg, k as never, message),
      },
      node: () => subtle.sign(rsaAlg, rsa.privateKey, message),
      accel: both(accel, (a, i) => a.sign(rsaAlg, aRsa[i] as never, message)),
      queuePair: () =>
        run({
          op: 'rsa-sign',
          key: rsaMaterial,
          padding: pkcs1,
          digest: sha256(message),
          message: prehashed,
        }),
    },
    verifyCase(accel, {
      name: 'RSA-2048 verify',
      op: 'rsa-verify',
      algorithm: rsaAlg,
      keyAlgorithm: rsaAlg,
      publicJwk: rsaPubJwk,
      nodeKey: rsa.publicKey,
      accelKeys: aRsaPub,
      signature: new Uint8Array(rsaSig),
      queuePair: () =>
        run({
          op: 'rsa-verify',
          key: rsaMaterial.publicKey,
          padding: pkcs1,
          digest: sha256(message),
          signature: new Uint8Array(rsaSig),
          message: prehashed,
        }),
    }),
    {
      name: 'ECDSA P-256 sign',
      ceiling: { op: 'ecdsa-sign', message, privateKey: KeyObject.from(ec.privateKey) },
      layers: {
        op: 'ecdsa-sign',
        value: ecSig,
        keys: [[ecJwk, ecAlg, ['sign']]],
        call: (a, [k]) => a.sign(ecSignAlg, k as never, message),
      },
      node: () => subtle.sign(ecSignAlg, ec.privateKey, message),
      accel: both(accel, (a, i) => a.sign(ecSignAlg, aEc[i] as never, message)),
      queuePair: () => run({ op: 'ecdsa-sign', key: ecMat, digest: sha256(message), message: prehashed }),
    },
    verifyCase(accel, {
      name: 'ECDSA P-256 verify',
      op: 'ecdsa-verify',
      algorithm: ecSignAlg,
      keyAlgorithm: ecAlg,
      publicJwk: ecPubJwk,
      nodeKey: ec.publicKey,
      accelKeys: aEcPub,
      signature: ecSig,
      queuePair: () =>
        run({
          op: 'ecdsa-verify',
          key: ecMat.publicKey,
          digest: sha256(message),
          signature: ecSig,
          message: prehashed,
        }),
    }),
    {
      name: 'ECDH P-256',
      ceiling: {
        op: 'ecdh',
        message,
        privateKey: KeyObject.from(dhA.privateKey),
        publicKey: KeyObject.from(dhB.publicKey),
      },
      layers: {
        op: 'ecdh',
        value: dhSecret,
        keys: [
          [dhAJwk, dhAlg, ['deriveBits']],
          [dhBPubJwk, dhAlg, []],
        ],
        call: (a, [mine, peer]) => a.deriveBits({ name: 'ECDH', public: peer } as never, mine as never, 256),
      },
      node: () => subtle.deriveBits({ name: 'ECDH', public: dhB.publicKey }, dhA.privateKey, 256),
      accel: both(accel, (a, i) =>
        a.deriveBits({ name: 'ECDH', public: aDhB[i] } as never, aDhA[i] as never, 256),
      ),
      queuePair: () => run({ op: 'ecdh', key: dhMat, peer: dhPeer }),
    },
    {
      name: 'Ed25519 sign',
      ceiling: { op: 'eddsa-sign', message, privateKey: KeyObject.from(ed.privateKey) },
      layers: {
        op: 'eddsa-sign',
        value: new Uint8Array(await subtle.sign({ name: 'Ed25519' }, ed.privateKey, message)),
        keys: [[edJwk, { name: 'Ed25519' }, ['sign']]],
        call: (a, [k]) => a.sign({ name: 'Ed25519' }, k as never, message),
      },
      node: () => subtle.sign({ name: 'Ed25519' }, ed.privateKey, message),
      accel: both(accel, (a, i) => a.sign({ name: 'Ed25519' }, aEd[i] as never, message)),
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
    const cpu = process.cpuUsage();
    const loop = await closedLoop(op, { concurrency, ms: windowMs, timeEvery: 8, onLatency: () => {} });
    const used = process.cpuUsage(cpu);
    if (loop.firstError !== undefined) throw loop.firstError.error;
    return {
      ops: loop.completed / ((loop.finished - loop.started) / 1000),
      cpuUs: (used.user + used.system) / Math.max(1, loop.completed),
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
  const accelDefault = await openAccelerator({ devices: ['software'] });
  const accelUv = await openAccelerator({ devices: ['software?pool=uv'] });
  const device = await softwareDriver.open(parseDeviceSpec('software'));
  const rows: BenchRow[] = [];
  ctx.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${availableParallelism()} CPUs`,
  );
  try {
    const qp = new QueuePairExecutor(device.queuePairs[0]!);
    for (const c of await cases([accelDefault.subtle, accelUv.subtle], qp)) {
      const onNull = await onNullDevice(c.layers);
      for (const concurrency of [1, 64]) {
        // Interleaved in every round, so a burst of load from elsewhere on the machine hits all sides alike.
        const node: Sample[] = [];
        const viaDefault: Sample[] = [];
        const viaUv: Sample[] = [];
        const viaQueuePair: Sample[] = [];
        const ceiling: number[] = [];
        const layers: Sample[] = [];
        for (let round = 0; round < rounds; round++) {
          node.push(await sample(c.node, concurrency, windowMs));
          viaDefault.push(await sample(c.accel[0], concurrency, windowMs));
          viaUv.push(await sample(c.accel[1], concurrency, windowMs));
          viaQueuePair.push(await sample(c.queuePair, concurrency, windowMs));
          // The ceiling has no concurrency of its own: it answers the @64 question (how far ahead is possible).
          if (concurrency > 1) {
            ceiling.push(await ceilingOpsPerSecond({ ...c.ceiling, ms: windowMs }));
            layers.push(await sample(onNull.run, concurrency, windowMs));
          }
        }
        const ratios = viaDefault.map((s, i) => s.ops / node[i]!.ops);
        const uvRatios = viaUv.map((s, i) => s.ops / node[i]!.ops);
        const qpRatios = viaQueuePair.map((s, i) => s.ops / node[i]!.ops);
        const ceilingRatios = ceiling.map((rate, i) => rate / node[i]!.ops);
        const ops = (xs: Sample[]) => median(xs.map((x) => x.ops));
        const cpu = (xs: Sample[]) => median(xs.map((x) => x.cpuUs));
        // What this design could reach if handing work to threads cost nothing: the bare call's CPU plus our layers'.
        // Per round, like the other ratios, so that it compares with the ceiling ratio of the same rounds.
        const cores = availableParallelism();
        const ceilingCpu = (cores * 1e6) / median(ceiling);
        const boundRatio = median(
          ceiling.map((rate, i) => (cores * 1e6) / ((cores * 1e6) / rate + layers[i]!.cpuUs) / node[i]!.ops),
        );
        const ceilingNote =
          ceiling.length === 0
            ? ''
            : `; ceiling ${median(ceilingRatios).toFixed(2)}× node, layers ${cpu(layers).toFixed(1)} µs/op, bound ${boundRatio.toFixed(2)}× node`;
        ctx.log(
          `${c.name} @${concurrency}: ratio ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}), pool=uv ${median(uvRatios).toFixed(2)}; CPU µs/op node ${cpu(node).toFixed(0)} accel ${cpu(viaDefault).toFixed(0)} pool=uv ${cpu(viaUv).toFixed(0)}${ceilingNote}`,
        );
        if (concurrency === 64) await onNull.close();
        rows.push({
          name: c.name,
          concurrency,
          'node subtle ops/s': ops(node),
          'accel.subtle ops/s': ops(viaDefault),
          ratio: median(ratios),
          'ratio min': Math.min(...ratios),
          'ratio max': Math.max(...ratios),
          'node CPU µs/op': cpu(node),
          'accel CPU µs/op': cpu(viaDefault),
          'CPU ratio': cpu(node) / cpu(viaDefault),
          'pool=uv ops/s': ops(viaUv),
          'pool=uv ratio': median(uvRatios),
          'pool=uv CPU µs/op': cpu(viaUv),
          'queue pair ops/s': ops(viaQueuePair),
          'queue pair ratio': median(qpRatios),
          'ceiling ops/s': ceiling.length === 0 ? null : median(ceiling),
          'ceiling ratio': ceiling.length === 0 ? null : median(ceilingRatios),
          // Every CPU busy for the whole window: CPU time per call with no dispatch, to set against the columns above.
          'ceiling CPU µs/op': ceiling.length === 0 ? null : ceilingCpu,
          'layers CPU µs/op': layers.length === 0 ? null : cpu(layers),
          'bound ratio': ceiling.length === 0 ? null : boundRatio,
        });
      }
    }
  } finally {
    await device.close();
    await accelDefault.close();
    await accelUv.close();
  }
  return rows;
};

export default bench;
