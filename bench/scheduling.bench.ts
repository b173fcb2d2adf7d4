/**
 * Issue 14, scheduling by expected completion time: each goal as a ratio measured
 * in this run (`npm run bench -- scheduling`), with the load average beside it.
 *
 * 1. Mixed load at saturation: RSA-2048 private and ECDSA P-256 (sign, or the
 *    EC multiplication a window card does instead: runFirst) on a ring card, a
 *    window card and the software device. Together ÷ the sum of each alone (goal
 *    ≥ 0.95), and each device's share of the work ÷ its share of the summed
 *    capacity (goal within 10%): share = its completions together ÷ all completions
 *    together; capacity share = its rate alone ÷ the sum of the rates alone (and the
 *    same with the rates of each on its own queue at the same time); the row prints
 *    both and the worst |share ÷ capacity share − 1|. One row per load: mixed,
 *    RSA-2048 only, P-256 only. 'held ÷ depth' (jobs each device held, sampled every
 *    50 ms, ÷ its depth) tells a device the scheduler left short of work from one
 *    that was kept full but ran slower than alone ('rate ÷ rate alone'): on a loaded
 *    2-CPU machine the software device's rate (its worker's CPU share) and the window
 *    card's (each engine waits a host round trip for its next job) move by 2–3× from
 *    second to second, so a capacity measured alone a few seconds earlier is not the
 *    capacity it had together; row 1e (two ring cards of different rates and the
 *    window card, all timed) has capacities that are the models' timers, not the
 *    host's CPU, and judges the shares on a loaded machine.
 *    The devices are chosen so that their capacities are independent of each other
 *    on a 2-CPU machine: the ring card's and window card's engines are timed
 *    (modeled service time, little host CPU), the software device gets one worker
 *    thread and no inline work. With every device on the same two CPUs (the
 *    defaults: the software device computes on every CPU and on the calling
 *    thread, the window card's model does the arithmetic), "the sum of each alone"
 *    counts the CPUs more than once and no scheduler reaches it; row 1d shows that
 *    case for reference. The baseline "each on its own queue, concurrently" runs the
 *    three at once on separate queues (the ideal partition, on the same CPUs).
 *    Which capacity: the one-class rows that hold the software device (1b, 1c)
 *    judge the ≥ 0.95 goal on that concurrent baseline ('goal capacity',
 *    'goal ≥0.95 met'); the mixed rows (1a, the issue's goal as worded; 1d, for
 *    reference) and 1e (no software device) on the sum alone. Alone, the software device's worker has a CPU
 *    to itself and the main thread feeds nothing else; beside the cards the same two
 *    CPUs also run the cards' model threads and the main thread's work for their
 *    completions, so its rate alone is CPU that is not there together (1b: 0.80 of
 *    its rate alone while held full, 1c: 0.75; on its own queue at the same time
 *    0.86 / 0.82). The sum alone counts that CPU twice; the concurrent baseline
 *    shares the CPUs exactly as the run together does and differs from it only by
 *    the scheduler (one queue and its placement cost vs. each device its own queue),
 *    which is what the goal is about. Both ratios are printed. In the
 *    mixed row a device may take more of the class it is relatively fast at (the
 *    software device signs P-256 ~10× faster than it does RSA-2048), so its share of
 *    jobs may differ from its share measured with the 50/50 mix; rows 1b and 1c (one
 *    class each) test the shares.
 * 2. Two ring cards (`sim:ring?engine=timed&rate=50000&seed=1`, `…&seed=2`) ÷ one,
 *    through subtle.verify ECDSA P-256 (goal ≥ 1.9), interleaved rounds, with the
 *    integrity gate on as it is for every user of subtle.verify (the timed ring
 *    engine answers "valid" with r as the witness, which the gate accepts; the row
 *    ran with the gate off before, a lighter main thread than the path the issue
 *    names). The same
 *    at a modeled rate the host path can feed twice over on a loaded machine (row
 *    2b, 1k/s per card): at 50k/s per card the host path of `subtle` (the other
 *    half of issue 14) is the limit, and the row says how far one card gets.
 * 3. A ring card beside a window card of the same modeled rate ÷ the ring card
 *    alone, through queue.submit rsa-public (goal ≥ 1.8). Both have 16 engines (the
 *    same service time per job, 80 ms at 200/s). The window card has no queue: each
 *    engine idles for a host round trip after each completion, so the rate is chosen
 *    for a service time well above that trip on a loaded machine.
 * 4. Latency at half of 3's total capacity (open-loop arrivals): p99 ÷ the best
 *    single device's p99 at the same per-device load (goal ≤ 1): each card alone at
 *    the rate it carried in the pair (the last pair run's split), for as many jobs as
 *    the pair's. After two settling rounds of every case (not counted), each case runs
 *    500 ms at its rate before its measured window, the cases' order turns by one each
 *    round (PKACCEL_BENCH_P99_ROUNDS, default 4: each case once in each position),
 *    rounds pooled (~1,600 jobs per case); each round's p99s are logged. 'apart' is a
 *    reference, not the goal: both cards at once, each on its own queue, one open loop
 *    alternating between them at the pair's split — the
 *    pair's per-device loads and host work without the shared queue and its
 *    scheduler: 'pair ÷ apart' is what the shared queue adds, 'apart ÷ best single'
 *    what running both cards at once costs on this host.
 *    Where the pair's tail comes from (2026-12-08, /tmp/s3/probe.mts of H-sched3,
 *    load 1.2-1.9): at this load no card has all its engines busy, so every job takes
 *    the engine's 80 ms plus the host's path. The p99's excess over the p50 (2-5 ms)
 *    lies between doorbell and harvest (submission and delivery add ~0.15 ms); in the
 *    pair the ring card's and the window card's jobs have the same p99 (within 1 ms,
 *    either way round); the slow jobs come in bursts, both cards' alike (GC scavenges
 *    of 2-10 ms on the main thread, the model threads and the main thread sharing 2
 *    CPUs). The pair against the pair's queue with each job pinned by a fixed
 *    alternation and against 'apart' (12 rounds each, after a settling run): p99
 *    84.46 / 84.66 / 85.70 and 83.46 / 83.70 / 83.77 ms — placement adds nothing
 *    measurable. Each card's p99 in the pair is 0.5-1 ms above its p99 alone: the host
 *    does both cards' work (twice a single's at this split), and the lower of two
 *    estimates (the best single) is biased low by their noise.
 *
 * Rerun (about 6 minutes): `node --import tsx bench/run.ts scheduling`;
 * PKACCEL_BENCH_PARTS=mixed,rings,pair picks parts, PKACCEL_BENCH_ROWS=1b,1e rows of
 * part 1, PKACCEL_BENCH_P99_ROUNDS=8 more rounds of part 4 (~15 s per round).
 *
 * The integrity gate is off except in part 2: the timed engines answer fixed values to
 * private-key and raw RSA jobs, which the gate rightly refuses (its cost is
 * bench/integrity.bench.ts's). The stall limit is fixed: stall detection is not what is
 * measured here.
 */

