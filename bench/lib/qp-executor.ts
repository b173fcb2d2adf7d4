/**
 * A thin executor straight on one QueuePair, for measuring a device without
 * the layers above it: calls made in the same tick go in one submit, and one
 * pump loop waits for completions and hands them out by tag.
 */

import type {
  Completion,
  Job,
  PrimitiveRequest,
  PrimitiveValue,
  QueuePair,
} from '../../core/driver/index.js';

export class QueuePairExecutor {
  readonly #qp: QueuePair;
  readonly #waiting = new Map<number, { resolve(v: PrimitiveValue): void; reject(e: unknown): void }>();
  #backlog: Job[] = [];
  #nextTag = 0;
  #flushQueued = false;
  #pumping = false;

  constructor(qp: QueuePair) {
    this.#qp = qp;
  }

  run(request: PrimitiveRequest): Promise<PrimitiveValue> {
    return new Promise((resolve, reject) => {
      const tag = this.#nextTag++ >>> 0;
      this.#waiting.set(tag, { resolve, reject });
      this.#backlog.push({ tag, request });
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#backlog.length > 0) {
      const taken = this.#qp.submit(this.#backlog);
      this.#backlog = taken === this.#backlog.length ? [] : this.#backlog.slice(taken);
    }
    this.#harvest();
    if (!this.#pumping && this.#waiting.size > 0) void this.#pump();
  }

  #harvest(): void {
    this.#qp.harvest((c: Completion) => {
      const waiter = this.#waiting.get(c.tag);
      this.#waiting.delete(c.tag);
      if (c.ok) waiter?.resolve(c.value);
      else waiter?.reject(c.error);
    });
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#waiting.size > 0) {
        await this.#qp.waitForCompletions();
        this.#harvest();
        if (this.#backlog.length > 0) this.#flush();
      }
    } catch (error) {
      // A flush's own harvest can settle the last call while this loop still waits: the wait
      // then ends only when the device closes (DeviceGoneError), with no call left to fail.
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    } finally {
      this.#pumping = false;
    }
  }
}
