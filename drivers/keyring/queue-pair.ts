/**
 * The keyring device's queue pair: each job is one keyctl call on libuv's thread
 * pool (the system module's PKEY calls are asynchronous); completions wait in a
 * list until `harvest` hands them out. The kernel runs the calls in parallel up
 * to the pool's size (UV_THREADPOOL_SIZE, default 4).
 */

import type { PkaccelError } from '../../core/driver/errors.js';
import {
  AbortedError,
  type Completion,
  DeviceGoneError,
  type Job,
  type PrimitiveValue,
  type QueuePair,
} from '../../core/driver/index.js';

/** What runs one job: the device's keyctl call for the request. */
export type JobRunner = (job: Job) => Promise<PrimitiveValue>;

export class KeyringQueuePair implements QueuePair {
  readonly index: number;
  readonly depth: number;
  readonly #device: string;
  readonly #run: JobRunner;
  readonly #toError: (error: unknown) => PkaccelError;
  /** Tags in flight → the generation they were submitted in (abandon starts a new one). */
  readonly #pending = new Map<number, number>();
  #generation = 0;
  #completions: Completion[] = [];
  #waiters: Array<() => void> = [];
  #closed = false;

  constructor(options: {
    index: number;
    depth: number;
    device: string;
    run: JobRunner;
    toError: (error: unknown) => PkaccelError;
  }) {
    this.index = options.index;
    this.depth = options.depth;
    this.#device = options.device;
    this.#run = options.run;
    this.#toError = options.toError;
  }

  get inFlight(): number {
    return this.#pending.size + this.#completions.length;
  }

  submit(jobs: readonly Job[]): number {
    if (this.#closed) throw new DeviceGoneError(`device ${this.#device} is closed`, { device: this.#device });
    const count = Math.min(jobs.length, this.depth - this.inFlight);
    for (let i = 0; i < count; i++) this.#start(jobs[i]!);
    return Math.max(0, count);
  }

  #start(job: Job): void {
    const generation = this.#generation;
    this.#pending.set(job.tag, generation);
    const settle = (completion: Completion) => {
      // An abandoned job's late result is dropped: its tag may be in use again.
      if (this.#pending.get(job.tag) !== generation) return;
      this.#pending.delete(job.tag);
      this.#completions.push(completion);
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    };
    let running: Promise<PrimitiveValue>;
    try {
      running = this.#run(job);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (value) => settle({ tag: job.tag, ok: true, value }),
      (error: unknown) => settle({ tag: job.tag, ok: false, error: this.#toError(error) }),
    );
  }

  harvest(sink: (completion: Completion) => void, max = Number.POSITIVE_INFINITY): number {
    if (this.#completions.length === 0 || max <= 0) return 0;
    const taken = max >= this.#completions.length ? this.#completions : this.#completions.slice(0, max);
    this.#completions = max >= this.#completions.length ? [] : this.#completions.slice(max);
    for (const completion of taken) sink(completion);
    return taken.length;
  }

  waitForCompletions(signal?: AbortSignal): Promise<void> {
    if (this.#completions.length > 0) return Promise.resolve();
    if (this.#closed)
      return Promise.reject(
        new DeviceGoneError(`device ${this.#device} is closed`, { device: this.#device }),
      );
    if (signal?.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        reject(new AbortedError(undefined, { cause: signal?.reason }));
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        if (this.#closed && this.#completions.length === 0)
          reject(new DeviceGoneError(`device ${this.#device} is closed`, { device: this.#device }));
        else resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(wake);
    });
  }

  async abandon(_signal?: AbortSignal): Promise<readonly number[]> {
    // A keyctl call cannot be cancelled; its late result is dropped (the generation moved on).
    const tags = [...this.#pending.keys(), ...this.#completions.map((c) => c.tag)];
    this.#pending.clear();
    this.#completions = [];
    this.#generation++;
    return tags;
  }

  close(): void {
    this.#closed = true;
    this.#pending.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
