/**
 * One `speed` run: for every algorithm, every provider, every concurrency, a
 * timed window, after a checked first operation. Ratios are against node's
 * crypto.subtle and the software provider at the same algorithm and concurrency,
 * measured in the same run (DESIGN rule 4).
 *
 * Each window is split into rounds, the providers interleaved within a round,
 * so that a machine that slows down for a while slows every provider alike.
 * Ops/s is the median over the rounds; the ratio of each round is kept, and
 * when they spread by more than NOISY_SPREAD the row says so.
 */

import { availableParallelism, cpus } from 'node:os';
import { messageOf } from '../context.js';
import type { SpeedAlgorithm } from './algorithms.js';
import { type LatencySummary, measure, summarize } from './measure.js';
import type { Progress } from './progress.js';
import { NODE_PROVIDER, type Provider, type ProviderKind } from './providers.js';

export interface SpeedResult {
  readonly algorithm: string;
  readonly provider: string;
  readonly kind: ProviderKind;
  readonly concurrency: number;
  readonly status: 'ok' | 'unsupported' | 'error';
  readonly error?: string;
  readonly ops?: number;
  readonly seconds?: number;
  readonly opsPerSecond?: number;
  readonly latencyMs?: LatencySummary;
  /** opsPerSecond / node crypto.subtle's at the same algorithm and concurrency. */
  readonly vsNode?: number;
  /** opsPerSecond / the software provider's at the same algorithm and concurrency. */
  readonly vsSoftware?: number;
  /** Why the row has no figures: what the provider could not do ('unsupported') or what failed ('error'). */
  readonly reason?: string;
  /** Ops/s of each round. */
  readonly roundRates?: readonly number[];
  /** The lowest and highest per-round ratio to node, and to software. */
  readonly vsNodeRange?: readonly [number, number];
  readonly vsSoftwareRange?: readonly [number, number];
  /** A ratio whose per-round values spread by more than NOISY_SPREAD of their median: read it with care. */
  readonly noisy?: { readonly vsNode?: boolean; readonly vsSoftware?: boolean };
}

/** Ratios whose rounds differ by more than this fraction of their median are marked noisy. */
export const NOISY_SPREAD = 0.1;

export interface SpeedReport {
  readonly date: string;
  readonly node: string;
  readonly cpus: number;
  readonly cpu?: string;
  readonly seconds: number;
  /** Rounds each measurement was split into (providers interleaved within a round). */
  readonly rounds: number;
  readonly concurrency: readonly number[];
  readonly algorithms: readonly { readonly name: string; readonly label: string }[];
  readonly providers: readonly {
    readonly name: string;
    readonly kind: ProviderKind;
    readonly model: string;
  }[];
  readonly unavailable: readonly { readonly spec: string; readonly error: string }[];
  readonly notes: readonly string[];
  readonly results: readonly SpeedResult[];
}

export interface SpeedPlan {
  readonly algorithms: readonly SpeedAlgorithm[];
  readonly providers: readonly Provider[];
  readonly unavailable: readonly { spec: string; error: string }[];
  readonly seconds: number;
  /** Rounds per measurement (default 3). */
  readonly rounds?: number;
  readonly concurrency: readonly number[];
  readonly notes: readonly string[];
  readonly signal: AbortSignal;
  readonly progress: Progress;
}

