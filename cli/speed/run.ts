/**
 * One `speed` run: for every algorithm, every provider, every concurrency, a
 * timed window, after a checked first operation. Ratios are against node's
 * crypto.subtle and the software provider at the same algorithm and concurrency,
 * measured in the same run (DESIGN rule 4).
 */

import { availableParallelism, cpus } from 'node:os';
import { messageOf } from '../context.js';
import type { SpeedAlgorithm } from './algorithms.js';
import { type LatencySummary, measure } from './measure.js';
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
}

export interface SpeedReport {
  readonly date: string;
  readonly node: string;
  readonly cpus: number;
  readonly cpu?: string;
  readonly seconds: number;
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
  readonly concurrency: readonly number[];
  readonly notes: readonly string[];
  readonly signal: AbortSignal;
  readonly progress: Progress;
}

function isUnsupported(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NotSupportedError' || error.name === 'UnsupportedError');
}

/** Attach the ratios once every row of the run exists. */
function withRatios(results: readonly SpeedResult[]): SpeedResult[] {
  const rate = (algorithm: string, concurrency: number, pick: (r: SpeedResult) => boolean) =>
    results.find(
      (r) => r.algorithm === algorithm && r.concurrency === concurrency && r.status === 'ok' && pick(r),
    )?.opsPerSecond;
  return results.map((r) => {
    if (r.status !== 'ok' || r.opsPerSecond === undefined) return r;
    const node = rate(r.algorithm, r.concurrency, (x) => x.provider === NODE_PROVIDER);
    const software = rate(r.algorithm, r.concurrency, (x) => x.kind === 'software');
    return {
      ...r,
      ...(node ? { vsNode: r.opsPerSecond / node } : {}),
      ...(software ? { vsSoftware: r.opsPerSecond / software } : {}),
    };
  });
}

export async function runSpeed(plan: SpeedPlan): Promise<SpeedReport> {
  const { algorithms, providers, concurrency, seconds, signal, progress } = plan;
  const results: SpeedResult[] = [];
  const total = algorithms.length * providers.length * concurrency.length;
  let done = 0;
  for (const algorithm of algorithms) {
    if (signal.aborted) break;
    progress.update(done / total, `${algorithm.name}: making a key`);
    const keys = algorithm.generateKeys();
    for (const provider of providers) {
      if (signal.aborted) break;
      const base = { algorithm: algorithm.name, provider: provider.name, kind: provider.kind };
      let failure: Pick<SpeedResult, 'status' | 'error'> | undefined;
      let operation: (() => Promise<ArrayBuffer>) | undefined;
      try {
        const prepared = await algorithm.prepare(provider.subtle, keys);
        if (!prepared.check(await prepared.run()))
          failure = {
            status: 'error',
            error: 'wrong result: the first operation disagrees with node:crypto',
          };
        else operation = prepared.run;
      } catch (error) {
        failure = { status: isUnsupported(error) ? 'unsupported' : 'error', error: messageOf(error) };
      }
      for (const c of concurrency) {
        if (signal.aborted) break;
        if (failure || !operation) {
          results.push({ ...base, concurrency: c, ...(failure ?? { status: 'error' }) });
          done++;
          continue;
        }
        const label = `${algorithm.name} on ${provider.name}, ${c} in flight`;
        const startedAt = Date.now();
        const timer = setInterval(
          () =>
            progress.update((done + Math.min(1, (Date.now() - startedAt) / (seconds * 1000))) / total, label),
          100,
        );
        timer.unref();
        try {
          const m = await measure(operation, { seconds, concurrency: c, signal });
          results.push({
            ...base,
            concurrency: c,
            status: m.errors > 0 ? 'error' : 'ok',
            ...(m.firstError === undefined ? {} : { error: m.firstError }),
            ops: m.ops,
            seconds: m.seconds,
            opsPerSecond: m.opsPerSecond,
            latencyMs: m.latencyMs,
          });
        } finally {
          clearInterval(timer);
        }
        done++;
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
    concurrency,
    algorithms: algorithms.map((a) => ({ name: a.name, label: a.label })),
    providers: providers.map((p) => ({ name: p.name, kind: p.kind, model: p.model })),
    unavailable: plan.unavailable,
    notes: [...plan.notes, ...(signal.aborted ? ['interrupted: the run stopped early'] : [])],
    results: withRatios(results),
  };
}
