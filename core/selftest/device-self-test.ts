/**
 * The known-answer self-test of ONE device at the primitive level: the cases of
 * vectors/kat.json its capabilities cover (core/selftest/cases.ts) are submitted
 * straight to its queue pairs (spread over all of them, so each is exercised),
 * outside any scheduler, and every result is compared with its known answer.
 *
 * The job queue runs it after resetting a device that left service (faults, a
 * failure, a surprise removal) and returns the device only if it passes. The
 * caller must own the queue pairs while it runs (nobody else submits or
 * harvests): the job queue has stopped its lanes for the device.
 *
 * A device none of whose capabilities any case covers passes with `ran: 0`
 * (there is nothing to check it with); the report says so.
 *
 * A case the device refuses (UnsupportedError: a combination its capability list
 * claimed but it cannot do, such as QEMU's RAW RSA under nettle) is counted as
 * `refused`, not as a failure: a refusal is no wrong answer, and the device drops it
 * from its capabilities, so the job queue will not send it there. Such a device
 * passes only if it answered at least one case right — refusing everything proves
 * nothing.
 */

import { supports } from '../driver/capabilities.js';
import type { Completion, Device, Job, QueuePair } from '../driver/device.js';
import { UnsupportedError } from '../driver/errors.js';
import { type KnownAnswerCase, knownAnswerCases } from './cases.js';
import { type KatVector, loadKatVectors } from './vectors.js';

/**
 * How a device self-test runs: the known-answer cases of `vectors/kat.json` that the
 * device's capabilities cover, as primitive requests on its queue pairs.
 *
 * @category Queue and stats
 */
export interface SelfTestOptions {
  /** Aborting ends the test as failed (the queue pairs are abandoned). */
  readonly signal?: AbortSignal;
  /** The longest the whole test may take, in ms. Default 10,000. */
  readonly timeoutMs?: number;
  /** Vectors to use instead of the shipped vectors/kat.json. */
  readonly vectors?: readonly KatVector[];
  /** At most this many cases per primitive op (0 = all). Default 0. */
  readonly maxPerOp?: number;
}

/**
 * One known-answer case the device got wrong (or could not run).
 *
 * @category Queue and stats
 */
export interface SelfTestFailure {
  /** The case: `<vector id>/<primitive>` (e.g. `rsa2048-pkcs1-SHA-1/rsa-sign`), or `(device)` when no case could run. */
  readonly id: string;
  /** What was wrong: the result that differed, the error the device returned, a timeout. */
  readonly detail: string;
}

/**
 * The outcome of one device's self-test.
 *
 * @category Queue and stats
 */
export interface SelfTestReport {
  /** The device's id (`DeviceInfo.id`). */
  readonly device: string;
  /** True when every case run gave the known answer (no failures; a device with no case to run passes). */
  readonly passed: boolean;
  /** Cases run (each a primitive request with a known answer). */
  readonly ran: number;
  /** Cases the device's capabilities do not cover. */
  readonly skipped: number;
  /** Cases the device refused (UnsupportedError) although its capabilities claimed them; not failures. */
  readonly refused: number;
  /** The cases that failed, in the order they ran; empty when `passed`. */
  readonly failures: readonly SelfTestFailure[];
  /** Wall time of the test, in ms. */
  readonly ms: number;
}

/** The cases a device's capabilities cover. */
export function casesFor(
  device: Pick<Device, 'capabilities'>,
  vectors: readonly KatVector[] = loadKatVectors(),
  maxPerOp = 0,
): KnownAnswerCase[] {
  const perOp = new Map<string, number>();
  const chosen: KnownAnswerCase[] = [];
  for (const c of knownAnswerCases(vectors)) {
    if (!supports(device.capabilities, c.request)) continue;
    const n = perOp.get(c.request.op) ?? 0;
    if (maxPerOp > 0 && n >= maxPerOp) continue;
    perOp.set(c.request.op, n + 1);
    chosen.push(c);
  }
  return chosen;
}

