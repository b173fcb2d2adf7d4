/**
 * When the calling thread runs a job itself instead of sending it to the pool.
 * A lone job on an idle pool costs two thread hops (tens of µs, and on a loaded
 * machine often milliseconds, waiting to be scheduled) through a worker, more
 * than most primitives take; running it here is what wins at concurrency 1.
 * Under load the calling thread also keeps its share of each batch (`shareOf`).
 * Bounded so that the calling thread stays responsive: only cheap primitives, a
 * lone job only when the pool is idle, a batch's share at most 1/(workers+1),
 * and at most a few milliseconds of such work per turn of the event loop (a
 * tight `await` loop of single calls otherwise never yields). Past the budget a
 * lone job waits for the next turn (the queue pair defers it) rather than going
 * to a worker; the rest of a batch's share goes to the workers.
 */

import type { PrimitiveRequest } from '../../core/driver/index.js';

const BUDGET_MS = 5;
/** Private RSA operations above this size take milliseconds: never on the calling thread. */
const MAX_INLINE_PRIVATE_RSA_BITS = 4096;

export class InlinePolicy {
  readonly enabled: boolean;
  #spentMs = 0;
  #resetScheduled = false;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /** Whether `request` is a job for the calling thread (the caller checks pool idleness and the budget). */
  suits(request: PrimitiveRequest): boolean {
    if (!this.enabled) return false;
    switch (request.op) {
      case 'keygen':
        return false;
      case 'rsa-private':
      case 'rsa-sign':
      case 'rsa-decrypt':
        return request.key.publicKey.bits <= MAX_INLINE_PRIVATE_RSA_BITS;
      case 'ecdsa-verify':
        return request.message !== undefined;
      case 'ec-mul':
        return request.point === undefined;
      default:
        return true;
    }
  }

  /**
   * How many jobs of a batch of `count` the calling thread keeps: its even share
   * beside `poolThreads` pool threads. The calling thread works as one more pool
   * thread, so the device needs one worker fewer than there are CPUs; with a
   * worker per CPU as well, three threads took turns on two CPUs and the
   * switching cost 6–12 µs per ECDSA signature (measured with
   * `npm run bench -- software`), more than the hand-off saved.
   */
  shareOf(count: number, poolThreads: number): number {
    return this.enabled ? Math.floor(count / (poolThreads + 1)) : 0;
  }

  /** Whether this turn of the event loop still has budget for inline work. */
  get hasBudget(): boolean {
    return this.#spentMs < BUDGET_MS;
  }

  /** Account for `ms` of work done on the calling thread in this turn of the event loop. */
  spent(ms: number): void {
    this.#spentMs += ms;
    if (!this.#resetScheduled) {
      this.#resetScheduled = true;
      setImmediate(() => {
        this.#spentMs = 0;
        this.#resetScheduled = false;
      });
    }
  }
}
