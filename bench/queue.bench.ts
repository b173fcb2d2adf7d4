/**
 * Issue 5: the job queue's benchmarks, each figure beside a baseline measured in
 * the same run (DESIGN rule 4).
 *
 * 1. Framework alone: queue.submit and accel.subtle.sign (ECDSA P-256) at 1, 16
 *    and 256 in flight, on an in-process null device (the floor: no device cost
 *    at all) and on `sim:ring?engine=null`; baseline: the same device driven
 *    straight through its QueuePair (bench/lib/qp-executor.ts), no queue.
 * 2. Feeding a fast card: `sim:ring?engine=timed&rate=300000` (default engine count):
 *    achieved ÷ modeled capacity and ÷ the same card's null-engine ceiling, and
 *    CPU per operation (whole process, and the main thread's event-loop busy time).
 * 3. Mixed: a ring card and a window card (timed engines) plus the software
 *    fallback under a mixed RSA-2048 / ECDSA P-256 load, against the sum of each
 *    device measured alone with the same load.
 * 4. Memory: 10 million null jobs through queue.submit: RSS growth; DMA
 *    allocations per job on sim:ring.
 */

import type { webcrypto } from 'node:crypto';
import { type Accelerator, openAccelerator } from '../core/api/index.js';
import type { Alternative, Device, PrimitiveRequest } from '../core/driver/index.js';
import { GATE_OFF, type IntegrityOptions } from '../core/integrity/options.js';
import { JobQueue } from '../core/queue/index.js';
import { Registry } from '../core/registry/registry.js';
import { ringDriver } from '../drivers/ring/index.js';
import { softwareDriver } from '../drivers/software/index.js';
import { windowDriver } from '../drivers/window/index.js';
import { SimulatorPlatform } from '../simulator/platform.js';
import { nullDevice } from '../test/support/fake-device.js';
import { newEcKey, newRsaKey } from '../test/support/keys.js';

/**
 * The queue's own cost is measured without the integrity gate: the null and timed engines
 * answer fixed values that fail its checks (the gate's cost: bench/integrity.bench.ts).
 */
const NO_GATE = { integrity: { [GATE_OFF]: true } as IntegrityOptions };

import { type Measured, measure, rssGrowth } from './lib/measure.js';
import { QueuePairExecutor } from './lib/qp-executor.js';
import { nullRegistry } from './lib/registries.js';
import type { Bench, BenchContext, BenchRow } from './lib/types.js';

type Jwk = webcrypto.JsonWebKey;

/** The bench's keys (test/support/keys.ts): core material and the private JWK. */
function keys() {
  const ec = newEcKey('P-256');
  return { ec: ec.jwk as Jwk, ecKey: ec.material, rsaKey: newRsaKey(2048).material };
}

function simRegistry(platform: SimulatorPlatform): Registry {
  const registry = new Registry();
  registry.registerPlatform(platform);
  registry.registerDriver(ringDriver);
  registry.registerDriver(windowDriver);
  registry.registerDriver(softwareDriver);
  return registry;
}

/** The P-256 key for `usage`: the private JWK for signing, its public half for verifying. */
function ecdsaKey(accel: Accelerator, jwk: Jwk, usage: 'sign' | 'verify') {
  const { d: _d, ...pub } = jwk;
  const alg = { name: 'ECDSA', namedCurve: 'P-256' } as never;
  return accel.subtle.importKey('jwk', (usage === 'sign' ? jwk : pub) as never, alg, false, [usage]);
}

async function signer(accel: Accelerator, jwk: Jwk) {
  const key = await ecdsaKey(accel, jwk, 'sign');
  const data = new Uint8Array(64);
  return () => accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' } as never, key, data);
}

/**
 * subtle.verify, for sim:ring's null engine: its all-zero "signatures" are (rightly)
 * refused by core/algorithms' range check, while a verify result is just `false`.
 */
async function verifier(accel: Accelerator, jwk: Jwk) {
  const key = await ecdsaKey(accel, jwk, 'verify');
  const data = new Uint8Array(64);
  const signature = new Uint8Array(64).fill(1);
  return () => accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' } as never, key, signature, data);
}

const LEVELS = [1, 16, 256] as const;

