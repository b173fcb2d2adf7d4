/**
 * The queue's only timer: one timeout set for the earliest moment something may
 * be due (a job's deadline, a queue pair's stall limit). Asking for a later
 * moment than the one set costs a comparison, so jobs need no timer of their
 * own. Cleared when nothing is outstanding, so an idle queue keeps no timer.
 */

export class DeadlineTimer {
  readonly #fire: () => void;
  #at = Number.POSITIVE_INFINITY;
  #handle: NodeJS.Timeout | undefined = undefined;

  constructor(fire: () => void) {
    this.#fire = fire;
  }

  /** Make sure the timer fires no later than `at` (performance.now() time). */
  ensure(at: number): void {
    if (at >= this.#at) return;
    if (this.#handle !== undefined) clearTimeout(this.#handle);
    this.#at = at;
    const delay = Math.max(1, Math.ceil(at - performance.now()));
    this.#handle = setTimeout(this.#run, delay);
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
