/**
 * One 'abort' listener per AbortSignal, however many jobs share it. Callers often
 * pass one signal for a whole batch (process() does); a listener per job would pass
 * EventTarget's listener limit (a MaxListenersExceededWarning) and make every settle
 * search the signal's listener list. A group keeps its live jobs in an array with
 * O(1) removal (each record knows its index).
 */

import type { JobRecord } from './job.js';

interface Group {
  readonly signal: AbortSignal;
  readonly records: JobRecord[];
  readonly listener: () => void;
}

export class AbortWatch {
  readonly #groups = new WeakMap<AbortSignal, Group>();
  readonly #aborted: (record: JobRecord) => void;

  /** `aborted` is called for each watched job when its signal aborts. */
  constructor(aborted: (record: JobRecord) => void) {
    this.#aborted = aborted;
  }

  watch(record: JobRecord, signal: AbortSignal): void {
    let group = this.#groups.get(signal);
    if (group === undefined) {
      const records: JobRecord[] = [];
      const created: Group = { signal, records, listener: () => this.#fire(created) };
      group = created;
      this.#groups.set(signal, group);
      signal.addEventListener('abort', group.listener, { once: true });
    }
    record.signal = signal;
    record.watchIndex = group.records.length;
    group.records.push(record);
  }

  /** Stop watching a job (it settled); removes the listener when its signal has no job left. */
  unwatch(record: JobRecord): void {
    const signal = record.signal;
    if (signal === undefined) return;
    record.signal = undefined;
    const i = record.watchIndex;
    record.watchIndex = -1;
    const group = this.#groups.get(signal);
    if (group === undefined || i < 0) return;
    const records = group.records;
    const last = records.pop()!;
    if (last !== record) {
      records[i] = last;
      last.watchIndex = i;
    }
    if (records.length === 0) {
      signal.removeEventListener('abort', group.listener);
      this.#groups.delete(signal);
    }
  }

  #fire(group: Group): void {
    this.#groups.delete(group.signal);
    const records = group.records.splice(0);
    for (const record of records) record.watchIndex = -1;
    for (const record of records) this.#aborted(record);
  }
}
