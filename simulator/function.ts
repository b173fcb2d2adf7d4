/**
 * One opened simulated card, as a PciFunction: BARs over SharedArrayBuffers, the
 * DMA arena, interrupts, surprise removal and re-insertion (docs/hardware/simulator.md). The model runs on a worker thread
 * (default) or inline on the caller's thread (`mode=inline`).
 */

import type { Worker } from 'node:worker_threads';
import { InvalidInputError } from '../core/driver/errors.js';
import type { Irq } from '../core/platform/irq.js';
import type { Mmio } from '../core/platform/mmio.js';
import type { IrqSupport, PciConfigSpace, PciFunction, PciFunctionInfo } from '../core/platform/pci.js';
import { spawnWorker } from '../core/platform/worker.js';
import { SimConfigSpace } from './config-space.js';
import {
  createSharedCard,
  DMA_BUS_BASE,
  DMA_FAULTS,
  HEAD,
  INSERTIONS,
  OPERATIONS,
  POWER_ON,
  REMOVED,
  type SharedCard,
  STOP,
} from './control.js';
import { ArenaAllocator } from './dma.js';
import { reinsertDelayMs } from './faults.js';
import { SimIrq } from './irq.js';
import { SimMmio, type WritePort } from './mmio.js';
import type { DeviceModel, ModelDefinition, ModelLayout } from './model.js';
import { FifoPort, InlinePort } from './ports.js';
import { ModelRunner } from './runner.js';
import { waitAsync } from './wait-async.js';
import { holdWhileWaiting, WorkerRef } from './worker-ref.js';
import type { WorkerInit } from './worker-runner.js';

export type RunMode = 'worker' | 'inline';

/** What tests and benchmarks may see of a simulated card beyond the PciFunction contract. */
export interface SimulatorHandleShape {
  readonly model: string;
  readonly mode: RunMode;
  readonly layout: ModelLayout;
  /** The whole DMA arena as the host sees it (to scan for key material). */
  readonly arena: Uint8Array;
  readonly arenaBusBase: bigint;
  /** DMA accesses the model attempted outside the arena. */
  readonly dmaFaults: number;
  /** Operations the model has started (descriptors, engine runs): proof that work reached the card. */
  readonly operations: number;
  /** The model object itself, inline mode only (worker mode: undefined). */
  readonly inlineModel: DeviceModel | undefined;
  /** Make the card vanish now, as the `remove` fault does. */
  removeNow(): void;
  /**
   * Insert a removed card again, now (as the spec option `reinsert=<ms>` does after each
   * removal): it comes back in its power-on state and `removed` is a new pending promise.
   * Does nothing while the card is present; throws once it is closed or its model thread died.
   */
  reinsertNow(): void;
  /** Whether the card is in its slot (false between a removal and a re-insertion). */
  readonly present: boolean;
  /** How many times the card was inserted again. */
  readonly insertions: number;
}

/**
 * The handle behind `SimPciFunction.sim`. Everything is a prototype getter, so
 * printing a card (a test failure message) never dumps its megabytes of arena.
 */
export class SimHandle implements SimulatorHandleShape {
  readonly #model: string;
  readonly #mode: RunMode;
  readonly #layout: ModelLayout;
  readonly #shared: SharedCard;
  readonly #control: Int32Array;
  readonly #inline: DeviceModel | undefined;
  readonly #remove: () => void;
  readonly #reinsert: () => void;

