/**
 * Issue 14, scheduling by expected completion time: each goal as a ratio measured
 * in this run (`npm run bench -- scheduling`), with the load average beside it.
 *
 * 1. Mixed load at saturation: RSA-2048 private and ECDSA P-256 (sign, or the
 *    EC multiplication a window card does instead: runFirst) on a ring card, a
 *    window card and the software device. Together ÷ the sum of each alone (goal
 *    ≥ 0.95), and each device's share of the work ÷ its share of the summed
 *    capacity (goal within 10%). One row per load: mixed, RSA-2048 only, P-256 only.
 *    The devices are chosen so that their capacities are independent of each other
 *    on a 2-CPU machine: the ring card's and window card's engines are timed
 *    (modeled service time, little host CPU), the software device gets one worker
 *    thread and no inline work. With every device on the same two CPUs (the
 *    defaults: the software device computes on every CPU and on the calling
 *    thread, the window card's model does the arithmetic), "the sum of each alone"
 *    counts the CPUs more than once and no scheduler reaches it; row 1d shows that
 *    case for reference. The baseline "each on its own queue, concurrently" runs the
 *    three at once on separate queues (the ideal partition, on the same CPUs). In the
 *    mixed row a device may take more of the class it is relatively fast at (the
 *    software device signs P-256 ~10× faster than it does RSA-2048), so its share of
 *    jobs may differ from its share measured with the 50/50 mix; rows 1b and 1c (one
 *    class each) test the shares.
 * 2. Two ring cards (`sim:ring?engine=timed&rate=50000&seed=1`, `…&seed=2`) ÷ one,
 *    through subtle.verify ECDSA P-256 (goal ≥ 1.9), interleaved rounds. The same
 *    at a modeled rate the host path can feed twice over on a loaded machine (row
 *    2b, 1k/s per card): at 50k/s per card the host path of `subtle` (the other
 *    half of issue 14) is the limit, and the row says how far one card gets.
 * 3. A ring card beside a window card of the same modeled rate ÷ the ring card
 *    alone, through queue.submit rsa-public (goal ≥ 1.8). Both have 16 engines (the
 *    same service time per job, 80 ms at 200/s). The window card has no queue: each
 *    engine idles for a host round trip after each completion, so the rate is chosen
 *    for a service time well above that trip on a loaded machine.
 * 4. Latency at half of 3's total capacity (open-loop arrivals): p99 ÷ the best
 *    single device's p99 at the same per-device load (goal ≤ 1).
 *
 * The integrity gate is off: the timed ring engine answers fixed values, which the
 * gate refuses (its cost is bench/integrity.bench.ts). The stall limit is fixed:
 * stall detection is not what is measured here.
 */

import { loadavg } from 'node:os';
import type { Alternative, PrimitiveRequest } from '../core/driver/index.js';
import { GATE_OFF, type IntegrityOptions } from '../core/integrity/options.js';
import { LatencyHistogram } from '../core/queue/histogram.js';
import { JobQueue } from '../core/queue/index.js';
import { defaultRegistry, openAccelerator } from '../index.js';
import { newEcKey, newRsaKey } from '../test/support/keys.js';
import type { Bench, BenchContext, BenchRow } from './lib/types.js';

const QUEUE = { integrity: { [GATE_OFF]: true } as IntegrityOptions, stallTimeoutMs: 30_000 };

const load1 = () => loadavg()[0]!.toFixed(2);

const open = (devices: readonly string[]) => openAccelerator({ devices: [...devices], queue: QUEUE });

/** What `snapshot()` gives: the accelerator's queue or a bare JobQueue. */
interface Snapshots {
  snapshot(): {
    readonly devices: readonly {
      readonly completed: number;
      readonly queuePairs: readonly { readonly depth: number }[];
    }[];
  };
}

const slotsOf = (queue: Snapshots) =>
  queue.snapshot().devices.reduce((n, d) => n + d.queuePairs.reduce((m, qp) => m + qp.depth, 0), 0);

const completedPerDevice = (queue: Snapshots) => queue.snapshot().devices.map((d) => d.completed);

