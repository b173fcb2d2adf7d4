/**
 * The backlog: a growable ring of job records, FIFO with a front for retries.
 * A job that leaves early (abort, timeout) is not searched for: its record's
 * `seq` changes and the ring entry, which remembers the old seq, is skipped.
 */

import type { JobRecord } from './job.js';

export class Backlog {
  #items: (JobRecord | undefined)[];
  #seqs: Float64Array;
  #head = 0;
  /** Entries in the ring, stale ones included. */
  #size = 0;

  constructor(initialCapacity = 1024) {
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.#items = new Array(capacity).fill(undefined);
    this.#seqs = new Float64Array(capacity);
  }

  /** Entries in the ring, stale ones included (an upper bound on the live jobs). */
  get entries(): number {
    return this.#size;
  }

  push(record: JobRecord): void {
    if (this.#size === this.#items.length) this.#grow();
    const i = (this.#head + this.#size) & (this.#items.length - 1);
    this.#items[i] = record;
    this.#seqs[i] = record.seq;
    this.#size++;
  }

  /** Put a record back at the front (a retry, or a job that did not fit this tick). */
  pushFront(record: JobRecord): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = record;
    this.#seqs[this.#head] = record.seq;
    this.#size++;
  }

  /** The next live record, or undefined when none is left. */
  shift(): JobRecord | undefined {
    const mask = this.#items.length - 1;
    while (this.#size > 0) {
      const i = this.#head;
      const record = this.#items[i]!;
      const live = record.seq === this.#seqs[i];
      this.#items[i] = undefined;
      this.#head = (i + 1) & mask;
      this.#size--;
      if (live) return record;
    }
    return undefined;
  }

  /** Call `visit` for every live record, front to back. `visit` must not change the backlog. */
  forEachLive(visit: (record: JobRecord) => void): void {
    const mask = this.#items.length - 1;
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head + k) & mask;
      const record = this.#items[i]!;
      if (record.seq === this.#seqs[i]) visit(record);
    }
  }

  #grow(): void {
    const old = this.#items;
    const oldSeqs = this.#seqs;
    const mask = old.length - 1;
    const items: (JobRecord | undefined)[] = new Array(old.length * 2).fill(undefined);
    const seqs = new Float64Array(old.length * 2);
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head + k) & mask;
      items[k] = old[i];
      seqs[k] = oldSeqs[i]!;
    }
    this.#items = items;
    this.#seqs = seqs;
    this.#head = 0;
  }
}
