/**
 * A simulated interrupt vector: the model bumps a counter in the shared control
 * block and notifies it; the host awaits it with Atomics.waitAsync. Events are
 * counted while nobody waits or while the vector is disabled.
 */

import { AbortedError, DeviceGoneError } from '../core/driver/errors.js';
import type { Irq } from '../core/platform/irq.js';
import { IRQ_BASE } from './control.js';
import { waitAsync } from './wait-async.js';

export class SimIrq implements Irq {
  readonly vector: number;
  readonly #c: Int32Array;
  readonly #index: number;
  readonly #onClose: () => void;
  /** Counter value up to which events have been handed to a wait. */
  #seen: number;
  #enabled = true;
  #closed = false;
  #waiting = false;
  /** Wakes the pending wait for a reason other than the counter (enable, close, abort). */
  #nudge: (() => void) | undefined;

  constructor(control: SharedArrayBuffer, vector: number, onClose: () => void) {
    this.vector = vector;
    this.#c = new Int32Array(control);
    this.#index = IRQ_BASE + vector;
    this.#onClose = onClose;
    // Events before the vector was opened belong to nobody.
    this.#seen = Atomics.load(this.#c, this.#index);
  }

  async wait(signal?: AbortSignal): Promise<number> {
    if (this.#closed) throw new DeviceGoneError(`interrupt vector ${this.vector} is closed`);
    if (this.#waiting) throw new Error(`interrupt vector ${this.vector} already has a pending wait`);
    this.#waiting = true;
    try {
      for (;;) {
        if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
        if (this.#closed)
          throw new DeviceGoneError(`interrupt vector ${this.vector} was closed while waiting`);
        const count = Atomics.load(this.#c, this.#index);
        if (this.#enabled && count !== this.#seen) {
          const events = (count - this.#seen) >>> 0;
          this.#seen = count;
          return events;
        }
        await this.#sleep(count, signal);
      }
    } finally {
      this.#waiting = false;
    }
  }

  #sleep(count: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.#nudge = undefined;
        signal?.removeEventListener('abort', nudge);
        resolve();
      };
      const nudge = () => {
        finish();
        // Release the dangling Atomics.waitAsync too (spurious wake-ups are harmless: wait() re-checks).
        Atomics.notify(this.#c, this.#index);
      };
      this.#nudge = nudge;
      signal?.addEventListener('abort', nudge, { once: true });
      const pending = waitAsync(this.#c, this.#index, count);
      if (pending.async) void pending.value.then(finish);
      else finish();
    });
  }

  enable(): void {
    this.#enabled = true;
    this.#nudge?.();
  }

  disable(): void {
    this.#enabled = false;
  }

  unmask(): void {
    // MSI-X style edge events: nothing to re-arm.
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#nudge?.();
    this.#onClose();
  }
}