  constructor(
    model: string,
    mode: RunMode,
    layout: ModelLayout,
    shared: SharedCard,
    inline: DeviceModel | undefined,
    remove: () => void,
    reinsert: () => void,
  ) {
    this.#model = model;
    this.#mode = mode;
    this.#layout = layout;
    this.#shared = shared;
    this.#control = new Int32Array(shared.control);
    this.#inline = inline;
    this.#remove = remove;
    this.#reinsert = reinsert;
  }
  get model(): string {
    return this.#model;
  }
  get mode(): RunMode {
    return this.#mode;
  }
  get layout(): ModelLayout {
    return this.#layout;
  }
  get arena(): Uint8Array {
    return new Uint8Array(this.#shared.arena);
  }
  get arenaBusBase(): bigint {
    return DMA_BUS_BASE;
  }
  get dmaFaults(): number {
    return Atomics.load(this.#control, DMA_FAULTS);
  }
  get operations(): number {
    return Atomics.load(this.#control, OPERATIONS);
  }
  get inlineModel(): DeviceModel | undefined {
    return this.#inline;
  }
  removeNow(): void {
    this.#remove();
  }
  reinsertNow(): void {
    this.#reinsert();
  }
  get present(): boolean {
    return Atomics.load(this.#control, REMOVED) === 0;
  }
  get insertions(): number {
    return Atomics.load(this.#control, INSERTIONS);
  }
}

const workerUrl = new URL(
  `./worker-runner${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

export class SimPciFunction implements PciFunction {
  readonly info: PciFunctionInfo;
  readonly config: PciConfigSpace;
  readonly dma: ArenaAllocator;
  readonly irqSupport: IrqSupport;
  readonly sim: SimHandle;
  readonly #layout: ModelLayout;
  readonly #shared: SharedCard;
  readonly #control: Int32Array;
  readonly #port: WritePort;
  readonly #bars = new Map<number, SimMmio>();
  readonly #irqs = new Map<number, SimIrq>();
  readonly #worker: WorkerRef | undefined;
  readonly #runner: ModelRunner | undefined;
  readonly #onClose: () => void;
  #closed = false;
  /** The model thread died: the card cannot come back. */
  #dead = false;
  /** Resolves at the current removal; a new one after each re-insertion. */
  #removed: Promise<void>;
  /** `reinsert=<ms>`: insert the card again this long after each removal. */
  #reinsertMs: number | undefined;
  #reinsertTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    address: string,
    layout: ModelLayout,
    shared: SharedCard,
    mode: RunMode,
    model: string,
    worker: Worker | undefined,
    runner: ModelRunner | undefined,
    onClose: () => void,
  ) {
    this.info = { ...layout.identity, address };
    this.#layout = layout;
    this.#shared = shared;
    this.#control = new Int32Array(shared.control);
    // An idle card's thread does not keep the process alive (see WorkerRef).
    this.#worker = worker ? new WorkerRef(worker) : undefined;
    this.#runner = runner;
    this.#onClose = onClose;
    const barSizes: Record<number, number> = {};
    for (const [index, bar] of Object.entries(layout.bars)) barSizes[Number(index)] = bar.size;
    this.config = new SimConfigSpace(
      layout.identity,
      barSizes,
      () => this.#isRemoved(),
      layout.configCapabilities,
    );
    this.dma = new ArenaAllocator(shared.arena);
    this.irqSupport = { kind: layout.irq.kind, vectors: layout.irq.vectors };
    this.#port = runner
      ? new InlinePort(shared.control, runner)
      : new FifoPort(shared.control, () => this.#markRemoved());
    this.#removed = this.#watchRemoval();
    this.sim = new SimHandle(
      model,
      mode,
      layout,
      shared,
      runner?.model,
      () => this.#markRemoved(),
      () => this.#reinsert(),
    );
    worker?.on('error', () => {
      this.#dead = true;
      this.#markRemoved();
    });
    worker?.on('exit', () => {
      this.#dead = true;
      if (!this.#closed) this.#markRemoved();
    });
  }

  /** Open a card: lay out its memory and start its model (on a worker unless inline). */
  static async open(
    definition: ModelDefinition,
    modelUrl: URL,
    options: Readonly<Record<string, string>>,
    address: string,
    onClose: () => void,
  ): Promise<SimPciFunction> {
    const mode = options.mode ?? 'worker';
    if (mode !== 'worker' && mode !== 'inline') {
      throw new InvalidInputError(`bad simulator mode "${mode}": expected worker or inline`);
    }
    const reinsertMs = reinsertDelayMs(options);
    const layout = definition.layout(options);
    const barSizes: Record<number, number> = {};
    for (const [index, bar] of Object.entries(layout.bars)) barSizes[Number(index)] = bar.size;
    const shared = createSharedCard(barSizes, layout.dmaArenaBytes);
    const withReinsert = (fn: SimPciFunction): SimPciFunction => {
      fn.#reinsertMs = reinsertMs;
      fn.#autoReinsert();
      return fn;
    };
    if (mode === 'inline') {
      const runner = new ModelRunner(definition, shared, options);
      return withReinsert(
        new SimPciFunction(address, layout, shared, mode, definition.name, undefined, runner, onClose),
      );
    }
    const init: WorkerInit = { model: definition.name, modelUrl: modelUrl.href, shared, options };
    const worker = spawnWorker(workerUrl, { workerData: init });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: { type: string; message?: string }) => {
        cleanup();
        if (message.type === 'ready') resolve();
        else
          reject(
            new Error(
              `simulated ${definition.name} card failed to start: ${message.message ?? 'unknown error'}`,
            ),
          );
      };
      const onError = (error: Error) => {
        cleanup();
        reject(
          new Error(`simulated ${definition.name} card failed to start: ${error.message}`, { cause: error }),
        );
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return withReinsert(
      new SimPciFunction(address, layout, shared, mode, definition.name, worker, undefined, onClose),
    );
  }

  /**
   * Resolves when the card disappears (surprise removal); never rejects. After a
   * re-insertion this is a new promise, pending until the next removal.
   */
  get removed(): Promise<void> {
    return this.#removed;
  }

  /** Insert the removed card again: REMOVED cleared, the model powered on in its reset state. */
  #reinsert(): void {
    if (this.#closed || this.#dead) {
      throw new Error(
        `simulated card ${this.info.address} cannot be inserted again: it is ${this.#closed ? 'closed' : 'dead'}`,
      );
    }
    if (!this.#isRemoved()) return;
    if (this.#reinsertTimer !== undefined) clearTimeout(this.#reinsertTimer);
    this.#reinsertTimer = undefined;
    Atomics.add(this.#control, INSERTIONS, 1);
    Atomics.store(this.#control, REMOVED, 0);
    this.#removed = this.#watchRemoval();
    // Ordered after every write posted before: the model starts from its power-on state.
    this.#port.post(POWER_ON, 0, 4, 0n);
    this.#port.flush();
  }

  /** With `reinsert=<ms>`: each removal is followed by a re-insertion that long after. */
  #autoReinsert(): void {
    const ms = this.#reinsertMs;
    if (ms === undefined) return;
    void this.#removed.then(() => {
      if (this.#closed || this.#dead) return;
      this.#reinsertTimer = setTimeout(() => {
        this.#reinsertTimer = undefined;
        if (this.#closed || this.#dead) return;
        this.#reinsert();
        this.#autoReinsert();
      }, ms);
      // A card waiting to come back does not keep the process alive.
      this.#reinsertTimer.unref?.();
    });
  }

  bar(index: number): Mmio {
    const layout = this.#layout.bars[index];
    const memory = this.#shared.bars[index];
    if (!layout || !memory) throw new RangeError(`simulated card ${this.info.address} has no BAR ${index}`);
    let mmio = this.#bars.get(index);
    if (!mmio) {
      mmio = new SimMmio(index, memory, layout.plainRanges ?? [], this.#port);
      this.#bars.set(index, mmio);
    }
    return mmio;
  }

  openIrq(vector: number): Irq {
    if (this.#closed) throw new Error(`simulated card ${this.info.address} is closed`);
    if (!Number.isInteger(vector) || vector < 0 || vector >= this.irqSupport.vectors) {
      throw new RangeError(
        `simulated card ${this.info.address} has ${this.irqSupport.vectors} interrupt vectors; ${vector} is out of range`,
      );
    }
    if (this.#irqs.has(vector)) throw new Error(`interrupt vector ${vector} is already open`);
    const irq = new SimIrq(this.#shared.control, vector, () => this.#irqs.delete(vector));
    this.#irqs.set(vector, irq);
    return this.#worker ? holdWhileWaiting(irq, this.#worker) : irq;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reinsertTimer !== undefined) clearTimeout(this.#reinsertTimer);
    for (const irq of [...this.#irqs.values()]) irq.close();
    Atomics.store(this.#control, STOP, 1);
    Atomics.notify(this.#control, HEAD);
    // Release the removal watcher's Atomics.waitAsync; `removed` stays pending (the card was not removed).
    Atomics.notify(this.#control, REMOVED);
    this.#runner?.stop();
    if (this.#worker) await this.#worker.terminate();
    this.dma.close();
    this.#onClose();
  }

  #isRemoved(): boolean {
    return Atomics.load(this.#control, REMOVED) !== 0;
  }

  #markRemoved(): void {
    Atomics.store(this.#control, REMOVED, 1);
    Atomics.notify(this.#control, REMOVED);
  }

  async #watchRemoval(): Promise<void> {
    for (;;) {
      if (this.#isRemoved()) return;
      if (this.#closed) return new Promise<void>(() => {});
      const pending = waitAsync(this.#control, REMOVED, 0);
      if (pending.async) await pending.value;
    }
  }
}