/** 1. Framework alone. */
async function framework(ctx: BenchContext, k: ReturnType<typeof keys>, ms: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const request: PrimitiveRequest = { op: 'ecdsa-sign', key: k.ecKey, digest: new Uint8Array(32) };
  const signature = new Uint8Array(64).fill(1);

  // In-process null device: the queue's own cost.
  {
    const direct = new QueuePairExecutor(nullDevice(signature).queuePairs[0]!);
    const queue = new JobQueue(NO_GATE);
    queue.addDevice(nullDevice(signature));
    const accel = await openAccelerator({
      queue: NO_GATE,
      devices: ['null'],
      registry: nullRegistry(() => nullDevice(signature)),
    });
    const sign = await signer(accel, k.ec);
    for (const n of LEVELS) {
      ctx.log(`null device, ${n} in flight`);
      const base = await measure(() => direct.run(request), n, ms);
      const q = await measure(() => queue.submit(request), n, ms);
      const s = await measure(sign, n, ms);
      rows.push(
        row('1 framework: null device, queue.submit', n, q, base),
        row('1 framework: null device, accel.subtle.sign ECDSA P-256', n, s, base),
      );
    }
    await queue.close();
    await accel.close();
  }

  // sim:ring with the null engine: the simulated card's register/ring path plus the queue.
  {
    const platform = new SimulatorPlatform();
    const registry = simRegistry(platform);
    const spec = 'sim:ring?engine=null';
    const baseDevice = await registry.open(spec);
    const direct = new QueuePairExecutor(baseDevice.queuePairs[0]!);
    const accel = await openAccelerator({ devices: [spec], registry, queue: NO_GATE });
    const verify = await verifier(accel, k.ec);
    for (const n of LEVELS) {
      ctx.log(`${spec}, ${n} in flight`);
      const base = await measure(() => direct.run(request), Math.min(n, baseDevice.queuePairs[0]!.depth), ms);
      const q = await measure(() => accel.queue.submit(request), n, ms);
      const v = await measure(verify, n, ms);
      rows.push(
        row(`1 framework: ${spec}, queue.submit`, n, q, base),
        row(`1 framework: ${spec}, accel.subtle.verify ECDSA P-256`, n, v, base),
      );
    }
    await accel.close();
    await baseDevice.close();
  }
  return rows;
}

function row(name: string, inFlight: number, m: Measured, base: Measured): BenchRow {
  return {
    name,
    inFlight,
    'ops/s': m.opsPerSecond,
    'p50 µs': m.p50,
    'p99 µs': m.p99,
    'baseline ops/s (QueuePair direct)': base.opsPerSecond,
    'ratio vs baseline': m.opsPerSecond / base.opsPerSecond,
    'goal ≥1M met':
      inFlight === 256 && name.includes('null device, queue.submit') ? m.opsPerSecond >= 1e6 : null,
  };
}

/**
 * 2. Feeding a fast card. The timed engine keeps service times on the simulator's virtual
 * clock (due times checked against a high-resolution clock, not Node timers), so the card's
 * default 4 engines at rate=300000 (13.3 µs per operation each) mean what they say. The same
 * card with the null engine, at the same load in the same run, is the simulator's own
 * ceiling on this machine.
 */
async function fastCard(ctx: BenchContext, k: ReturnType<typeof keys>, ms: number): Promise<BenchRow[]> {
  const rate = 300_000;
  const spec = `sim:ring?engine=timed&rate=${rate}`;
  const request: PrimitiveRequest = { op: 'ecdsa-sign', key: k.ecKey, digest: new Uint8Array(32) };
  const run = async (deviceSpec: string) => {
    const platform = new SimulatorPlatform();
    const accel = await openAccelerator({
      devices: [deviceSpec],
      registry: simRegistry(platform),
      queue: NO_GATE,
    });
    const slots = accel.queue.snapshot().devices[0]!.queuePairs.reduce((s, q) => s + q.depth, 0);
    ctx.log(`${deviceSpec}, ${slots} in flight`);
    await measure(() => accel.queue.submit(request), slots, Math.min(300, ms));
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const m = await measure(() => accel.queue.submit(request), slots, ms);
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    await accel.close();
    return {
      m,
      slots,
      cpuPerOp: (cpu.user + cpu.system) / m.completed,
      mainPerOp: (elu.active * 1000) / m.completed,
    };
  };
  const timed = await run(spec);
  const ceiling = await run('sim:ring?engine=null');
  return [
    {
      name: `2 fast card: ${spec}`,
      inFlight: timed.slots,
      'ops/s': timed.m.opsPerSecond,
      'modeled ops/s': rate,
      'achieved ÷ modeled': timed.m.opsPerSecond / rate,
      'goal ≥0.95 met': timed.m.opsPerSecond / rate >= 0.95,
      'null-engine ceiling ops/s (same run)': ceiling.m.opsPerSecond,
      'achieved ÷ ceiling': timed.m.opsPerSecond / ceiling.m.opsPerSecond,
      'process CPU µs/op (all threads)': timed.cpuPerOp,
      'main-thread busy µs/op': timed.mainPerOp,
      'p50 µs': timed.m.p50,
      'p99 µs': timed.m.p99,
    },
  ];
}

