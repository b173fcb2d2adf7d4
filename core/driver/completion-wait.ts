/**
 * "Wait for an interrupt or poll": the one wait loop of the hardware drivers
 * (`QueuePair.waitForCompletions` and any other wait for a card).
 *
 * A wait looks at the device (`check`), and while there is nothing to hand out
 * sleeps until whichever comes first: an interrupt (when the device has one), the
 * poll period (the only wake-up without an interrupt, a safety net against a lost
 * one with it), a host-side wake-up (a state change, a completion the driver made
 * itself), or the caller's abort. A device that is out of service ends the wait
 * from `check` (by throwing, usually a DeviceGoneError), never by hanging it.
 *
 * `SharedIrq` lets every waiter of a device share one interrupt vector: the
 * platform's `Irq` takes one `wait()` at a time, so one runs while anyone waits,
 * and each event runs the device's service step once before waking them all.
 */

import type { Irq } from '../platform/irq.js';
import { AbortedError, DeviceGoneError, throwIfAborted } from './errors.js';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** Waiters for one set of events: `next` resolves at the next `wake`, rejects on abort. */
class Waiters {
  readonly #waiters = new Set<Waiter>();

  get size(): number {
    return this.#waiters.size;
  }

  next(signal: AbortSignal | undefined, onLeave?: () => void): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        // A sleep that ended some other way (`sleep` below) stops its other waits: nobody reads
        // that rejection, so it gets no error of its own (an error's stack trace per wake-up).
        reject(
          signal?.reason === SLEEP_OVER ? SLEEP_OVER : new AbortedError(undefined, { cause: signal?.reason }),
        );
        onLeave?.();
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
    });
  }

  settle(action: (w: Waiter) => void): void {
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) action(w);
  }
}

/** Wakes pending waits early: the driver calls `wake()` when it changed something a waiter checks. */
export class Wakeup {
  readonly #waiters = new Waiters();

  /** Resolve every wait pending now. */
  wake(): void {
    this.#waiters.settle((w) => w.resolve());
  }

  /** Reject every wait pending now with `error` (the device closed under them). */
  fail(error: unknown): void {
    this.#waiters.settle((w) => w.reject(error));
  }

  /** Resolves at the next `wake()`; rejects with an AbortedError on abort, or with what `fail` is given. */
  next(signal?: AbortSignal): Promise<void> {
    return this.#waiters.next(signal);
  }
}

export interface SharedIrqOptions {
  /** Run once per interrupt, before the waiters wake (acknowledge, re-arm a level-triggered line, read a status). */
  readonly service?: () => void;
  /** For error messages: whose interrupt this is. */
  readonly name?: string;
}

/** One interrupt vector shared by every waiter of a device (its queue pairs, its control path). */
export class SharedIrq {
  readonly #irq: Irq;
  readonly #service: (() => void) | undefined;
  readonly #name: string;
  readonly #waiters = new Waiters();
  #running = false;
  #inner: AbortController | undefined;
  #closed = false;
  #broken = false;

  constructor(irq: Irq, options: SharedIrqOptions = {}) {
    this.#irq = irq;
    this.#service = options.service;
    this.#name = options.name ?? 'device';
  }

  /** The platform's interrupt (to unmask or disable it directly). */
  get irq(): Irq {
    return this.#irq;
  }

  /** False once closed, or once the platform's wait failed: waits then poll only. */
  get usable(): boolean {
    return !this.#closed && !this.#broken;
  }

