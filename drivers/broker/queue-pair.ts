/**
 * The `broker:` device's one queue pair: jobs become request frames, written
 * in one socket write per doorbell (the batch the job queue hands `submit` is
 * what is already pending: waiting for a later tick would only add latency),
 * completion frames become completions. Tags are the job queue's own; the broker echoes them and a tag
 * not in flight is dropped (never trusted).
 */

import {
  AbortedError,
  type Completion,
  DeviceGoneError,
  type Job,
  PkaccelError,
  type PrimitiveOp,
  type QueuePair,
} from '../../core/driver/index.js';
import { decodeOk, type Frame, FrameType, failureOf, opCode, ProtocolError } from './protocol.js';

/** What the queue pair needs from its device. */
export interface BrokerLink {
  readonly id: string;
  readonly connected: boolean;
  /** Add a request, under the wire tag given, to the next write. */
  send(wireTag: number, request: Job['request']): void;
  /** Write what `send` added (one socket write). */
  flush(): void;
}

export class BrokerQueuePair implements QueuePair {
  readonly index = 0;
  readonly #link: BrokerLink;
  /** By wire tag (this link's own sequence, so a late answer to an abandoned job matches nothing). */
  readonly #inFlight = new Map<number, { readonly tag: number; readonly op: PrimitiveOp }>();
  #nextWire = 1;
  readonly #done: Completion[] = [];
  #wake: (() => void) | null = null;
  #fail: ((error: Error) => void) | null = null;
  /**
   * The signal the job queue passes to every wait (one per queue pair until it aborts): its
   * listener is added once, not once per wait.
   */
  #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => {
    const fail = this.#fail;
    this.#wake = null;
    this.#fail = null;
    fail?.(new AbortedError(undefined, { cause: this.#signal?.reason }));
  };

  constructor(
    link: BrokerLink,
    readonly depth: number,
  ) {
    this.#link = link;
  }

  get inFlight(): number {
    return this.#inFlight.size + this.#done.length;
  }

  submit(jobs: readonly Job[]): number {
    if (!this.#link.connected) throw new DeviceGoneError(`broker ${this.#link.id} is not connected`);
    const room = this.depth - this.inFlight;
    const n = Math.min(room, jobs.length);
    for (let i = 0; i < n; i++) {
      const job = jobs[i]!;
      const wire = this.#nextWire;
      this.#nextWire = wire >= 0x7fffffff ? 1 : wire + 1;
      this.#inFlight.set(wire, { tag: job.tag, op: job.request.op });
      try {
        this.#link.send(wire, job.request);
      } catch (error) {
        // A request the protocol cannot carry (e.g. a multi-prime key): it completes with an error.
        this.#inFlight.delete(wire);
        const message = error instanceof Error ? error.message : String(error);
        this.#done.push({
          tag: job.tag,
          ok: false,
          error:
            error instanceof PkaccelError
              ? error
              : new PkaccelError('unsupported', `broker ${this.#link.id}: ${message}`),
        });
      }
    }
    if (n > 0) this.#link.flush();
    if (this.#done.length > 0) this.#notify();
    return n;
  }

  /** A completion frame from the broker (called by the device). */
  complete(frame: Frame): void {
    if (frame.type !== FrameType.completion) return;
    const entry = this.#inFlight.get(frame.tag);
    if (entry === undefined || frame.op !== opCode(entry.op)) return; // not in flight: dropped
    this.#inFlight.delete(frame.tag);
    const { tag, op } = entry;
    if (frame.status !== 0) {
      const { code, message } = failureOf(frame);
      // The broker's own "no device" is this device's failure to do the job here, not the link going away.
      const local = code === 'device-gone' ? 'device-error' : code;
      this.#done.push({
        tag,
        ok: false,
        error: new PkaccelError(local, `broker: ${message}`, { device: this.#link.id }),
      });
    } else {
      try {
        const { value, witness, reference } = decodeOk(frame, op);
        // reference: the broker's own reference device computed it; the job queue's gate gives it those checks.
        this.#done.push(
          witness === undefined
            ? { tag, ok: true, value, reference }
            : { tag, ok: true, value, witness, reference },
        );
      } catch (error) {
        const message = error instanceof ProtocolError ? error.message : String(error);
        this.#done.push({
          tag,
          ok: false,
          error: new PkaccelError('device-error', `broker: bad completion: ${message}`, {
            device: this.#link.id,
          }),
        });
      }
    }
    this.#notify();
  }

  /** The link went away: the jobs in flight will never complete (the queue re-routes them). */
  dropAll(): readonly number[] {
    const tags = [...this.#inFlight.values()].map((e) => e.tag);
    this.#inFlight.clear();
    this.#notify();
    return tags;
  }

  harvest(sink: (completion: Completion) => void, max = Number.POSITIVE_INFINITY): number {
    const n = Math.min(max, this.#done.length);
    if (n === 0) return 0;
    const batch = this.#done.splice(0, n);
    for (const c of batch) sink(c);
    return n;
  }

  waitForCompletions(signal?: AbortSignal): Promise<void> {
    if (this.#done.length > 0) return Promise.resolve();
    if (!this.#link.connected)
      return Promise.reject(new DeviceGoneError(`broker ${this.#link.id} is not connected`));
    if (signal?.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
    if (signal !== this.#signal) {
      this.#signal?.removeEventListener('abort', this.#onAbort);
      this.#signal = signal;
      signal?.addEventListener('abort', this.#onAbort, { once: true });
    }
    return new Promise<void>((resolve, reject) => {
      this.#fail = reject;
      this.#wake = () => {
        if (!this.#link.connected && this.#done.length === 0)
          reject(new DeviceGoneError(`broker ${this.#link.id} connection closed`));
        else resolve();
      };
    });
  }

  async abandon(): Promise<readonly number[]> {
    // The broker may still answer these tags: they are forgotten here, so such answers are dropped.
    const tags = [...[...this.#inFlight.values()].map((e) => e.tag), ...this.#done.map((c) => c.tag)];
    this.#inFlight.clear();
    this.#done.length = 0;
    return tags;
  }

  #notify(): void {
    const wake = this.#wake;
    if (wake !== null) {
      this.#wake = null;
      this.#fail = null;
      wake();
    }
  }

  /** Wake a waiter (the link closed). */
  interrupt(): void {
    this.#notify();
  }
}
