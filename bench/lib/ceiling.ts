/**
 * The ceiling for any provider built on node:crypto on this machine: the same
 * synchronous call looping on every CPU at once (one worker thread per CPU),
 * with no dispatch at all: no promise, no queue, no thread hand-off. A provider
 * that dispatches its work can only come under it; dividing it by node's own
 * crypto.subtle says how far ahead of node any such provider could possibly be.
 */

import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { spawnWorker } from '../../core/platform/index.js';

export type CeilingOp = 'rsa-sign' | 'rsa-verify' | 'ecdsa-sign' | 'ecdsa-verify' | 'ecdh' | 'eddsa-sign';

/** What a ceiling thread runs (KeyObjects cross to worker threads by structured clone). */
export interface CeilingJob {
  readonly op: CeilingOp;
  readonly message: Uint8Array;
  readonly privateKey?: KeyObject;
  /** The verification key, or for ECDH the peer's public key. */
  readonly publicKey?: KeyObject;
  readonly signature?: Uint8Array;
  readonly ms: number;
  /** A shared word the threads wait on, so their windows start together. */
  readonly start: SharedArrayBuffer;
}

const workerUrl = new URL(
  import.meta.url.endsWith('.ts') ? './ceiling-worker.ts' : './ceiling-worker.js',
  import.meta.url,
);

/** Operations per second of `job` summed over `threads` threads running together. */
export async function ceilingOpsPerSecond(
  job: Omit<CeilingJob, 'start'>,
  threads = availableParallelism(),
): Promise<number> {
  const start = new SharedArrayBuffer(4);
  const workers = Array.from({ length: threads }, () =>
    spawnWorker(workerUrl, { workerData: { ...job, start } }),
  );
  const rates = workers.map(
    (worker) =>
      new Promise<number>((resolve, reject) => {
        worker.once('message', (rate: number) => resolve(rate));
        worker.once('error', reject);
      }),
  );
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('online', resolve))));
  // Past every thread's warm-up (a quarter of the window, at most 100 ms) before the gate opens.
  await new Promise((resolve) => setTimeout(resolve, Math.min(100, job.ms / 4) + 50));
  const gate = new Int32Array(start);
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  try {
    return (await Promise.all(rates)).reduce((sum, rate) => sum + rate, 0);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
