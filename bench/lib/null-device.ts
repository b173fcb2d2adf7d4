/**
 * An in-process device that completes every job at once and allocates nothing
 * per job: the floor under which no real device can go, for measuring the job
 * queue alone (bench/queue.bench.ts).
 */

import type {
  Completion,
  Device,
  DeviceEvent,
  DeviceInfo,
  Job,
  PrimitiveOp,
  PrimitiveValue,
  QueuePair,
} from '../../core/driver/index.js';

const RESOLVED: Promise<void> = Promise.resolve();

class NullQueuePair implements QueuePair {
  readonly index: number;
  readonly depth: number;
  /** Completions written at submit, handed out by harvest: a ring of reused records. */
  readonly #ring: { tag: number; ok: true; value: PrimitiveValue }[];
  #head = 0;
  #count = 0;

  constructor(index: number, depth: number, value: PrimitiveValue) {
    this.index = index;
    this.depth = depth;
    this.#ring = Array.from({ length: depth }, () => ({ tag: 0, ok: true as const, value }));
  }

  get inFlight(): number {
    return this.#count;
  }

  submit(jobs: readonly Job[]): number {
    const n = Math.min(jobs.length, this.depth - this.#count);
    for (let i = 0; i < n; i++) {
      this.#ring[(this.#head + this.#count) % this.depth]!.tag = jobs[i]!.tag;
      this.#count++;
    }
    return n;
  }

  harvest(sink: (completion: Completion) => void, max = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (this.#count > 0 && n < max) {
      const c = this.#ring[this.#head]!;
      this.#head = (this.#head + 1) % this.depth;
      this.#count--;
      n++;
      sink(c);
    }
    return n;
  }

  waitForCompletions(): Promise<void> {
    // Completions exist as soon as anything is in flight.
    return RESOLVED;
  }

  async abandon(): Promise<readonly number[]> {
    const tags: number[] = [];
    this.harvest((c) => tags.push(c.tag));
    return tags;
  }
}

export interface NullDeviceOptions {
  readonly id?: string;
  readonly queuePairs?: number;
  readonly depth?: number;
  /** The primitives it claims (by default the queue bench's: raw and device-padded RSA, ECDSA, ECDH). */
  readonly ops?: readonly PrimitiveOp[];
}

/** A device doing every primitive instantly, returning `value` for each. */
export function nullDevice(value: PrimitiveValue, options: NullDeviceOptions = {}): Device {
  const info: DeviceInfo = {
    id: options.id ?? 'null',
    driver: 'null',
    model: 'in-process null device',
    priority: 100,
  };
  const queuePairs = Array.from(
    { length: options.queuePairs ?? 1 },
    (_, i) => new NullQueuePair(i, options.depth ?? 256, value),
  );
  const ops = options.ops ?? ['rsa-public', 'rsa-private', 'rsa-sign', 'ecdsa-sign', 'ecdsa-verify', 'ecdh'];
  return {
    info,
    state: 'ready',
    capabilities: ops.map((op) => ({ op })),
    queuePairs,
    subscribe: (_listener: (event: DeviceEvent) => void) => () => {},
    reset: async () => {},
    close: async () => {},
  };
}