/** 3. Mixed load over two cards and the software fallback, vs the sum of each alone. */
async function mixed(ctx: BenchContext, k: ReturnType<typeof keys>, ms: number): Promise<BenchRow[]> {
  const specs = ['sim:ring?engine=timed&rate=20000', 'sim:window?engine=timed'];
  const rsa: PrimitiveRequest = { op: 'rsa-private', key: k.rsaKey, input: new Uint8Array(256).fill(7) };
  // ECDSA where the device signs, EC multiplication (the nonce point) where it only multiplies.
  const ec: readonly Alternative[] = [
    { op: 'ecdsa-sign', key: k.ecKey, digest: new Uint8Array(32).fill(3) },
    { op: 'ec-mul', curve: 'P-256', scalar: 12345n },
  ];
  let i = 0;
  const load = (queue: JobQueue) => () => (i++ & 1 ? queue.runFirst(ec) : queue.submit(rsa));
  const platform = new SimulatorPlatform();
  const registry = simRegistry(platform);
  // Each device is offered as many jobs as it has queue-pair slots: the scheduler fills the
  // preferred card first and spills to the next (and to the fallback) only when it is full,
  // so the sum is reachable only by a load that fills them all.
  const slotsOf = (d: Device) => d.queuePairs.reduce((n, qp) => n + qp.depth, 0);
  const alone: number[] = [];
  const cores: number[] = [];
  const coresBusy = (cpu: NodeJS.CpuUsage, seconds: number) => (cpu.user + cpu.system) / 1e6 / seconds;
  let inFlight = 0;
  for (const spec of [...specs, 'software']) {
    const device = await registry.open(spec);
    const slots = slotsOf(device);
    inFlight += slots;
    ctx.log(`mixed load on ${spec} alone, ${slots} in flight`);
    const queue = new JobQueue(NO_GATE);
    queue.addDevice(device);
    const cpu0 = process.cpuUsage();
    const m = await measure(load(queue), slots, ms);
    cores.push(coresBusy(process.cpuUsage(cpu0), m.elapsed));
    alone.push(m.opsPerSecond);
    await queue.close();
    await device.close();
  }
  ctx.log(`mixed load on all three, ${inFlight} in flight`);
  const devices = [
    await registry.open(specs[0]!),
    await registry.open(specs[1]!),
    await registry.open('software'),
  ];
  const queue = new JobQueue(NO_GATE);
  devices.forEach((d, j) => {
    queue.addDevice(d, { fallback: j === 2 });
  });
  const cpu0 = process.cpuUsage();
  const together = await measure(load(queue), inFlight, ms);
  const togetherCores = coresBusy(process.cpuUsage(cpu0), together.elapsed);
  const share = queue
    .snapshot()
    .devices.map((d) => `${d.id.split('?')[0]}:${d.completed}`)
    .join(' ');
  await queue.close();
  for (const d of devices) await d.close();
  const sum = alone.reduce((a, b) => a + b, 0);
  return [
    {
      name: '3 mixed RSA-2048 / ECDSA P-256: ring(timed 20k/s) + window(timed) + software fallback',
      inFlight,
      'ops/s together': together.opsPerSecond,
      'ring alone': alone[0]!,
      'window alone': alone[1]!,
      'software alone': alone[2]!,
      'sum alone': sum,
      'together ÷ sum': together.opsPerSecond / sum,
      // Each device alone had the machine's cores to itself (simulator worker, software workers).
      'CPU cores busy alone (ring/window/software)': cores.map((c) => c.toFixed(2)).join('/'),
      'CPU cores busy together': togetherCores,
      'completed per device': share,
    },
  ];
}

/** 4. Memory: RSS growth over many null jobs, and DMA allocations per job on sim:ring. */
async function memory(ctx: BenchContext, k: ReturnType<typeof keys>, jobs: number): Promise<BenchRow[]> {
  const request: PrimitiveRequest = { op: 'ecdsa-sign', key: k.ecKey, digest: new Uint8Array(32) };
  const queue = new JobQueue(NO_GATE);
  queue.addDevice(nullDevice(new Uint8Array(64)));
  ctx.log(`${jobs.toLocaleString('en-US')} null jobs`);
  const rss = await rssGrowth(() => queue.submit(request), jobs, 256);
  await queue.close();

  // DMA allocations on the ring card while jobs run (after the first, which may set up per-key buffers).
  const platform = new SimulatorPlatform();
  const accel = await openAccelerator({
    devices: ['sim:ring?engine=null'],
    registry: simRegistry(platform),
    queue: NO_GATE,
  });
  const fn = platform.openFunctions[0]!;
  await accel.queue.submit(request);
  let allocations = 0;
  const allocate = fn.dma.allocate.bind(fn.dma);
  fn.dma.allocate = (...args: Parameters<typeof allocate>) => {
    allocations++;
    return allocate(...args);
  };
  const dmaJobs = 2_000;
  await Promise.all(Array.from({ length: dmaJobs }, () => accel.queue.submit(request)));
  await accel.close();
  return [
    {
      name: `4 memory: ${jobs.toLocaleString('en-US')} null jobs through queue.submit (256 in flight)`,
      'ops/s': rss.opsPerSecond,
      'RSS growth MB': rss.growthMb,
      'goal ≤10 MB met': rss.growthMb <= 10,
      'gc between samples': rss.collected,
      'sim:ring DMA allocations per job': allocations / dmaJobs,
    },
  ];
}

const queueBench: Bench = async (ctx) => {
  const ms = ctx.quick ? 300 : 1500;
  const k = keys();
  const rows: BenchRow[] = [];
  rows.push(...(await framework(ctx, k, ms)));
  rows.push(...(await fastCard(ctx, k, ctx.quick ? 500 : 3000)));
  rows.push(...(await mixed(ctx, k, ctx.quick ? 500 : 2000)));
  rows.push(...(await memory(ctx, k, ctx.quick ? 1_000_000 : 10_000_000)));
  return rows;
};

export default queueBench;
