/**
 * The contract between the simulator's runner (which hosts a device model, in a
 * worker thread or inline) and a device model (one simulated card, written from
 * its datasheet in docs/hardware/).
 *
 * Register semantics: the host's register *reads* come straight from the BAR
 * memory the model keeps up to date (so reads have no side effects, and the
 * datasheets define none). Register *writes* to side-effect ranges are posted, as
 * on PCIe: they go through an ordered write FIFO and reach the model as
 * `onWrite` calls, in order. A host read waits until earlier posted writes have
 * been applied (a read flushes posted writes, as on PCIe). Writes to ranges the
 * model declares plain memory (operand RAM) land in the BAR memory directly.
 */

import type { PciIdentity } from '../core/platform/pci.js';

/** One BAR of a model. */
export interface BarLayout {
  /** Size in bytes (a power of two, at least 4096). */
  readonly size: number;
  /**
   * Byte ranges that are plain memory: host writes land there directly, with no
   * `onWrite` call (operand RAM, mailboxes). Everything else is a register range.
   */
  readonly plainRanges?: readonly { readonly offset: number; readonly size: number }[];
}

/** What a model is, before it runs: identity, BARs and interrupts. */
export interface ModelLayout {
  readonly identity: PciIdentity;
  /** BARs by index. */
  readonly bars: Readonly<Record<number, BarLayout>>;
  /** Interrupt delivery the model's card has. */
  readonly irq: { readonly kind: 'msix' | 'msi' | 'intx' | 'none'; readonly vectors: number };
  /** Bytes of DMA memory the platform should give the card's driver (0 for cards without DMA). */
  readonly dmaArenaBytes: number;
  /**
   * PCI capabilities the card lists in config space, in order from offset 0x40
   * (virtio devices describe their register layout this way). Each entry is one
   * whole capability: byte 0 is its ID; byte 1 (next pointer) is filled in by the platform.
   */
  readonly configCapabilities?: readonly Uint8Array[];
}

/** A fault the model should inject now (see simulator/faults.ts for the schedule). */
export type FaultKind =
  | 'error-status'
  | 'drop-completion'
  | 'duplicate-completion'
  | 'delay-completion'
  | 'corrupt-result'
  | 'hang'
  | 'surprise-removal'
  | 'garbage-completion';

/** What the runner gives a model: its memory, the DMA arena, interrupts, time and the fault schedule. */
export interface ModelHost {
  /** The BAR's memory as the host reads it; the model writes its register values here. */
  bar(index: number): DataView;
  /** Device-side DMA: bounds-checked against the arena; an access outside throws a DmaFault (the model must then report an error, like a real IOMMU fault). */
  readonly dma: {
    read(busAddress: bigint, length: number): Uint8Array;
    write(busAddress: bigint, data: Uint8Array): void;
    /**
     * Hot paths (one descriptor per operation): the arena offset of `length` bytes at a bus
     * address given as a number, bounds-checked like read/write (DmaFault outside); then read
     * and write `arena`/`arenaView` at that offset directly, with no copy and no bigint.
     */
    offsetOf(busAddress: number, length: number): number;
    readonly arena: Uint8Array;
    readonly arenaView: DataView;
  };
  /** Assert interrupt `vector` (edge: one event per call). */
  raiseIrq(vector: number): void;
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Run `work` after `delayMs` on the model's thread (timed engines, delayed completions). */
  schedule(delayMs: number, work: () => void): void;
  /** Ask the fault schedule whether to inject a fault on this operation; returns the fault or undefined. */
  nextFault(): FaultKind | undefined;
  /** Make the device vanish: every later host access sees all-ones and `removed` resolves. */
  remove(): void;
  /** Options from the device spec's query string (`sim:ring?engines=8&engine=timed`). */
  readonly options: Readonly<Record<string, string>>;
}

/** A simulated card. One instance per simulated device; runs on one thread. */
export interface DeviceModel {
  readonly layout: ModelLayout;
  /** Called once, before any write, and on every function-level reset. */
  reset(): void;
  /** A posted register write reached the device. `value` holds `width` bytes (1, 2, 4 or 8). */
  onWrite(bar: number, offset: number, width: 1 | 2 | 4 | 8, value: bigint): void;
}

/**
 * A model module (simulator/models/<name>.ts) default-exports one of these; the
 * runner imports it by name, in the worker or inline.
 */
export interface ModelDefinition {
  /** The spec target that names it: `sim:<name>`. */
  readonly name: string;
  /** The card's layout for these spec options (queue count, arena size, …). */
  layout(options: Readonly<Record<string, string>>): ModelLayout;
  create(host: ModelHost): DeviceModel;
}