/** Run the known-answer cases on `device`; never throws (a failure is in the report). */
export async function selfTestDevice(device: Device, options: SelfTestOptions = {}): Promise<SelfTestReport> {
  const started = performance.now();
  const id = device.info.id;
  const vectors = options.vectors ?? loadKatVectors();
  const all = knownAnswerCases(vectors);
  const cases = casesFor(device, vectors, options.maxPerOp ?? 0);
  const failures: SelfTestFailure[] = [];
  const refused: string[] = [];
  const report = (): SelfTestReport => {
    if (cases.length > 0 && refused.length === cases.length && failures.length === 0) {
      failures.push({ id: '(device)', detail: `the device refused every case (${refused.length})` });
    }
    return {
      device: id,
      passed: failures.length === 0,
      ran: cases.length,
      skipped: all.length - cases.length,
      refused: refused.length,
      failures,
      ms: performance.now() - started,
    };
  };
  if (device.state !== 'ready') {
    failures.push({ id: '(device)', detail: `the device is ${device.state}` });
    return report();
  }
  const qps = device.queuePairs.filter((qp) => qp.depth > 0);
  if (cases.length === 0) return report();
  if (qps.length === 0) {
    failures.push({ id: '(device)', detail: 'the device has no queue pair' });
    return report();
  }
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  const shares: KnownAnswerCase[][] = qps.map(() => []);
  for (let i = 0; i < cases.length; i++) shares[i % qps.length]!.push(cases[i]!);
  await Promise.all(qps.map((qp, i) => runOn(qp, shares[i]!, signal, failures, refused)));
  return report();
}

/** Run `cases` on one queue pair, as many in flight as it takes. */
async function runOn(
  qp: QueuePair,
  cases: readonly KnownAnswerCase[],
  signal: AbortSignal,
  failures: SelfTestFailure[],
  refused: string[],
): Promise<void> {
  const pending = new Map<number, KnownAnswerCase>();
  let next = 0;
  let tag = 0;
  const sink = (completion: Completion): void => {
    const c = pending.get(completion.tag);
    if (c === undefined) {
      failures.push({
        id: '(device)',
        detail: `completion with tag ${completion.tag}, which is not in flight`,
      });
      return;
    }
    pending.delete(completion.tag);
    if (!completion.ok) {
      if (completion.error instanceof UnsupportedError) {
        refused.push(c.id);
        return;
      }
      failures.push({ id: c.id, detail: `${completion.error.name}: ${completion.error.message}` });
      return;
    }
    const wrong = c.check(completion.value);
    if (wrong !== undefined) failures.push({ id: c.id, detail: wrong });
  };
  try {
    while (next < cases.length || pending.size > 0) {
      signal.throwIfAborted();
      const room = qp.depth - qp.inFlight;
      if (next < cases.length && room > 0) {
        const batch: Job[] = [];
        for (let i = next; i < cases.length && batch.length < room; i++) {
          batch.push({ tag: tag++, request: cases[i]!.request });
        }
        const taken = qp.submit(batch);
        for (let i = 0; i < taken; i++) pending.set(batch[i]!.tag, cases[next + i]!);
        next += taken;
      }
      if (qp.harvest(sink) === 0 && pending.size > 0) await qp.waitForCompletions(signal);
    }
  } catch (error) {
    const timedOut = signal.aborted;
    failures.push({
      id: pending.size > 0 ? [...pending.values()][0]!.id : '(device)',
      detail: timedOut
        ? `no answer within the self-test's time (${pending.size} job(s) outstanding)`
        : `${(error as Error).name}: ${(error as Error).message}`,
    });
    if (pending.size > 0) {
      // Take the outstanding jobs back from the device before anyone else uses the queue pair.
      try {
        await qp.abandon(AbortSignal.timeout(2_000));
      } catch {
        // The device will be reset before it is tried again.
      }
    }
  }
}
