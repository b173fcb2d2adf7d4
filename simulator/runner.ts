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
  POWER_ON,
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

/**
 * How scheduled work is timed. `event-loop` (inline mode): Node timers on the caller's thread.
 * `virtual` (worker mode): a due-time queue that the worker loop runs against a high-resolution
 * clock (runDue / msUntilNextDue), so service times far below a timer's millisecond are kept.
 */
export type ClockMode = 'event-loop' | 'virtual';

/** One piece of scheduled work on the virtual clock. */
interface Due {
  readonly at: number;
  /** Insertion order: work due at the same instant runs in the order it was scheduled. */
  readonly seq: number;
  readonly work: () => void;
}

/** A binary min-heap of due work by (at, seq). */
class DueQueue {
  readonly #heap: Due[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  get nextAt(): number {
    return this.#heap.length > 0 ? this.#heap[0]!.at : Number.POSITIVE_INFINITY;
  }

  push(at: number, work: () => void): void {
    const heap = this.#heap;
    const item: Due = { at, seq: this.#seq++, work };
    let i = heap.length;
    heap.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  pop(): Due | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }

  clear(): void {
    this.#heap.length = 0;
  }
}

function before(a: Due, b: Due): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export class ModelRunner {
  readonly model: DeviceModel;
  readonly #control: Int32Array;
  readonly #timers = new Set<Scheduled>();
  readonly #clock: ClockMode;
  readonly #due = new DueQueue();
  /** While due work runs: its due time, the instant work it schedules is timed from (see #schedule). */
  #runningAt: number | undefined;
  #reportedError = false;
  /**
   * Inside a worker step (drainFifo, runDue): interrupts are counted at once; a vector's waiter is
   * notified at its first event and, if more came, once more when the step ends — at most two
   * Atomics.notify per vector and step instead of one per completion (a batch of 255 null-engine
   * completions was 255). MSI-X interrupts are edge events that say "look at the CQ"
   * (ring-card.md §8): a host woken sees every entry written by then, and is woken again for the
   * rest. Per vector: 0 no event this step, 1 one (notified), 2 more (notify at the end).
   */
  #stepping = 0;
  readonly #raised = new Uint8Array(MAX_VECTORS);
  readonly #raisedList: number[] = [];

  constructor(
    definition: ModelDefinition,
    shared: SharedCard,
    options: Readonly<Record<string, string>>,
    clock: ClockMode = 'event-loop',
  ) {
    this.#clock = clock;
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
        // The event counts at once (a host looking at the counter sees it). Inside a step, the
        // first event of a vector wakes its host at once (it harvests while this thread writes
        // the rest) and the others wake it once more when the step ends (see #step).
        Atomics.add(control, IRQ_BASE + vector, 1);
        const raised = this.#stepping === 0 ? 2 : this.#raised[vector]!;
        if (raised === 0) {
          this.#raised[vector] = 1;
          this.#raisedList.push(vector);
          Atomics.notify(control, IRQ_BASE + vector);
        } else if (raised === 1) this.#raised[vector] = 2;
        else if (this.#stepping === 0) Atomics.notify(control, IRQ_BASE + vector);
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
    if (bar === POWER_ON) {
      this.#powerOn();
      return;
    }
    if (this.stopped) return;
    this.#guard(() => this.model.onWrite(bar, offset, width, value));
  }

  /** A removed card was inserted again (simulator/function.ts): work from before is gone, the model is reset. */
  #powerOn(): void {
    if (this.stopped) return;
    this.#due.clear();
    for (const handle of this.#timers) {
      if ('immediate' in handle) clearImmediate(handle.immediate);
      else clearTimeout(handle.timeout);
    }
    this.#timers.clear();
    this.#guard(() => this.model.reset());
  }

  /** Apply every posted write in the FIFO, in order; returns how many. */
  drainFifo(): number {
    return this.#step(() => this.#drain());
  }

  /** Run `work` as one step: the interrupts it raises wake their waiters when it returns. */
  #step(work: () => number): number {
    this.#stepping++;
    try {
      return work();
    } finally {
      if (--this.#stepping === 0) {
        for (const vector of this.#raisedList) {
          if (this.#raised[vector] === 2) Atomics.notify(this.#control, IRQ_BASE + vector);
          this.#raised[vector] = 0;
        }
        this.#raisedList.length = 0;
      }
    }
  }

  #drain(): number {
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

  /**
   * Virtual clock: run every piece of work due by now, in due order (work it schedules that is
   * already due runs too); returns how many ran.
   */
  runDue(): number {
    return this.#step(() => this.#runDue());
  }

  #runDue(): number {
    let ran = 0;
    let now = performance.now();
    while (this.#due.nextAt <= now) {
      const item = this.#due.pop()!;
      if (this.stopped) {
        this.#due.clear();
        break;
      }
      this.#runningAt = item.at;
      this.#guard(item.work);
      this.#runningAt = undefined;
      ran++;
      if ((ran & 63) === 0) now = performance.now();
    }
    return ran;
  }

  /** Virtual clock: milliseconds until the next scheduled work is due (Infinity when none). */
  msUntilNextDue(): number {
    return this.#due.size === 0 ? Number.POSITIVE_INFINITY : this.#due.nextAt - performance.now();
  }

  /** Cancel scheduled work (inline close). */
  stop(): void {
    Atomics.store(this.#control, STOP, 1);
    this.#due.clear();
    for (const handle of this.#timers) {
      if ('immediate' in handle) clearImmediate(handle.immediate);
      else clearTimeout(handle.timeout);
    }
    this.#timers.clear();
  }

  #schedule(delayMs: number, work: () => void): void {
    if (this.stopped) return;
    if (this.#clock === 'virtual') {
      // Work scheduled by due work is timed from that work's due instant, not from when the
      // thread got round to it: an engine that finished late starts its next operation on time,
      // so a card's modeled throughput holds however coarsely the thread wakes.
      this.#due.push((this.#runningAt ?? performance.now()) + Math.max(0, delayMs), work);
      return;
    }
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
