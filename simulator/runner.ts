/**
 * Hosts one device model on the current thread (the worker's, or the caller's in
 * inline mode): builds its ModelHost over the shared card memory, applies posted
 * register writes, and runs its scheduled work until the card is removed or stopped.
 */

import {
  DMA_FAULTS,
  FIFO_BASE,
  FIFO_ENTRIES,
  FIFO_ENTRY_WORDS,
  HEAD,
  IRQ_BASE,
  MAX_VECTORS,
  OPERATIONS,
  REMOVED,
  type SharedCard,
  STOP,
  TAIL,
} from './control.js';
import { DeviceDma } from './dma.js';
import { FaultSchedule } from './faults.js';
import type { DeviceModel, ModelDefinition, ModelHost } from './model.js';

type Scheduled =
  | { readonly immediate: ReturnType<typeof setImmediate> }
  | { readonly timeout: ReturnType<typeof setTimeout> };

export class ModelRunner {
  readonly model: DeviceModel;
  readonly #control: Int32Array;
  readonly #timers = new Set<Scheduled>();
  #reportedError = false;

  constructor(definition: ModelDefinition, shared: SharedCard, options: Readonly<Record<string, string>>) {
    const control = new Int32Array(shared.control);
    this.#control = control;
    const bars = new Map<number, DataView>();
    for (const [index, sab] of Object.entries(shared.bars)) bars.set(Number(index), new DataView(sab));
    const dma = new DeviceDma(shared.arena, () => Atomics.add(control, DMA_FAULTS, 1));
    const faults = FaultSchedule.fromOptions(options);
    const host: ModelHost = {
      bar: (index) => {
        const view = bars.get(index);
        if (!view) throw new RangeError(`model has no BAR ${index}`);
        return view;
      },
      dma,
      raiseIrq: (vector) => {
        if (vector < 0 || vector >= MAX_VECTORS)
          throw new RangeError(`interrupt vector ${vector} out of range`);
        if (this.stopped) return;
        Atomics.add(control, IRQ_BASE + vector, 1);
        Atomics.notify(control, IRQ_BASE + vector);
      },
      now: () => performance.now(),
      schedule: (delayMs, work) => this.#schedule(delayMs, work),
      nextFault: () => {
        Atomics.add(control, OPERATIONS, 1);
        return faults.next();
      },
      remove: () => {
        Atomics.store(control, REMOVED, 1);
        Atomics.notify(control, REMOVED);
        // Wake a host read waiting for the FIFO: it must see all-ones now.
        Atomics.notify(control, TAIL);
      },
      options,
    };
    this.model = definition.create(host);
    this.model.reset();
  }

  /** True once the card is removed or closed: the model does nothing more. */
  get stopped(): boolean {
    return Atomics.load(this.#control, REMOVED) !== 0 || Atomics.load(this.#control, STOP) !== 0;
  }

  /** Deliver one register write to the model (inline mode calls this directly). */
  apply(bar: number, offset: number, width: 1 | 2 | 4 | 8, value: bigint): void {
    if (this.stopped) return;
    this.#guard(() => this.model.onWrite(bar, offset, width, value));
  }

  /** Apply every posted write in the FIFO, in order; returns how many. */
  drainFifo(): number {
    const c = this.#control;
    let tail = Atomics.load(c, TAIL);
    const head = Atomics.load(c, HEAD);
    let applied = 0;
    while (tail !== head) {
      const at = FIFO_BASE + ((tail >>> 0) % FIFO_ENTRIES) * FIFO_ENTRY_WORDS;
      const bar = c[at]!;
      const offset = c[at + 1]!;
      const width = c[at + 2]! as 1 | 2 | 4 | 8;
      const value = (BigInt(c[at + 4]! >>> 0) << 32n) | BigInt(c[at + 3]! >>> 0);
      this.apply(bar, offset, width, value);
      tail = (tail + 1) | 0;
      applied++;
    }
    if (applied > 0) {
      Atomics.store(c, TAIL, tail);
      Atomics.notify(c, TAIL);
    }
    return applied;
  }

  /** Cancel scheduled work (inline close). */
  stop(): void {
    Atomics.store(this.#control, STOP, 1);
    for (const handle of this.#timers) {
      if ('immediate' in handle) clearImmediate(handle.immediate);
      else clearTimeout(handle.timeout);
    }
    this.#timers.clear();
  }

  #schedule(delayMs: number, work: () => void): void {
    if (this.stopped) return;
    const run = () => {
      this.#timers.delete(handle);
      if (!this.stopped) this.#guard(work);
    };
    // setTimeout clamps 0 to 1 ms; "at once" must not cost a millisecond per operation.
    const handle: Scheduled =
      delayMs <= 0 ? { immediate: setImmediate(run) } : { timeout: setTimeout(run, delayMs) };
    this.#timers.add(handle);
  }

  /** A model bug must not kill the thread silently: report once, keep the card running. */
  #guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      if (!this.#reportedError) {
        this.#reportedError = true;
        process.emitWarning(
          `simulated device model threw: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}
