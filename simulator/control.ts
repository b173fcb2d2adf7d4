/**
 * The control block shared by the host side of a simulated card and the thread
 * running its model: one Int32Array over a SharedArrayBuffer holding the posted
 * write FIFO, the interrupt counters, the removal flag and the re-insertion count. Both sides index it
 * with these constants only.
 */

/** Count of register writes the host has posted (free-running, wraps at 2^31). */
export const HEAD = 0;
/** Count of posted writes the model has applied. */
export const TAIL = 1;
/** Non-zero once the card has been removed (surprise removal or a dead model thread). */
export const REMOVED = 2;
/** Non-zero once the host closed the card: the model thread stops. */
export const STOP = 3;
/** Count of DMA accesses the model attempted outside the arena. */
export const DMA_FAULTS = 4;
/** Count of operations the model started (each asks the fault schedule once). */
export const OPERATIONS = 5;
/**
 * Non-zero while the model thread waits (or is about to wait) for HEAD to move: a host post
 * notifies HEAD only then (Atomics.notify per register write is what a busy card paid for most).
 * Both sides use sequentially consistent Atomics — the model stores this then re-reads HEAD, the
 * host stores HEAD then reads this — so at least one of them sees the other's write. The host
 * takes the flag back (WAITING → 0) when it notifies, so a burst of posts wakes the model once,
 * and does not notify WAITING_BRIEFLY (the model wakes by itself within microseconds).
 */
export const MODEL_WAITING = 6;
/** MODEL_WAITING values: waiting until a post (or for due work a while away) — notify it. */
export const WAITING = 1;
/** …waiting briefly for due work: it looks at the FIFO by itself soon, a post need not wake it. */
export const WAITING_BRIEFLY = 2;
/** Count of re-insertions of a removed card (the host clears REMOVED and posts POWER_ON). */
export const INSERTIONS = 7;
/**
 * A pseudo BAR index in the posted-write FIFO: "the card was inserted again" — the runner
 * discards the model's scheduled work and resets it to its power-on state.
 */
export const POWER_ON = -1;
/** First per-vector interrupt counter (free-running event counts). */
export const IRQ_BASE = 16;
/** At most this many interrupt vectors per card. */
export const MAX_VECTORS = 48;
/** First FIFO entry. */
export const FIFO_BASE = IRQ_BASE + MAX_VECTORS;
/** Int32 words per FIFO entry: bar, offset, width, value low, value high. */
export const FIFO_ENTRY_WORDS = 5;
/** Entries in the FIFO; a host write waits while it is full. */
export const FIFO_ENTRIES = 1024;

export const CONTROL_WORDS = FIFO_BASE + FIFO_ENTRIES * FIFO_ENTRY_WORDS;

/** Base bus address of the DMA arena: never zero, so a bus address is never mistaken for an offset. */
export const DMA_BUS_BASE = 0x1_0000_0000n;

/** Everything shared between the host side and the model thread of one card. */
export interface SharedCard {
  readonly control: SharedArrayBuffer;
  /** BAR memory by BAR index. */
  readonly bars: Readonly<Record<number, SharedArrayBuffer>>;
  readonly arena: SharedArrayBuffer;
}

export function createSharedCard(barSizes: Readonly<Record<number, number>>, arenaBytes: number): SharedCard {
  const bars: Record<number, SharedArrayBuffer> = {};
  for (const [index, size] of Object.entries(barSizes)) bars[Number(index)] = new SharedArrayBuffer(size);
  return {
    control: new SharedArrayBuffer(CONTROL_WORDS * 4),
    bars,
    // A zero-length SharedArrayBuffer is legal, but give card without DMA one page so views stay simple.
    arena: new SharedArrayBuffer(Math.max(arenaBytes, 4096)),
  };
}
