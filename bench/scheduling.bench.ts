/**
 * Issue 14, scheduling by expected completion time: each goal as a ratio measured
 * in this run (`npm run bench -- scheduling`).
 *
 * 1. Mixed load at saturation (RSA-2048 private / ECDSA P-256 alternatives) on
 *    ring (timed 20k/s) + window (timed) + software: together ÷ the sum of each
 *    alone (goal ≥ 0.95), and each device's share of the work ÷ its share of the
 *    summed capacity (goal within 10%).
 * 2. Two ring cards (`sim:ring?engine=timed&rate=50000&seed=1`, `…&seed=2`) ÷ one,
 *    through subtle.verify ECDSA P-256 (goal ≥ 1.9).
 * 3. A ring card beside a window card of the same modeled rate ÷ the ring card
 *    alone, through queue.submit rsa-public (goal ≥ 1.8). The window card's
 *    timed engine still does its arithmetic (simulator/models/window/timing.ts):
 *    rsa-public (e = 65537) keeps that far below the modeled service time.
 * 4. Latency at half of the total capacity of 3's pair (open-loop arrivals): p99
 *    ÷ the best single device's p99 at the same per-device load (goal ≤ 1).
 *
 * The integrity gate is off: the timed ring engine answers fixed values, which
 * the gate refuses (its cost is bench/integrity.bench.ts).
 */

import { generateKeyPairSync, type webcrypto } from 'node:crypto';
import { openAccelerator } from '../core/api/index.js';
import {
  type Alternative,
  bytesToBigint,
  type Device,
  EcPrivateKeyMaterial,
  type PrimitiveRequest,
  RsaPrivateKeyMaterial,
} from '../core/driver/index.js';
import { GATE_OFF, type IntegrityOptions } from '../core/integrity/options.js';
import { LatencyHistogram } from '../core/queue/histogram.js';
import { JobQueue } from '../core/queue/index.js';
import { Registry } from '../core/registry/registry.js';
import { ringDriver } from '../drivers/ring/index.js';
import { softwareDriver } from '../drivers/software/index.js';
import { windowDriver } from '../drivers/window/index.js';
import { SimulatorPlatform } from '../simulator/platform.js';
import type { Bench, BenchContext, BenchRow } from './lib/types.js';

/**
 * Also a fixed stall limit: stall detection learned at low load may take a device with
 * a thousand jobs queued for a stalled one (and the bench measures scheduling, not that).
 */
const NO_GATE = { integrity: { [GATE_OFF]: true } as IntegrityOptions, stallTimeoutMs: 30_000 };

type Jwk = webcrypto.JsonWebKey;
const int = (jwk: Jwk, name: keyof Jwk) => bytesToBigint(Buffer.from(jwk[name] as string, 'base64url'));

function keys() {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Jwk;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Jwk;
  const ecKey = new EcPrivateKeyMaterial('P-256', int(ec, 'd'), {
    kind: 'ec-public',
    curve: 'P-256',
    x: int(ec, 'x'),
    y: int(ec, 'y'),
  });
  const rsaKey = new RsaPrivateKeyMaterial(
    int(rsa, 'n'),
    int(rsa, 'e'),
    int(rsa, 'd'),
    int(rsa, 'p'),
    int(rsa, 'q'),
    int(rsa, 'dp'),
    int(rsa, 'dq'),
    int(rsa, 'qi'),
  );
  return { ec, ecKey, rsaKey };
}

function simRegistry(platform: SimulatorPlatform): Registry {
  const registry = new Registry();
  registry.registerPlatform(platform);
  registry.registerDriver(ringDriver);
  registry.registerDriver(windowDriver);
  registry.registerDriver(softwareDriver);
  return registry;
}