import { loadavg } from 'node:os';
import type { Alternative, PrimitiveRequest } from '../core/driver/index.js';
import { GATE_OFF, type IntegrityOptions } from '../core/integrity/options.js';
import { JobQueue } from '../core/queue/index.js';
import { defaultRegistry, openAccelerator } from '../index.js';
import { newEcKey, newRsaKey } from '../test/support/keys.js';
import type { Bench, BenchContext, BenchRow } from './lib/types.js';

const QUEUE = { integrity: { [GATE_OFF]: true } as IntegrityOptions, stallTimeoutMs: 30_000 };

const load1 = () => loadavg()[0]!.toFixed(2);

const open = (devices: readonly string[]) => openAccelerator({ devices: [...devices], queue: QUEUE });
/** With the integrity gate on: what a user of subtle gets. */
const openGated = (devices: readonly string[]) =>
  openAccelerator({ devices: [...devices], queue: { stallTimeoutMs: QUEUE.stallTimeoutMs } });

/** What `snapshot()` gives: the accelerator's queue or a bare JobQueue. */
interface Snapshots {
  snapshot(): {
    readonly devices: readonly {
      readonly completed: number;
      readonly inFlight: number;
      readonly queuePairs: readonly { readonly depth: number }[];
    }[];
  };
}

const slotsOf = (queue: Snapshots) =>
  queue.snapshot().devices.reduce((n, d) => n + d.queuePairs.reduce((m, qp) => m + qp.depth, 0), 0);

const completedPerDevice = (queue: Snapshots) => queue.snapshot().devices.map((d) => d.completed);

