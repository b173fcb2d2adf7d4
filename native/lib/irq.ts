/**
 * An interrupt delivered through a file descriptor that becomes readable: a VFIO
 * eventfd (MSI-X, MSI, INTx) or /dev/uioN (INTx under uio_pci_generic), watched by
 * uv_poll in the addon. Counting, the single pending wait, abort and close live here;
 * what enable/disable/unmask mean for the hardware is the opening mode's `IrqControl`.
 */
import { closeSync } from 'node:fs';
import { addon, type PollerHandle } from './addon.js';
import type { Irq } from './contracts.js';
import { defaultErrors, type ErrorClasses } from './errors.js';

/** What the opening mode does to the device for each Irq operation. */
export interface IrqControl {
  enable?(): void;
  disable?(): void;
  unmask?(): void;
  /** Detach the fd from the device (e.g. VFIO SET_IRQS with fd -1). */
  close?(): void;
}

export interface FdIrqOptions {
  readonly vector: number;
  readonly fd: number;
  /** eventfd: 8-byte counter, reset by each read; uio: 4-byte running total. */
  readonly kind: 'eventfd' | 'uio';
  /** Close the fd when the Irq closes (default true). */
  readonly ownsFd?: boolean;
  readonly control?: IrqControl;
  readonly errors?: ErrorClasses;
  /** Told once if the fd reports an error (the device went away). */
  readonly onGone?: (error: Error) => void;
  /** Told when the Irq closes (its owner forgets it). */
  readonly onClose?: () => void;
}

interface PendingWait {
  resolve(count: number): void;
  reject(error: Error): void;
  cleanup(): void;
}

export class FdIrq implements Irq {
  readonly vector: number;
  readonly #fd: number;
  readonly #kind: 'eventfd' | 'uio';
  readonly #ownsFd: boolean;
  readonly #control: IrqControl;
  readonly #errors: ErrorClasses;
  readonly #onGone: ((error: Error) => void) | undefined;
  readonly #onClose: (() => void) | undefined;
  readonly #poller: PollerHandle;
  #counted = 0;
  #lastTotal: number | undefined;
  #pending: PendingWait | undefined;
  #gone: Error | undefined;
  #closed = false;

  constructor(options: FdIrqOptions) {
    this.vector = options.vector;
    this.#fd = options.fd;
    this.#kind = options.kind;
    this.#ownsFd = options.ownsFd ?? true;
    this.#control = options.control ?? {};
    this.#errors = options.errors ?? defaultErrors;
    this.#onGone = options.onGone;
    this.#onClose = options.onClose;
    this.#poller = addon().pollOpen(this.#fd, this.#kind === 'uio' ? 4 : 8, (value, errno) =>
      this.#onReadable(value, errno),
    );
  }

  wait(signal?: AbortSignal): Promise<number> {
    const { AbortedError, DeviceGoneError, InvalidInputError } = this.#errors;
    if (this.#closed) return Promise.reject(new DeviceGoneError(`interrupt vector ${this.vector} is closed`));
    if (this.#gone) return Promise.reject(this.#gone);
    if (signal?.aborted)
      return Promise.reject(new AbortedError('interrupt wait aborted', { cause: signal.reason }));
    if (this.#pending)
      return Promise.reject(
        new InvalidInputError(`interrupt vector ${this.vector} already has a pending wait`),
      );
    if (this.#counted > 0) {
      const n = this.#counted;
      this.#counted = 0;
      return Promise.resolve(n);
    }
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        this.#settle()?.reject(new AbortedError('interrupt wait aborted', { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending = {
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      addon().pollRef(this.#poller, true); // a pending wait keeps the process alive
    });
  }

  enable(): void {
    this.#assertOpen();
    this.#control.enable?.();
    addon().pollPause(this.#poller, false);
  }

  disable(): void {
    this.#assertOpen();
    this.#control.disable?.();
    addon().pollPause(this.#poller, true);
  }

  unmask(): void {
    this.#assertOpen();
    this.#control.unmask?.();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    addon().pollClose(this.#poller);
    try {
      this.#control.close?.();
    } finally {
      if (this.#ownsFd) closeSync(this.#fd);
      this.#onClose?.();
      this.#settle()?.reject(
        new this.#errors.DeviceGoneError(`interrupt vector ${this.vector} closed while waiting`),
      );
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`interrupt vector ${this.vector} used after close`);
  }

  /** Takes the pending wait (if any) out, unreferencing the poll. */
  #settle(): PendingWait | undefined {
    const pending = this.#pending;
    if (!pending) return undefined;
    this.#pending = undefined;
    pending.cleanup();
    if (!this.#closed) addon().pollRef(this.#poller, false);
    return pending;
  }

  #onReadable(value: number, errno: number): void {
    if (this.#closed) return;
    if (errno !== 0) {
      this.#gone = new this.#errors.DeviceGoneError(
        `interrupt vector ${this.vector}: the device stopped answering (errno ${errno})`,
      );
      addon().pollPause(this.#poller, true);
      this.#onGone?.(this.#gone);
      this.#settle()?.reject(this.#gone);
      return;
    }
    let events = value;
    if (this.#kind === 'uio') {
      // uio reports a running total since the driver loaded; count what is new since
      // the last read (the first read after opening counts as one event).
      events = this.#lastTotal === undefined ? 1 : (value - this.#lastTotal) >>> 0;
      this.#lastTotal = value;
    }
    if (events === 0) return;
    const pending = this.#settle();
    if (pending) pending.resolve(this.#counted + events);
    else this.#counted += events;
    if (pending) this.#counted = 0;
  }
}

/** An eventfd standing in for a device's interrupt line (tests; what VFIO signals). */
export function createEventFd(): number {
  return addon().eventfd();
}
