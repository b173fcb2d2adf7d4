/**
 * The two ways register writes reach a model: through the posted-write FIFO to a
 * model on its worker thread, or by a direct call to a model on the caller's
 * thread (inline mode, for deterministic unit tests).
 */

import {
  FIFO_BASE,
  FIFO_ENTRIES,
  FIFO_ENTRY_WORDS,
  HEAD,
  MODEL_WAITING,
  REMOVED,
  TAIL,
  WAITING,
} from './control.js';
import type { WritePort } from './mmio.js';
import type { ModelRunner } from './runner.js';

/** How long a host access waits for the model thread before declaring the card dead. */
const MODEL_STALL_MS = 10_000;

export class FifoPort implements WritePort {
  readonly #c: Int32Array;
  readonly #onDead: () => void;

  constructor(control: SharedArrayBuffer, onDead: () => void) {
    this.#c = new Int32Array(control);
    this.#onDead = onDead;
  }

  get removed(): boolean {
    return Atomics.load(this.#c, REMOVED) !== 0;
  }

  post(bar: number, offset: number, width: 1 | 2 | 4 | 8, value: bigint): void {
    this.#post(bar, offset, width, Number(value & 0xffffffffn) | 0, Number((value >> 32n) & 0xffffffffn) | 0);
  }

  post32(bar: number, offset: number, value: number): void {
    this.#post(bar, offset, 4, value | 0, 0);
  }

  #post(bar: number, offset: number, width: 1 | 2 | 4 | 8, low: number, high: number): void {
    const c = this.#c;
    if (this.removed) return;
    const head = Atomics.load(c, HEAD);
    // The FIFO is full: wait for the model to drain some of it (a PCIe link applies back-pressure too).
    if (
      ((head - Atomics.load(c, TAIL)) | 0) >= FIFO_ENTRIES &&
      !this.#waitTail((tail) => ((head - tail) | 0) < FIFO_ENTRIES)
    )
      return;
    const at = FIFO_BASE + ((head >>> 0) % FIFO_ENTRIES) * FIFO_ENTRY_WORDS;
    c[at] = bar;
    c[at + 1] = offset;
    c[at + 2] = width;
    c[at + 3] = low;
    c[at + 4] = high;
    Atomics.store(c, HEAD, (head + 1) | 0);
    // Wake a waiting model once: taking the flag back means the writes right after this one (a
    // CQ head, then a doorbell) do not each pay for a futex wake-up. Safe either way round: a
    // model that has not slept yet re-reads HEAD after announcing its wait (see MODEL_WAITING).
    if (Atomics.compareExchange(c, MODEL_WAITING, WAITING, 0) === WAITING) Atomics.notify(c, HEAD);
  }

  flush(): void {
    const head = Atomics.load(this.#c, HEAD);
    if (Atomics.load(this.#c, TAIL) !== head) this.#waitTail((tail) => tail === head);
  }

  fence(): void {
    // Any Atomics operation is sequentially consistent: plain accesses on either side stay on their side.
    Atomics.load(this.#c, HEAD);
  }

  /** Block (Atomics.wait) until `done(tail)`; false if the card went away or its thread stalled. */
  #waitTail(done: (tail: number) => boolean): boolean {
    const c = this.#c;
    const deadline = performance.now() + MODEL_STALL_MS;
    for (;;) {
      if (this.removed) return false;
      const tail = Atomics.load(c, TAIL);
      if (done(tail)) return true;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.#onDead();
        return false;
      }
      Atomics.wait(c, TAIL, tail, Math.min(left, 100));
    }
  }
}

export class InlinePort implements WritePort {
  readonly #c: Int32Array;
  readonly #runner: ModelRunner;

  constructor(control: SharedArrayBuffer, runner: ModelRunner) {
    this.#c = new Int32Array(control);
    this.#runner = runner;
  }

  get removed(): boolean {
    return Atomics.load(this.#c, REMOVED) !== 0;
  }

  post(bar: number, offset: number, width: 1 | 2 | 4 | 8, value: bigint): void {
    this.#runner.apply(bar, offset, width, value);
  }

  post32(bar: number, offset: number, value: number): void {
    this.#runner.apply(bar, offset, 4, BigInt(value >>> 0));
  }

  flush(): void {}

  fence(): void {}
}
