/**
 * An opened PCI function, whatever the mode: BAR windows opened once and cached,
 * DMA memory, interrupts, the config space, removal detection, and one close()
 * that releases all of it in reverse order. The modes (sysfs, uio, vfio) supply the
 * pieces through `FunctionParts`.
 */
import { existsSync } from 'node:fs';
import type { DmaAllocator, Irq, IrqSupport, PciConfigSpace, PciFunction } from './contracts.js';
import type { ErrorClasses } from './errors.js';
import type { MappedWindow } from './mmio.js';
import type { NativePciFunctionInfo } from './sysfs.js';

export type OpenMode = 'vfio' | 'uio' | 'sysfs';

/** What an opened interrupt tells its function: the device went away; the Irq was closed. */
export interface IrqHooks {
  onGone(error: Error): void;
  onClose(): void;
}

export interface FunctionParts {
  readonly mode: OpenMode;
  readonly info: NativePciFunctionInfo;
  readonly config: PciConfigSpace;
  readonly dma: DmaAllocator;
  readonly irqSupport: IrqSupport;
  mapBar(index: number): MappedWindow;
  openIrq(vector: number, hooks: IrqHooks): Irq;
  /** Release what the mode opened (fds, containers), after BARs, IRQs and DMA are closed. */
  close(): void;
}

/** How often to look whether the function is still in sysfs. */
const REMOVAL_POLL_MS = 1000;

export class NativePciFunction implements PciFunction {
  readonly mode: OpenMode;
  readonly info: NativePciFunctionInfo;
  readonly config: PciConfigSpace;
  readonly dma: DmaAllocator;
  readonly irqSupport: IrqSupport;
  readonly removed: Promise<void>;
  readonly #parts: FunctionParts;
  readonly #errors: ErrorClasses;
  readonly #bars = new Map<number, MappedWindow>();
  readonly #irqs = new Map<number, Irq>();
  readonly #watch: NodeJS.Timeout;
  #markRemoved!: () => void;
  #closed = false;

  constructor(parts: FunctionParts, errors: ErrorClasses) {
    this.#parts = parts;
    this.#errors = errors;
    this.mode = parts.mode;
    this.info = parts.info;
    this.config = parts.config;
    this.dma = parts.dma;
    this.irqSupport = parts.irqSupport;
    this.removed = new Promise<void>((resolve) => {
      this.#markRemoved = resolve;
    });
    this.#watch = setInterval(() => {
      if (!existsSync(parts.info.sysfsPath)) this.#gone();
    }, REMOVAL_POLL_MS);
    this.#watch.unref(); // watching never keeps the process alive
  }

  bar(index: number): MappedWindow {
    this.#assertOpen();
    if (!Number.isInteger(index) || index < 0 || index > 5)
      throw new RangeError(`BAR index must be 0–5, got ${index}`);
    let window = this.#bars.get(index);
    if (window === undefined || window.closed) {
      const bar = this.info.bars.find((b) => b.index === index);
      if (!bar) throw new this.#errors.UnsupportedError(`${this.info.address} has no BAR ${index}`);
      if (bar.kind !== 'memory')
        throw new this.#errors.UnsupportedError(`${this.info.address} BAR ${index} is I/O space, not memory`);
      window = this.#parts.mapBar(index);
      this.#bars.set(index, window);
    }
    return window;
  }

  openIrq(vector: number): Irq {
    this.#assertOpen();
    const { kind, vectors } = this.irqSupport;
    if (!Number.isInteger(vector) || vector < 0 || vector >= vectors)
      throw new RangeError(
        `${this.info.address} has ${vectors} ${kind} interrupt vector(s); asked for ${vector}`,
      );
    if (this.#irqs.has(vector))
      throw new Error(`interrupt vector ${vector} of ${this.info.address} is already open`);
    const irq = this.#parts.openIrq(vector, {
      onGone: () => this.#gone(),
      // closed by its user: forget it, so the vector can be opened again
      onClose: () => this.#irqs.delete(vector),
    });
    this.#irqs.set(vector, irq);
    return irq;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watch);
    const failures: unknown[] = [];
    const attempt = (f: () => void) => {
      try {
        f();
      } catch (error) {
        failures.push(error);
      }
    };
    for (const irq of [...this.#irqs.values()]) attempt(() => irq.close());
    for (const window of this.#bars.values()) if (!window.closed) attempt(() => window.close());
    attempt(() => this.dma.close());
    attempt(() => this.#parts.close());
    if (failures.length > 0)
      throw new AggregateError(failures, `closing ${this.info.address} failed in part`);
  }

  #gone(): void {
    clearInterval(this.#watch);
    this.#markRemoved();
  }

  #assertOpen(): void {
    if (this.#closed) throw new this.#errors.DeviceGoneError(`${this.info.address} is closed`);
  }
}