function isUnsupported(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NotSupportedError' || error.name === 'UnsupportedError');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Attach the ratios once every row of the run exists: of the medians, and the range of the per-round ratios. */
function withRatios(results: readonly SpeedResult[]): SpeedResult[] {
  const find = (algorithm: string, concurrency: number, pick: (r: SpeedResult) => boolean) =>
    results.find(
      (r) => r.algorithm === algorithm && r.concurrency === concurrency && r.status === 'ok' && pick(r),
    );
  const range = (mine: readonly number[], theirs: readonly number[] | undefined) => {
    if (theirs === undefined || theirs.length !== mine.length || mine.length === 0) return undefined;
    const ratios = mine.map((m, i) => m / theirs[i]!);
    return { range: [Math.min(...ratios), Math.max(...ratios)] as const, median: median(ratios) };
  };
  return results.map((r) => {
    if (r.status !== 'ok' || r.opsPerSecond === undefined) return r;
    const node = find(r.algorithm, r.concurrency, (x) => x.provider === NODE_PROVIDER);
    const software = find(r.algorithm, r.concurrency, (x) => x.kind === 'software');
    const nodeRange = range(r.roundRates ?? [], node?.roundRates);
    const softwareRange = range(r.roundRates ?? [], software?.roundRates);
    const spread = (x: { range: readonly [number, number]; median: number } | undefined) =>
      x !== undefined && x.median > 0 ? (x.range[1] - x.range[0]) / x.median : 0;
    const noisyNode = spread(nodeRange) > NOISY_SPREAD;
    const noisySoftware = spread(softwareRange) > NOISY_SPREAD;
    return {
      ...r,
      ...(node?.opsPerSecond ? { vsNode: r.opsPerSecond / node.opsPerSecond } : {}),
      ...(software?.opsPerSecond ? { vsSoftware: r.opsPerSecond / software.opsPerSecond } : {}),
      ...(nodeRange && r.roundRates!.length > 1 ? { vsNodeRange: nodeRange.range } : {}),
      ...(softwareRange && r.roundRates!.length > 1 ? { vsSoftwareRange: softwareRange.range } : {}),
      ...(noisyNode || noisySoftware
        ? {
            noisy: { ...(noisyNode ? { vsNode: true } : {}), ...(noisySoftware ? { vsSoftware: true } : {}) },
          }
        : {}),
    };
  });
}

interface Contender {
  readonly provider: Provider;
  operation?: () => Promise<ArrayBuffer>;
  failure?: { readonly status: 'unsupported' | 'error'; readonly reason: string };
}

interface Tally {
  rates: number[];
  samples: number[];
  ops: number;
  seconds: number;
  error?: string;
}

export async function runSpeed(plan: SpeedPlan): Promise<SpeedReport> {
  const { algorithms, providers, concurrency, seconds, signal, progress } = plan;
  const rounds = Math.max(1, Math.floor(plan.rounds ?? 3));
  const results: SpeedResult[] = [];
  const total = algorithms.length * providers.length * concurrency.length * rounds;
  let done = 0;
  for (const algorithm of algorithms) {
    if (signal.aborted) break;
    progress.update(done / total, `${algorithm.name}: making a key`);
    const keys = algorithm.generateKeys();
    const contenders: Contender[] = [];
    for (const provider of providers) {
      if (signal.aborted) break;
      const contender: Contender = { provider };
      contenders.push(contender);
      try {
        const prepared = await algorithm.prepare(provider.subtle, keys);
        if (!prepared.check(await prepared.run()))
          contender.failure = {
            status: 'error',
            reason: 'wrong result: the first operation disagrees with node:crypto',
          };
        else contender.operation = prepared.run;
      } catch (error) {
        contender.failure = {
          status: isUnsupported(error) ? 'unsupported' : 'error',
          reason: messageOf(error),
        };
      }
    }
    for (const c of concurrency) {
      if (signal.aborted) break;
      // A short warm-up per contender, not counted (worker pools and JIT start on the first calls).
      for (const contender of contenders) {
        if (contender.operation === undefined || signal.aborted) continue;
        await measure(contender.operation, {
          seconds: Math.min(0.1, seconds / rounds),
          concurrency: c,
          signal,
        });
      }
      const tallies = new Map<Contender, Tally>();
      for (let round = 0; round < rounds && !signal.aborted; round++) {
        for (const contender of contenders) {
          if (signal.aborted) break;
          const tally = tallies.get(contender) ?? { rates: [], samples: [], ops: 0, seconds: 0 };
          tallies.set(contender, tally);
          if (contender.operation === undefined || tally.error !== undefined) {
            done++;
            continue;
          }
          const label = `${algorithm.name} on ${contender.provider.name}, ${c} in flight, round ${round + 1}/${rounds}`;
          const startedAt = Date.now();
          const windowSeconds = seconds / rounds;
          const timer = setInterval(
            () =>
              progress.update(
                (done + Math.min(1, (Date.now() - startedAt) / (windowSeconds * 1000))) / total,
                label,
              ),
            100,
          );
          timer.unref();
          try {
            const m = await measure(contender.operation, {
              seconds: windowSeconds,
              concurrency: c,
              signal,
              keepSamples: true,
            });
            if (m.errors > 0) tally.error = m.firstError ?? 'failed';
            tally.rates.push(m.opsPerSecond);
            tally.samples.push(...(m.samples ?? []));
            tally.ops += m.ops;
            tally.seconds += m.seconds;
          } finally {
            clearInterval(timer);
          }
          done++;
        }
      }
      for (const contender of contenders) {
        const base = {
          algorithm: algorithm.name,
          provider: contender.provider.name,
          kind: contender.provider.kind,
          concurrency: c,
        };
        const tally = tallies.get(contender);
        if (contender.failure !== undefined) {
          const { status, reason } = contender.failure;
          results.push({ ...base, status, error: reason, reason });
        } else if (tally === undefined || tally.rates.length === 0) {
          results.push({
            ...base,
            status: 'error',
            error: 'not measured',
            reason: 'not measured (interrupted)',
          });
        } else {
          results.push({
            ...base,
            status: tally.error === undefined ? 'ok' : 'error',
            ...(tally.error === undefined ? {} : { error: tally.error, reason: tally.error }),
            ops: tally.ops,
            seconds: tally.seconds,
            opsPerSecond: median(tally.rates),
            latencyMs: summarize(tally.samples),
            roundRates: tally.rates,
          });
        }
      }
    }
  }
  progress.done();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    ...(cpus()[0]?.model === undefined ? {} : { cpu: cpus()[0]!.model }),
    seconds,
    rounds,
    concurrency,
    algorithms: algorithms.map((a) => ({ name: a.name, label: a.label })),
    providers: providers.map((p) => ({ name: p.name, kind: p.kind, model: p.model })),
    unavailable: plan.unavailable,
    notes: [...plan.notes, ...(signal.aborted ? ['interrupted: the run stopped early'] : [])],
    results: withRatios(results),
  };
}