/** A job queue over the devices `specs` opens (the software device as the fallback, as openAccelerator adds it). */
async function queueOn(specs: readonly string[]) {
  const devices = await Promise.all(specs.map((s) => defaultRegistry.open(s)));
  const queue = new JobQueue(QUEUE);
  for (const device of devices)
    queue.addDevice(device, { fallback: defaultRegistry.isFallbackDevice(device) && devices.length > 1 });
  const close = async () => {
    await queue.close();
    await Promise.all(devices.map((d) => d.close()));
  };
  return { queue, close };
}

/** `concurrency` loops of `op` for `ms` after `warmMs` of warm-up: completions per second inside the window. */
async function closedLoop(op: () => Promise<unknown>, concurrency: number, ms: number, warmMs = 500) {
  return (await counted(op, concurrency, ms, warmMs)).rate;
}

/** closedLoop, with the jobs each device of `queue` completed inside the window. */
async function counted(
  op: () => Promise<unknown>,
  concurrency: number,
  ms: number,
  warmMs = 500,
  queue?: Snapshots,
): Promise<{ rate: number; done: number[] }> {
  let done: number[] = [];
  const mark = (phase: 'start' | 'end') => {
    if (queue === undefined) return;
    const now = completedPerDevice(queue);
    done = phase === 'start' ? now : now.map((c, i) => c - done[i]!);
  };
  let ops = 0;
  let stop = false;
  let t0 = 0;
  let t1 = 0;
  let inWindow = 0;
  const timer = setTimeout(() => {
    ops = 0;
    mark('start');
    t0 = performance.now();
    setTimeout(() => {
      inWindow = ops;
      mark('end');
      t1 = performance.now();
      stop = true;
    }, ms);
  }, warmMs);
  const loop = async (): Promise<void> => {
    while (!stop) {
      await op();
      ops++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  clearTimeout(timer);
  return { rate: inWindow / ((t1 - t0) / 1000), done };
}

/** Open loop: `rate` jobs per second for `ms`, each timed from submission; p50/p99 in ms. */
async function openLoop(op: () => Promise<unknown>, rate: number, ms: number) {
  const hist = new LatencyHistogram();
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < ms) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      const t = performance.now();
      pending.push(op().then(() => hist.record(performance.now() - t)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  return hist.percentiles();
}

/**
 * Throughput of `load` on the devices `specs` opens: each alone (one after another), each on
 * its own queue with the others running at the same time (the ideal partition, on the same
 * shared CPUs), and all on one queue, with each device's share of the work done together.
 * `rounds` interleaved rounds, summed.
 */
async function together(
  ctx: BenchContext,
  specs: readonly string[],
  load: (queue: JobQueue) => () => Promise<unknown>,
  ms: number,
  rounds: number,
) {
  const alone = specs.map(() => 0);
  const separate = specs.map(() => 0);
  const done = specs.map(() => 0);
  let both = 0;
  let busy = 0;
  let cpus = 0;
  for (let round = 0; round < rounds; round++) {
    for (const [i, spec] of specs.entries()) {
      const { queue, close } = await queueOn([spec]);
      ctx.log(`${spec} alone, ${slotsOf(queue)} in flight`);
      alone[i]! += await closedLoop(load(queue), slotsOf(queue), ms);
      await close();
    }
    ctx.log('each on its own queue, at the same time');
    const own = await Promise.all(specs.map((spec) => queueOn([spec])));
    const rates = await Promise.all(own.map(({ queue }) => closedLoop(load(queue), slotsOf(queue), ms)));
    rates.forEach((r, i) => {
      separate[i]! += r;
    });
    await Promise.all(own.map(({ close }) => close()));
    const { queue, close } = await queueOn(specs);
    ctx.log(`all ${specs.length} on one queue, ${slotsOf(queue)} in flight`);
    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const t = performance.now();
    const r = await counted(load(queue), slotsOf(queue), ms, 500, queue);
    busy += performance.eventLoopUtilization(elu).utilization;
    const used = process.cpuUsage(cpu);
    cpus += (used.user + used.system) / 1000 / (performance.now() - t);
    both += r.rate;
    r.done.forEach((c, i) => {
      done[i]! += c;
    });
    await close();
  }
  const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
  const total = sum(done);
  const sharesOf = (capacity: readonly number[]) =>
    done.map((c, i) => c / total / (capacity[i]! / sum(capacity)));
  const per = (values: readonly number[]) => values.map((v) => v / rounds);
  return {
    alone: per(alone),
    separate: per(separate),
    together: both / rounds,
    ratio: both / sum(alone),
    ratioSeparate: both / sum(separate),
    shares: sharesOf(alone),
    sharesSeparate: sharesOf(separate),
    done,
    busy: busy / rounds,
    cpus: cpus / rounds,
  };
}

const fixed = (values: readonly number[], digits = 0) => values.map((v) => v.toFixed(digits)).join('/');

/** 1. Mixed load at saturation on ring + window + software. */
async function mixed(ctx: BenchContext, ms: number): Promise<BenchRow[]> {
  const rounds = ctx.quick ? 1 : 2;
  const rsa = newRsaKey(2048).material;
  const ec = newEcKey('P-256').material;
  const rsaJob: PrimitiveRequest = { op: 'rsa-private', key: rsa, input: new Uint8Array(256).fill(7) };
  const ecJob: readonly Alternative[] = [
    { op: 'ecdsa-sign', key: ec, digest: new Uint8Array(32).fill(3) },
    { op: 'ec-mul', curve: 'P-256', scalar: 12345n },
  ];
  const loads: [string, (queue: JobQueue) => () => Promise<unknown>][] = [
    [
      'RSA-2048 + P-256 mixed',
      (queue) => {
        let i = 0;
        return () => (i++ & 1 ? queue.runFirst(ecJob) : queue.submit(rsaJob));
      },
    ],
    ['RSA-2048', (queue) => () => queue.submit(rsaJob)],
    ['P-256', (queue) => () => queue.runFirst(ecJob)],
  ];
  const independent = [
    'sim:ring?engine=timed&rate=1000',
    'sim:window?engine=timed&rate=100&engines=8',
    'software?workers=1&inline=off&depth=64',
  ];
  const rows: BenchRow[] = [];
  const cases: [string, readonly string[], number][] = [
    ...loads.map((l, i): [string, readonly string[], number] => [`1${'abc'[i]} ${l[0]}`, independent, i]),
    ['1d RSA-2048 + P-256 mixed, default specs (shared CPUs)', ['sim:ring', 'sim:window', 'software'], 0],
  ];
  const only = process.env.PKACCEL_BENCH_ROWS?.split(',');
  for (const [name, specs, loadIndex] of cases) {
    if (only !== undefined && !only.some((prefix) => name.startsWith(prefix))) continue;
    ctx.log(`${name}: ${specs.join(', ')}`);
    const r = await together(ctx, specs, loads[loadIndex]![1], ms, rounds);
    const worst = (shares: readonly number[]) => Math.max(...shares.map((s) => Math.abs(s - 1)));
    rows.push({
      name: `${name}: ring + window + software at saturation`,
      devices: specs.join(' '),
      'alone ops/s ring/window/software': fixed(r.alone),
      'each on its own queue, concurrently': fixed(r.separate),
      'together ops/s': r.together,
      'together ÷ sum alone': r.ratio,
      'together ÷ sum concurrent': r.ratioSeparate,
      'goal ≥0.95 met (alone/concurrent)': `${r.ratio >= 0.95}/${r.ratioSeparate >= 0.95}`,
      'share ÷ capacity share (alone)': fixed(r.shares, 2),
      'share ÷ capacity share (concurrent)': fixed(r.sharesSeparate, 2),
      'completed ring/window/software': fixed(r.done),
      'share within 10% met (alone/concurrent)': `${worst(r.shares) <= 0.1}/${worst(r.sharesSeparate) <= 0.1}`,
      // Where the CPU went while all three ran on one queue: the main thread's event loop, and the
      // process's CPUs (every thread: models, software workers) — of 2 on this machine.
      'together: main thread busy': r.busy,
      'together: process CPUs': r.cpus,
      'load avg': load1(),
    });
  }
  return rows;
}

/** 2. Two ring cards ÷ one, through subtle.verify ECDSA P-256. */
async function twoRings(ctx: BenchContext, ms: number): Promise<BenchRow[]> {
  const key = newEcKey('P-256');
  const data = new Uint8Array(64);
  const signature = new Uint8Array(64).fill(1);
  const verifier = async (devices: string[]) => {
    const accel = await open(devices);
    const pub = await accel.subtle.importKey(
      'jwk',
      key.publicKey.export({ format: 'jwk' }),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const op = () => accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pub, signature, data);
    return { accel, op };
  };
  const rows: BenchRow[] = [];
  for (const [label, rate] of [
    ['2', 50_000],
    ['2b', 1_000],
  ] as const) {
    const spec = `sim:ring?engine=timed&rate=${rate}`;
    const rounds = ctx.quick ? 1 : 2;
    let one = 0;
    let two = 0;
    let split = '';
    // Interleaved rounds: the machine is shared.
    for (let r = 0; r < rounds; r++) {
      ctx.log(`subtle.verify on one ring card at ${rate}/s (round ${r + 1})`);
      const a = await verifier([`${spec}&seed=1`]);
      one += await closedLoop(a.op, slotsOf(a.accel.queue) / 2, ms);
      await a.accel.close();
      ctx.log(`subtle.verify on two ring cards at ${rate}/s (round ${r + 1})`);
      const b = await verifier([`${spec}&seed=1`, `${spec}&seed=2`]);
      const r2 = await counted(b.op, slotsOf(b.accel.queue) / 2, ms, 500, b.accel.queue);
      two += r2.rate;
      split = fixed(r2.done);
      await b.accel.close();
    }
    rows.push({
      name: `${label} subtle.verify ECDSA P-256: two ring cards (timed ${rate}/s, seeds 1, 2) ÷ one`,
      'one card ops/s': one / rounds,
      'one card ÷ modeled': one / rounds / rate,
      'two cards ops/s': two / rounds,
      ratio: two / one,
      'goal ≥1.9 met': two / one >= 1.9,
      'completed per card (last round)': split,
      'load avg': load1(),
    });
  }
  return rows;
}

/** 3 and 4. A ring card beside a window card of the same modeled rate. */
async function ringAndWindow(ctx: BenchContext, ms: number): Promise<BenchRow[]> {
  const rate = 200;
  const ring = `sim:ring?engine=timed&rate=${rate}&engines=16`;
  const window = `sim:window?engine=timed&rate=${rate}&engines=16`;
  const pub = newRsaKey(2048).material.publicKey;
  const request: PrimitiveRequest = { op: 'rsa-public', key: pub, input: new Uint8Array(256).fill(9) };
  const submitter = async (devices: string[]) => {
    const accel = await open(devices);
    return { accel, op: () => accel.queue.submit(request) };
  };
  ctx.log('rsa-public on the ring card alone');
  const a = await submitter([ring]);
  const ringAlone = await closedLoop(a.op, 128, ms);
  ctx.log('rsa-public on the window card alone');
  const w = await submitter([window]);
  const windowAlone = await closedLoop(w.op, 128, ms);
  ctx.log('rsa-public on both');
  const b = await submitter([ring, window]);
  const { rate: both, done } = await counted(b.op, 256, ms, 500, b.accel.queue);
  const split = fixed(done);
  const rows: BenchRow[] = [
    {
      name: `3 rsa-public: ring + window card (timed ${rate}/s each) ÷ ring alone`,
      'ring alone ops/s': ringAlone,
      'window alone ops/s': windowAlone,
      'both ops/s': both,
      ratio: both / ringAlone,
      'goal ≥1.8 met': both / ringAlone >= 1.8,
      'both ÷ (ring alone + window alone)': both / (ringAlone + windowAlone),
      'completed ring/window': split,
      'load avg': load1(),
    },
  ];
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
    'load avg': load1(),
  });
  await Promise.all([a.accel.close(), w.accel.close(), b.accel.close()]);
  return rows;
}

const PARTS: Record<string, (ctx: BenchContext, ms: number) => Promise<BenchRow[]>> = {
  mixed,
  rings: twoRings,
  pair: ringAndWindow,
};

/** PKACCEL_BENCH_PARTS=mixed,rings,pair picks parts (all by default); PKACCEL_BENCH_ROWS=1b,1d picks rows of part 1. */
const schedulingBench: Bench = async (ctx) => {
  const ms = ctx.quick ? 500 : 2000;
  const wanted = (process.env.PKACCEL_BENCH_PARTS ?? Object.keys(PARTS).join(',')).split(',');
  const rows: BenchRow[] = [];
  for (const name of wanted) {
    const part = PARTS[name];
    if (part === undefined) throw new Error(`no part ${name}: ${Object.keys(PARTS).join(', ')}`);
    rows.push(...(await part(ctx, ms)));
  }
  return rows;
};

export default schedulingBench;