/** Each device's queue pair depths summed: the most it can hold. */
const depthsOf = (queue: Snapshots) =>
  queue.snapshot().devices.map((d) => d.queuePairs.reduce((m, qp) => m + qp.depth, 0));

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
): Promise<{ rate: number; done: number[]; held: number[] }> {
  let done: number[] = [];
  // Jobs each device held (in flight), summed over samples every 50 ms in the window: whether the
  // scheduler kept it fed, apart from how fast it ran.
  let held: number[] = [];
  let samples = 0;
  let sampler: NodeJS.Timeout | undefined;
  const mark = (phase: 'start' | 'end') => {
    if (queue === undefined) return;
    const now = completedPerDevice(queue);
    done = phase === 'start' ? now : now.map((c, i) => c - done[i]!);
    if (phase === 'start') {
      held = now.map(() => 0);
      sampler = setInterval(() => {
        samples++;
        queue.snapshot().devices.forEach((d, i) => {
          held[i]! += d.inFlight;
        });
      }, 50);
    } else clearInterval(sampler);
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
  return { rate: inWindow / ((t1 - t0) / 1000), done, held: held.map((h) => h / Math.max(1, samples)) };
}

interface Tail {
  readonly p50: number;
  readonly p99: number;
}

/** p50 and p99 of the samples (nearest rank). */
function percentilesOf(samples: readonly number[]): Tail {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * Open loop: `rate` jobs per second for `warmMs` + `ms`; the latency of each job submitted after
 * the warm-up (from submission) pushed to `latencies`. Returns the seconds it ran.
 */
async function openLoop(
  op: () => Promise<unknown>,
  rate: number,
  ms: number,
  latencies: number[],
  warmMs = 0,
): Promise<number> {
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < warmMs + ms) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      const t = performance.now();
      const kept = t - start >= warmMs;
      pending.push(
        op().then(() => {
          if (kept) latencies.push(performance.now() - t);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(pending);
  return seconds;
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
  const held = specs.map(() => 0);
  let depths: number[] = [];
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
    depths = depthsOf(queue);
    const r = await counted(load(queue), slotsOf(queue), ms, 500, queue);
    busy += performance.eventLoopUtilization(elu).utilization;
    const used = process.cpuUsage(cpu);
    cpus += (used.user + used.system) / 1000 / (performance.now() - t);
    both += r.rate;
    r.done.forEach((c, i) => {
      done[i]! += c;
      held[i]! += r.held[i]! / rounds;
    });
    await close();
  }
  const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
  const per = (values: readonly number[]) => values.map((v) => v / rounds);
  return {
    alone: per(alone),
    separate: per(separate),
    together: both / rounds,
    ratio: both / sum(alone),
    ratioSeparate: both / sum(separate),
    share: shareOf(done),
    capacityShare: shareOf(alone),
    capacityShareSeparate: shareOf(separate),
    done,
    held,
    depths,
    busy: busy / rounds,
    cpus: cpus / rounds,
  };
}

const fixed = (values: readonly number[], digits = 0) => values.map((v) => v.toFixed(digits)).join('/');

/** Each value's share of their sum. */
const shareOf = (values: readonly number[]) => {
  const total = values.reduce((a, b) => a + b, 0);
  return values.map((v) => v / total);
};

/**
 * The share goal: every device's share of the jobs completed together within 10% of its share
 * of the summed capacity (its rate alone ÷ the sum of the rates alone), i.e. the worst
 * |share ÷ capacity share − 1| ≤ 0.1.
 */
const worstShare = (share: readonly number[], capacity: readonly number[]) =>
  Math.max(...share.map((s, i) => Math.abs(s / capacity[i]! - 1)));

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
  // Two ring cards of different rates and the window card: every capacity is modeled (timers in
  // the models' threads), none is the host CPU's, so the shares can be judged on a loaded machine.
  const timedOnly = [
    'sim:ring?engine=timed&rate=1000',
    'sim:ring?engine=timed&rate=250&seed=2',
    'sim:window?engine=timed&rate=100&engines=8',
  ];
  const rows: BenchRow[] = [];
  const cases: [string, readonly string[], number][] = [
    ...loads.map((l, i): [string, readonly string[], number] => [`1${'abc'[i]} ${l[0]}`, independent, i]),
    ['1d RSA-2048 + P-256 mixed, default specs (shared CPUs)', ['sim:ring', 'sim:window', 'software'], 0],
    ['1e RSA-2048, timed cards only (capacities modeled)', timedOnly, 1],
  ];
  const only = process.env.PKACCEL_BENCH_ROWS?.split(',');
  for (const [name, specs, loadIndex] of cases) {
    if (only !== undefined && !only.some((prefix) => name.startsWith(prefix))) continue;
    ctx.log(`${name}: ${specs.join(', ')}`);
    const r = await together(ctx, specs, loads[loadIndex]![1], ms, rounds);
    // The software device computes on the host's CPUs, which the cards' models and completions
    // also use: its capacity beside them is what it does on its own queue at the same time. The
    // mixed row (1a) keeps the issue's own wording, the sum of each alone.
    const sharesCpu = loadIndex !== 0 && specs.some((spec) => spec.startsWith('software'));
    const worst = worstShare(r.share, r.capacityShare);
    const worstSeparate = worstShare(r.share, r.capacityShareSeparate);
    rows.push({
      name: `${name}: ring + window + software at saturation`,
      devices: specs.join(' '),
      'alone ops/s (devices in order)': fixed(r.alone),
      'each on its own queue, concurrently': fixed(r.separate),
      'together ops/s': r.together,
      'together ÷ sum alone': r.ratio,
      'together ÷ sum concurrent': r.ratioSeparate,
      'goal ≥0.95 met (alone/concurrent)': `${r.ratio >= 0.95}/${r.ratioSeparate >= 0.95}`,
      // Which capacity the goal is judged on, and its verdict (see the header: "Which capacity").
      'goal capacity': sharesCpu ? 'concurrent' : 'alone',
      'goal ≥0.95 met': (sharesCpu ? r.ratioSeparate : r.ratio) >= 0.95,
      'completed (devices in order)': fixed(r.done),
      'share of completions': fixed(r.share, 3),
      'capacity share (alone)': fixed(r.capacityShare, 3),
      'capacity share (concurrent)': fixed(r.capacityShareSeparate, 3),
      'share ÷ capacity share (alone)': fixed(
        r.share.map((s, i) => s / r.capacityShare[i]!),
        2,
      ),
      'worst |share ÷ capacity share − 1| (alone/concurrent)': `${worst.toFixed(2)}/${worstSeparate.toFixed(2)}`,
      'share within 10% met (alone/concurrent)': `${worst <= 0.1}/${worstSeparate <= 0.1}`,
      // Whether the scheduler kept each device fed, apart from how fast it ran: the jobs it held
      // (mean over 50 ms samples) ÷ its depth. A device held full but short of its rate alone was
      // slowed (CPU it shares), not starved.
      'together: held ÷ depth': fixed(
        r.held.map((h, i) => h / r.depths[i]!),
        2,
      ),
      'together: rate ÷ rate alone': fixed(
        r.done.map((c, i) => c / rounds / (ms / 1000) / r.alone[i]!),
        2,
      ),
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
    const accel = await openGated(devices);
    const pub = await accel.subtle.importKey(
      'jwk',
      key.publicKey.export({ format: 'jwk' }),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    // The card's verdict, after the gate checked its witness: anything but true is a fault here.
    const op = async () => {
      if (!(await accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pub, signature, data)))
        throw new Error('subtle.verify answered false on the timed ring card');
    };
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
      name: `${label} subtle.verify ECDSA P-256 (gate on): two ring cards (timed ${rate}/s, seeds 1, 2) ÷ one`,
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

/** Part 4's cases: the pair, each card alone, and both cards on queues of their own at once. */
const ROW4_CASES = ['pair', 'ring', 'window', 'apart'] as const;
type Row4Case = (typeof ROW4_CASES)[number];
/** Part 4: each case's open loop runs this long (ms) before its measured window. */
const WARM_MS = 500;
/**
 * Part 4: rounds of every case run first and not counted. After row 3's saturation every case's
 * p99 was higher for the next 30-60 s (the pair's, first: 83.0-84.5 ms in the first counted round
 * after one settling round, 80.9-82.5 later; quiet machine).
 */
const SETTLE_ROUNDS = 2;

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
  // 4. Latency at half capacity: the pair at half of (ring + window); each alone at the load the
  // pair gave it (its completions there ÷ the time) — "the same per-device load" of the goal. Each
  // alone at half of its own capacity, as before, differed from the pair's split by up to 4%
  // (572/619 jobs). Exact percentiles of the samples: the queue's histogram buckets are ~7% wide,
  // as wide as the differences this goal is about.
  // How the cases are run (the tail is the host's: see the header): settling rounds of every
  // case, not counted (SETTLE_ROUNDS), then each case's open loop runs WARM_MS before its
  // measured window (the pair, always run first after row 3's saturation, read 3-15 ms higher at
  // p99 in that round than in later ones in 6 of 7 probe runs; after a settling run of the pair
  // alone, the first measured round was still the noisiest for every case); the order of the
  // cases turns by one each round, so none always runs first or right after another;
  // PKACCEL_BENCH_P99_ROUNDS rounds (default 4: every case once in every position) pooled, ~1,600
  // jobs per case (p99 = the 16th worst). 'apart': see the header.
  const half = (ringAlone + windowAlone) / 2;
  const rounds = ctx.quick ? 1 : Math.max(1, Math.floor(Number(process.env.PKACCEL_BENCH_P99_ROUNDS) || 4));
  const samples: Record<Row4Case, number[]> = { pair: [], ring: [], window: [], apart: [] };
  const pairSplit = [0, 0];
  let pairSeconds = 0;
  // Per-device rates of the last pair run (ops/s): the first settling round's pair run sets them.
  let perDevice = [half / 2, half / 2];
  let toRing = 0;
  const apart = () => {
    toRing += perDevice[0]! / (perDevice[0]! + perDevice[1]!);
    if (toRing < 1) return w.op();
    toRing -= 1;
    return a.op();
  };
  const run = async (which: Row4Case, sink: number[]) => {
    if (which === 'pair') {
      const before = completedPerDevice(b.accel.queue);
      const seconds = await openLoop(b.op, half, ms, sink, WARM_MS);
      const got = completedPerDevice(b.accel.queue).map((c, i) => c - before[i]!);
      perDevice = got.map((c) => c / seconds);
      if (sink.length > 0) {
        got.forEach((c, i) => {
          pairSplit[i]! += c;
        });
        pairSeconds += seconds;
      }
    } else if (which === 'apart') await openLoop(apart, perDevice[0]! + perDevice[1]!, ms, sink, WARM_MS);
    else {
      // A card alone runs at its part of the pair's rate: as long as it takes to collect as many
      // jobs as the pair (at most 3× the window), so that its p99 is no noisier than the pair's —
      // the lower of two noisier estimates is biased low.
      const i = which === 'ring' ? 0 : 1;
      const rate = perDevice[i]!;
      const longer = Math.min(3, half / Math.max(rate, 1));
      await openLoop((i === 0 ? a : w).op, rate, ms * longer, sink, WARM_MS);
    }
  };
  ctx.log(
    `open loop at ${half.toFixed(0)}/s: ${SETTLE_ROUNDS} settling rounds after row 3's saturation, not counted`,
  );
  for (let round = 0; round < SETTLE_ROUNDS; round++) for (const which of ROW4_CASES) await run(which, []);
  for (let round = 0; round < rounds; round++) {
    const order = ROW4_CASES.map((_, i) => ROW4_CASES[(i + round) % ROW4_CASES.length]!);
    ctx.log(`open loop (round ${round + 1}): ${order.join(', ')}`);
    const p99s: string[] = [];
    for (const which of order) {
      const round: number[] = [];
      await run(which, round);
      samples[which].push(...round);
      p99s.push(`${which} ${percentilesOf(round).p99.toFixed(2)}`);
    }
    ctx.log(`  p99 ms this round: ${p99s.join(', ')} (load ${load1()})`);
  }
  const tails = {
    pair: percentilesOf(samples.pair),
    ring: percentilesOf(samples.ring),
    window: percentilesOf(samples.window),
    apart: percentilesOf(samples.apart),
  };
  const best = Math.min(tails.ring.p99, tails.window.p99);
  rows.push({
    name: '4 latency at half capacity: ring + window vs each alone at the same per-device load',
    'offered ops/s (pair)': half,
    'pair p50 ms': tails.pair.p50,
    'pair p99 ms': tails.pair.p99,
    'pair completed ring/window': fixed(pairSplit),
    'each alone at ops/s (ring/window)': fixed(pairSplit.map((c) => c / pairSeconds)),
    'ring alone p50 ms': tails.ring.p50,
    'window alone p50 ms': tails.window.p50,
    'ring alone p99 ms': tails.ring.p99,
    'window alone p99 ms': tails.window.p99,
    'jobs pair/ring/window/apart': fixed(ROW4_CASES.map((c) => samples[c].length)),
    'p99 ÷ best single p99': tails.pair.p99 / best,
    'goal ≤1 met': tails.pair.p99 <= best,
    'apart (own queues, at once) p99 ms': tails.apart.p99,
    'pair p99 ÷ apart p99': tails.pair.p99 / tails.apart.p99,
    'apart p99 ÷ best single p99': tails.apart.p99 / best,
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
