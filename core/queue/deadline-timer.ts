/**
 * The queue's only timer: one timeout set for the earliest moment something may
 * be due (a job's deadline, a queue pair's stall limit). Asking for a later
 * moment than the one set costs a comparison, so jobs need no timer of their
 * own. When nothing is outstanding the timer is unref'd rather than cleared
 * (going idle after every job, as at one job in flight, must not cost a timer
 * per job): it keeps no process alive, fires at most once more, finds nothing
 * and is not set again.
 */

export class DeadlineTimer {
  readonly #fire: () => void;
  #at = Number.POSITIVE_INFINITY;
  #handle: NodeJS.Timeout | undefined = undefined;
  #refed = true;

  constructor(fire: () => void) {
    this.#fire = fire;
  }

  /** Make sure the timer fires no later than `at` (performance.now() time), and keeps the process alive. */
  ensure(at: number): void {
    if (at >= this.#at) {
      if (!this.#refed) {
        this.#refed = true;
        this.#handle?.ref();
      }
      return;
    }
    this.#refed = true;
    if (this.#handle !== undefined) clearTimeout(this.#handle);
    this.#at = at;
    const delay = Math.max(1, Math.ceil(at - performance.now()));
    this.#handle = setTimeout(this.#run, delay);
  }

  /** Nothing is outstanding: let the process exit even if the timer is still set. */
  idle(): void {
    if (this.#refed) {
      this.#refed = false;
      this.#handle?.unref();
    }
  }

  clear(): void {
    if (this.#handle !== undefined) clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#at = Number.POSITIVE_INFINITY;
  }

  readonly #run = (): void => {
    this.#handle = undefined;
    this.#at = Number.POSITIVE_INFINITY;
    this.#fire();
  };
}
