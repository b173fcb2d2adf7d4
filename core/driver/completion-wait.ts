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
        reject(new AbortedError(undefined, { cause: signal?.reason }));
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

  /** Add `waiter` directly (no signal, no promise): `remove` takes it out again. */
  add(waiter: Waiter): void {
    this.#waiters.add(waiter);
  }

  /** Take `waiter` out; whether it was still waiting. */
  remove(waiter: Waiter): boolean {
    return this.#waiters.delete(waiter);
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

  /** `waiter` is called at the next `wake()` (resolve) or `fail` (reject), unless `unlisten` comes first. */
  listen(waiter: Waiter): void {
    this.#waiters.add(waiter);
  }

  unlisten(waiter: Waiter): void {
    this.#waiters.remove(waiter);
  }
}

export interface SharedIrqOptions {
  /** Run once per interrupt, before the waiters wake (acknowledge, re-arm a level-triggered line, read a status). */
  readonly service?: () => void;
  /** For error messages: whose interrupt this is. */
  readonly name?: string;
}

/** Why the platform's wait is stopped when nobody waits any more: a constant (no DOMException per stop). */
const NOBODY_WAITS = 'every waiter of the interrupt left';

/**
 * One interrupt vector shared by every waiter of a device (its queue pairs, its control path).
 *
 * When the last waiter leaves (its sleep ended by the poll period or a wake-up), the platform's
 * wait is stopped a turn of the event loop later, not at once: a queue pair that polls while its
 * jobs run leaves and comes back on every poll, and stopping and restarting the wait each time
 * (an abort, its DOMException and AbortedError, a new AbortController) was most of the main
 * thread's work per job at low load. An interrupt that the running wait catches while nobody
 * waits is kept (`#unclaimed`) and wakes the next waiter at once, as the platform's count would
 * have had the wait been stopped: none is lost.
 */
export class SharedIrq {
  readonly #irq: Irq;
  readonly #service: (() => void) | undefined;
  readonly #name: string;
  readonly #waiters = new Waiters();
  #running = false;
  #inner: AbortController | undefined;
  #closed = false;
  #broken = false;
  /** An interrupt fired and was serviced while nobody waited: the next waiter wakes at once. */
  #unclaimed = false;
  /** The stop of the platform's wait, deferred to the next turn (see the class comment). */
  #stop: ReturnType<typeof setImmediate> | undefined;

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
    const waiting = this.#waiters.next(signal, () => this.#left());
    this.#start();
    return waiting;
  }

  /**
   * `waiter` is called after the next interrupt (resolve) or when the interrupt is lost or closed
   * (reject), unless `unlisten` comes first: `next` without a promise or a signal, for a wait
   * that ends some other way most of the time (waitForCompletion's sleep). False if unusable.
   */
  listen(waiter: Waiter): boolean {
    if (!this.usable) return false;
    this.#waiters.add(waiter);
    this.#start();
    return true;
  }

  /**
   * A waiter came: an unclaimed interrupt wakes it, and whoever else comes within this turn's
   * microtasks, a microtask later (as a platform wait that finds the event counted resolves);
   * else the platform's wait runs.
   */
  #start(): void {
    if (this.#unclaimed) {
      this.#unclaimed = false;
      queueMicrotask(() => {
        this.#waiters.settle((w) => w.resolve());
        this.#left(); // a platform wait a later waiter started is stopped if nobody comes back
      });
    } else if (!this.#running) void this.#loop();
  }

  unlisten(waiter: Waiter): void {
    if (this.#waiters.remove(waiter)) this.#left();
  }

  /** A waiter left early: with none left by the next turn, stop the platform's wait (the loop looks again). */
  #left(): void {
    if (this.#waiters.size > 0 || this.#stop !== undefined || !this.#running) return;
    this.#stop = setImmediate(() => {
      this.#stop = undefined;
      if (this.#waiters.size === 0 && this.#running) this.#inner?.abort(NOBODY_WAITS);
    });
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiters.size > 0 && this.usable) {
        // One controller for every wait until it is used (a wait per interrupt made one each).
        let inner = this.#inner;
        if (inner === undefined || inner.signal.aborted) {
          inner = new AbortController();
          this.#inner = inner;
        }
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
        if (this.#waiters.size === 0) this.#unclaimed = true;
        else this.#waiters.settle((w) => w.resolve());
      }
    } finally {
      // The controller stays for the next wait unless it was used (aborted).
      this.#running = false;
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
    if (this.#stop !== undefined) clearImmediate(this.#stop);
    this.#stop = undefined;
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
 * Sleep until the first of: the interrupt (a failed interrupt wait counts: `check` says whether
 * the device is still there), the host-side wake-up, the poll period, the caller's abort. The
 * interrupt and the wake-up take this sleep's waiters directly and give them back when it ends
 * (no AbortController, listener or promise per sleep: a queue pair sleeps once per round trip).
 */
function sleep(source: CompletionSource, signal: AbortSignal | undefined): Promise<WakeCause> {
  return new Promise<WakeCause>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    let settled = false;
    const irq = source.irq;
    const wakeup = source.wakeup;
    const finish = (cause: WakeCause | undefined, error?: unknown): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      signal?.removeEventListener('abort', onAbort);
      irq?.unlisten(onIrq);
      wakeup?.unlisten(onWakeup);
      if (cause === undefined) reject(error);
      else resolve(cause);
    };
    const onAbort = (): void => finish(undefined, new AbortedError(undefined, { cause: signal?.reason }));
    const onIrq: Waiter = { resolve: () => finish('irq'), reject: () => finish('irq') };
    // A failed wake-up (the device closed under the wait) is not a wake-up: the poll or the
    // interrupt ends the sleep, and `check` reports the device.
    const onWakeup: Waiter = { resolve: () => finish('wakeup'), reject: () => {} };
    signal?.addEventListener('abort', onAbort, { once: true });
    const ms = typeof source.pollMs === 'function' ? source.pollMs() : source.pollMs;
    if (ms > 0) timer = setTimeout(() => finish('poll'), ms);
    else immediate = setImmediate(() => finish('poll'));
    irq?.listen(onIrq);
    wakeup?.listen(onWakeup);
  });
}
