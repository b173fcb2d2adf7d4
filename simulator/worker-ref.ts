/**
 * When a simulated card's worker thread keeps the host process alive: like
 * node's own thread pool, only while the host waits for something from it. An
 * idle card (nobody waiting for its interrupt) never keeps the process alive, so a
 * script that never closes its accelerator still ends; a host waiting for an
 * interrupt is kept alive by the card that will raise it (the native platform
 * references its interrupt's uv_poll handle the same way); and `terminate()` keeps
 * a reference until the thread has exited, so `await close()` always settles
 * (awaiting `Worker.terminate()` on an unreferenced worker with nothing else on the
 * event loop lets the process exit first, with code 13 under top-level await).
 */

import type { Worker } from 'node:worker_threads';
import type { Irq } from '../core/platform/irq.js';

export class WorkerRef {
  readonly #worker: Worker;
  /** Waits in progress that keep the process alive. */
  #holds = 0;
  #terminating: Promise<void> | undefined;

  /** Takes over the worker's reference: from now on it is unreferenced while nobody holds it. */
  constructor(worker: Worker) {
    this.#worker = worker;
    worker.unref();
  }

  /** Keep the process alive until the matching `release()`. */
  hold(): void {
    if (this.#holds++ === 0 && this.#terminating === undefined) this.#worker.ref();
  }

  release(): void {
    if (this.#holds === 0) return;
    if (--this.#holds === 0 && this.#terminating === undefined) this.#worker.unref();
  }

  /** Stop the thread; resolves once it has exited, holding the process until then. Idempotent. */
  terminate(): Promise<void> {
    if (this.#terminating === undefined) {
      this.#worker.ref();
      this.#terminating = this.#worker.terminate().then(() => undefined);
    }
    return this.#terminating;
  }
}

/** `irq` whose pending `wait()` holds `ref`: the host is waiting for the card to raise it. */
export function holdWhileWaiting(irq: Irq, ref: WorkerRef): Irq {
  return {
    vector: irq.vector,
    async wait(signal?: AbortSignal): Promise<number> {
      ref.hold();
      try {
        return await irq.wait(signal);
      } finally {
        ref.release();
      }
    },
    enable: () => irq.enable(),
    disable: () => irq.disable(),
    unmask: () => irq.unmask(),
    close: () => irq.close(),
  };
}