  /**
   * Resolves after the next interrupt (one that fired since the last one serviced
   * counts). Rejects with an AbortedError on abort, and with a DeviceGoneError when
   * the interrupt is closed, fails, or `fail` is called.
   */
  next(signal?: AbortSignal): Promise<void> {
    if (!this.usable)
      return Promise.reject(
        new DeviceGoneError(`${this.#name}: interrupt ${this.#closed ? 'closed' : 'lost'}`),
      );
    const waiting = this.#waiters.next(signal, () => {
      if (this.#waiters.size === 0) this.#inner?.abort();
    });
    if (!this.#running) void this.#loop();
    return waiting;
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiters.size > 0 && this.usable) {
        const inner = new AbortController();
        this.#inner = inner;
        try {
          await this.#irq.wait(inner.signal);
        } catch (error) {
          if (inner.signal.aborted && !this.#closed) continue; // every waiter left; look again
          if (!this.#closed) this.#broken = true;
          this.fail(
            error instanceof DeviceGoneError
              ? error
              : new DeviceGoneError(`${this.#name}: interrupt lost`, { cause: error }),
          );
          return;
        }
        this.#service?.();
        this.#waiters.settle((w) => w.resolve());
      }
    } finally {
      this.#running = false;
      this.#inner = undefined;
    }
  }

  /** Wake every waiter with `error` (the device went away); later waits start a new interrupt wait. */
  fail(error: unknown): void {
    this.#waiters.settle((w) => w.reject(error));
  }

  /** Stop waiting, reject every waiter and release the platform's interrupt. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inner?.abort();
    this.fail(new DeviceGoneError(`${this.#name}: device closed`));
    this.#irq.close();
  }
}

/** What woke a wait. */
export type WakeCause = 'irq' | 'poll' | 'wakeup';

/** What `waitForCompletion` watches. */
export interface CompletionSource {
  /**
   * Look at the device. `true` ends the wait (harvest has something, or nothing is
   * in flight and nothing can come); `false` sleeps and looks again. Throw to end the
   * wait with an error: a DeviceGoneError when the device is out of service.
   */
  check(): boolean;
  /** The device's interrupt; absent (or no longer usable): poll only. */
  readonly irq?: SharedIrq | undefined;
  /**
   * Milliseconds until the next look without an interrupt (a number, or computed
   * per sleep, e.g. capped by the earliest job deadline); 0 or less: the next turn
   * of the event loop.
   */
  readonly pollMs: number | (() => number);
  /** Host-side wake-ups (state changes, completions the driver made itself). */
  readonly wakeup?: Wakeup | undefined;
  /** Called after each sleep with what ended it (drivers count lost interrupts with it). */
  onWake?(cause: WakeCause): void;
}

/**
 * Resolve when `source.check()` says so; sleep on the interrupt, the poll period
 * and the wake-up in between. Rejects with an AbortedError when `signal` aborts,
 * and with whatever `check` throws.
 */
export async function waitForCompletion(source: CompletionSource, signal?: AbortSignal): Promise<void> {
  for (;;) {
    throwIfAborted(signal);
    if (source.check()) return;
    const cause = await sleep(source, signal);
    source.onWake?.(cause);
  }
}

/**
 * The reason a finished sleep aborts its leftover waits with (a plain object: `abort()` with no
 * reason would make a DOMException, stack trace included, on every wake-up of a busy queue pair).
 */
const SLEEP_OVER = Object.freeze({ sleep: 'over' });

function sleep(source: CompletionSource, signal: AbortSignal | undefined): Promise<WakeCause> {
  return new Promise<WakeCause>((resolve, reject) => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    let settled = false;
    const finish = (cause: WakeCause | undefined, error?: unknown): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      signal?.removeEventListener('abort', onAbort);
      stop.abort(SLEEP_OVER);
      if (cause === undefined) reject(error);
      else resolve(cause);
    };
    const onAbort = (): void => finish(undefined, new AbortedError(undefined, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    const ms = typeof source.pollMs === 'function' ? source.pollMs() : source.pollMs;
    if (ms > 0) timer = setTimeout(() => finish('poll'), ms);
    else immediate = setImmediate(() => finish('poll'));
    const ignore = (): void => {};
    const irq = source.irq;
    // A failed interrupt wait is a wake-up too: `check` says whether the device is still there.
    if (irq?.usable)
      irq.next(stop.signal).then(
        () => finish('irq'),
        () => !stop.signal.aborted && finish('irq'),
      );
    source.wakeup?.next(stop.signal).then(() => finish('wakeup'), ignore);
  });
}