/** `concurrency` loops of `op` for `ms` (after `warmMs` of warm-up): completions per second inside the window. */
async function closedLoop(
  op: () => Promise<unknown>,
  concurrency: number,
  ms: number,
  warmMs = 300,
): Promise<number> {
  let ops = 0;
  let stop = false;
  let counting = false;
  let t0 = 0;
  setTimeout(() => {
    counting = true;
    ops = 0;
    t0 = performance.now();
    setTimeout(() => {
      stop = true;
    }, ms);
  }, warmMs);
  let opsAtStop = 0;
  let stoppedAt = 0;
  const loop = async (): Promise<void> => {
    while (!stop) {
      await op();
      ops++;
    }
    if (stoppedAt === 0) {
      stoppedAt = performance.now();
      opsAtStop = ops;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  void counting;
  return opsAtStop / ((stoppedAt - t0) / 1000);
}

/** Open loop: `rate` jobs per second for `ms`, each timed from submission; p50/p99 in ms. */
async function openLoop(
  op: () => Promise<unknown>,
  rate: number,
  ms: number,
): Promise<{ p50: number; p99: number; done: number }> {
  const hist = new LatencyHistogram();
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  let done = 0;
  while (performance.now() - start < ms) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      const t = performance.now();
      pending.push(
        op().then(() => {
          hist.record(performance.now() - t);
          done++;
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const s = hist.percentiles();
  return { p50: s.p50, p99: s.p99, done };
}

const slotsOf = (d: Device) => d.queuePairs.reduce((n, qp) => n + qp.depth, 0);

/** 1. Mixed load on ring + window + software. */
async function mixed(ctx: BenchContext, k: ReturnType<typeof keys>, ms: number): Promise<BenchRow[]> {
  const specs = ['sim:ring?engine=timed&rate=20000', 'sim:window?engine=timed', 'software'];
  const rsa: PrimitiveRequest = { op: 'rsa-private', key: k.rsaKey, input: new Uint8Array(256).fill(7) };
  const ec: readonly Alternative[] = [
    { op: 'ecdsa-sign', key: k.ecKey, digest: new Uint8Array(32).fill(3) },
    { op: 'ec-mul', curve: 'P-256', scalar: 12345n },
  ];
  let i = 0;
  const load = (queue: JobQueue) => () => (i++ & 1 ? queue.runFirst(ec) : queue.submit(rsa));
  const registry = simRegistry(new SimulatorPlatform());
  const alone: number[] = [];
  let inFlight = 0;
  for (const spec of specs) {
    const device = await registry.open(spec);
    const slots = slotsOf(device);
    inFlight += slots;
    ctx.log(`mixed load on ${spec} alone, ${slots} in flight`);
    const queue = new JobQueue(NO_GATE);
    queue.addDevice(device);
    alone.push(await closedLoop(load(queue), slots, ms));
    await queue.close();
    await device.close();
  }
  ctx.log(`mixed load on all three, ${inFlight} in flight`);
  const devices = await Promise.all(specs.map((s) => registry.open(s)));
  const queue = new JobQueue(NO_GATE);
  devices.forEach((d, j) => {
    queue.addDevice(d, { fallback: j === 2 });
  });
  const before = queue.snapshot().devices.map((d) => d.completed);
  const together = await closedLoop(load(queue), inFlight, ms);
  const completed = queue.snapshot().devices.map((d, j) => d.completed - before[j]!);
  await queue.close();
  for (const d of devices) await d.close();
  const sum = alone.reduce((a, b) => a + b, 0);
  const total = completed.reduce((a, b) => a + b, 0);
  const shareRatio = completed.map((c, j) => c / total / (alone[j]! / sum));
  const worst = Math.max(...shareRatio.map((r) => Math.abs(r - 1)));
  return [
    {
      name: '1 mixed RSA-2048 / ECDSA P-256 at saturation: ring(timed 20k/s) + window(timed) + software',
      inFlight,
      'ops/s together': together,
      'alone ring/window/software': alone.map((a) => a.toFixed(0)).join('/'),
      'together ÷ sum': together / sum,
      'goal ≥0.95 met': together / sum >= 0.95,
      'share ÷ capacity share ring/window/software': shareRatio.map((r) => r.toFixed(2)).join('/'),
      'share goal within 10% met': worst <= 0.1,
    },
  ];
}

async function verifierOn(devices: string[]) {
  const accel = await openAccelerator({
    devices,
    registry: simRegistry(new SimulatorPlatform()),
    queue: NO_GATE,
  });
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const key = await accel.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'verify',
  ]);
  const data = new Uint8Array(64);
  const signature = new Uint8Array(64).fill(1);
  const op = () => accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, data);
  return { accel, op };
}

/** 2. Two ring cards ÷ one, through subtle.verify. */
async function twoRings(ctx: BenchContext, ms: number): Promise<BenchRow[]> {
  const spec = 'sim:ring?engine=timed&rate=50000';
  const rounds = ctx.quick ? 1 : 2;
  let one = 0;
  let two = 0;
  // Interleaved rounds: the machine is shared.
  for (let r = 0; r < rounds; r++) {
    ctx.log(`subtle.verify on one ring card (round ${r + 1})`);
    const a = await verifierOn([`${spec}&seed=1`]);
    one += await closedLoop(a.op, 512, ms);
    await a.accel.close();
    ctx.log(`subtle.verify on two ring cards (round ${r + 1})`);
    const b = await verifierOn([`${spec}&seed=1`, `${spec}&seed=2`]);
    two += await closedLoop(b.op, 1024, ms);
    const share = b.accel.queue
      .snapshot()
      .devices.map((d) => d.completed)
      .join('/');
    ctx.log(`  completed per card ${share}`);
    await b.accel.close();
  }
  return [
    {
      name: '2 subtle.verify ECDSA P-256: two ring cards (timed 50k/s, seeds 1, 2) ÷ one',
      'one card ops/s': one / rounds,
      'two cards ops/s': two / rounds,
      ratio: two / one,
      'goal ≥1.9 met': two / one >= 1.9,
    },
  ];
}

/** 3 and 4. A ring card beside a window card of the same modeled rate. */
async function ringAndWindow(ctx: BenchContext, ms: number): Promise<BenchRow[]> {
  const rate = 2000;
  const ring = `sim:ring?engine=timed&rate=${rate}`;
  const window = `sim:window?engine=timed&rate=${rate}`;
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as Jwk;
  const request: PrimitiveRequest = {
    op: 'rsa-public',
    key: { kind: 'rsa-public', n: int(jwk, 'n'), e: int(jwk, 'e'), bits: 2048 },
    input: new Uint8Array(256).fill(9),
  };
  const open = async (devices: string[]) => {
    const accel = await openAccelerator({
      devices,
      registry: simRegistry(new SimulatorPlatform()),
      queue: NO_GATE,
    });
    return { accel, op: () => accel.queue.submit(request) };
  };
  const rows: BenchRow[] = [];
  ctx.log('rsa-public on the ring card alone');
  const a = await open([ring]);
  const ringAlone = await closedLoop(a.op, 128, ms);
  ctx.log('rsa-public on the window card alone');
  const w = await open([window]);
  const windowAlone = await closedLoop(w.op, 128, ms);
  ctx.log('rsa-public on both');
  const b = await open([ring, window]);
  const both = await closedLoop(b.op, 256, ms);
  const share = b.accel.queue
    .snapshot()
    .devices.map((d) => d.completed)
    .join('/');
  rows.push({
    name: `3 rsa-public: ring + window card (timed ${rate}/s each) ÷ ring alone`,
    'ring alone ops/s': ringAlone,
    'window alone ops/s': windowAlone,
    'both ops/s': both,
    ratio: both / ringAlone,
    'goal ≥1.8 met': both / ringAlone >= 1.8,
    // The window card's timed engine still does the arithmetic on its model thread: alone it
    // may fall short of its modeled rate (a loaded machine), which bounds the pair's ratio.
    'both ÷ (ring alone + window alone)': both / (ringAlone + windowAlone),
    'completed ring/window': share,
  });
  // 4. Latency at half capacity: the pair at half of (ring + window), each alone at half of its own.
  const half = (ringAlone + windowAlone) / 2;
  ctx.log(`open loop: both at ${half.toFixed(0)}/s, each alone at half its capacity`);
  const ringHalf = await openLoop(a.op, ringAlone / 2, ms);
  const windowHalf = await openLoop(w.op, windowAlone / 2, ms);
  const bothHalf = await openLoop(b.op, half, ms);
  const best = Math.min(ringHalf.p99, windowHalf.p99);
  rows.push({
    name: '4 latency at half capacity: ring + window vs each alone at the same per-device load',
    'offered ops/s (pair)': half,
    'pair p50 ms': bothHalf.p50,
    'pair p99 ms': bothHalf.p99,
    'ring alone p99 ms': ringHalf.p99,
    'window alone p99 ms': windowHalf.p99,
    'p99 ÷ best single p99': bothHalf.p99 / best,
    'goal ≤1 met': bothHalf.p99 <= best,
  });
  await a.accel.close();
  await w.accel.close();
  await b.accel.close();
  return rows;
}

const schedulingBench: Bench = async (ctx) => {
  const ms = ctx.quick ? 500 : 2000;
  const k = keys();
  const rows: BenchRow[] = [];
  rows.push(...(await mixed(ctx, k, ms)));
  rows.push(...(await twoRings(ctx, ms)));
  rows.push(...(await ringAndWindow(ctx, ms)));
  return rows;
};

export default schedulingBench;
