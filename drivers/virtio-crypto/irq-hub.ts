/**
 * Shares one interrupt vector among every waiter of a device (its queue pairs
 * and control path): one `Irq.wait` runs while anyone waits, and each event wakes
 * them all after the device-level service step (ISR read, INTx unmask, status check).
 */

import { AbortedError, DeviceGoneError } from '../../core/driver/index.js';
import type { Irq } from '../../core/platform/index.js';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class IrqHub {
  readonly #waiters = new Set<Waiter>();
  #running = false;
  #inner: AbortController | undefined;
  #closed = false;

  constructor(
    private readonly irq: Irq,
    /** Called once per interrupt, before waiters wake. */
    private readonly service: () => void,
  ) {}

  /** Resolves after the next interrupt (one that fired since the last one serviced counts). */
  next(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new DeviceGoneError('virtio-crypto: interrupt closed'));
    if (signal?.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(new AbortedError(undefined, { cause: signal?.reason }));
        if (this.#waiters.size === 0) this.#inner?.abort();
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
      if (!this.#running) void this.#loop();
    });
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiters.size > 0 && !this.#closed) {
        const inner = new AbortController();
        this.#inner = inner;
        try {
          await this.irq.wait(inner.signal);
        } catch (error) {
          if (inner.signal.aborted && !this.#closed) continue; // every waiter left; re-check
          this.#settle((w) =>
            w.reject(
              error instanceof DeviceGoneError
                ? error
                : new DeviceGoneError('virtio-crypto: interrupt lost', { cause: error }),
            ),
          );
          return;
        }
        this.service();
        this.#settle((w) => w.resolve());
      }
    } finally {
      this.#running = false;
      this.#inner = undefined;
    }
  }

  #settle(action: (w: Waiter) => void): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) action(w);
  }

  /** Wake every waiter with an error (device gone or closed). */
  fail(error: unknown): void {
    this.#settle((w) => w.reject(error));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inner?.abort();
    this.fail(new DeviceGoneError('virtio-crypto: device closed'));
    this.irq.close();
  }
}
