/**
 * The simple dispatch path: a PrimitiveExecutor over the open devices, with no
 * scheduling beyond "highest priority first". For each request it picks the
 * highest-priority ready device that supports any alternative, runs the first
 * alternative that device supports on its queue pair 0, and waits for the
 * completion with that job's tag. core/queue replaces this module (the
 * accelerator creates its executor in exactly one place).
 */

import { supports } from '../driver/capabilities.js';
import type {
  Alternative,
  AlternativeResult,
  Completion,
  Device,
  Job,
  PrimitiveExecutor,
  QueuePair,
} from '../driver/device.js';
import {
  AbortedError,
  DeviceGoneError,
  PkaccelError,
  throwIfAborted,
  UnsupportedError,
} from '../driver/errors.js';
import type { PrimitiveRequest, PrimitiveValue, ResultOf } from '../driver/primitives.js';

interface Waiter {
  resolve(value: PrimitiveValue): void;
  reject(error: unknown): void;
}

const TAG_SPACE = 2 ** 32;

/**
 * The jobs of one queue pair: a backlog (when the ring is full) and the callers
 * waiting per tag. One pump loop at a time harvests and waits for interrupts,
 * keeping the queue pair single-consumer as its contract asks.
 */
class Lane {
  readonly #qp: QueuePair;
  readonly #device: string;
  readonly #waiters = new Map<number, Waiter>();
  readonly #backlog: Job[] = [];
  #nextTag = 0;
  #pumping = false;

  constructor(qp: QueuePair, device: string) {
    this.#qp = qp;
    this.#device = device;
  }

  execute(request: PrimitiveRequest, signal?: AbortSignal): Promise<PrimitiveValue> {
    return new Promise<PrimitiveValue>((resolve, reject) => {
      const tag = this.#allocateTag();
      const job: Job = { tag, request };
      const onAbort = (): void => {
        const queued = this.#backlog.indexOf(job);
        if (queued >= 0) {
          this.#backlog.splice(queued, 1);
          this.#waiters.delete(tag);
        } else {
          // Already on the device: its completion will still come; keep the tag
          // reserved until then and drop the result.
          this.#waiters.set(tag, { resolve: () => {}, reject: () => {} });
        }
        reject(new AbortedError(undefined, { cause: signal?.reason, device: this.#device }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.set(tag, {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      this.#backlog.push(job);
      this.#flush();
      void this.#pump();
    });
  }

  #allocateTag(): number {
    for (;;) {
      const tag = this.#nextTag;
      this.#nextTag = (this.#nextTag + 1) % TAG_SPACE;
      if (!this.#waiters.has(tag)) return tag;
    }
  }

  #flush(): void {
    try {
      while (this.#backlog.length > 0) {
        const taken = this.#qp.submit(this.#backlog);
        if (taken === 0) break;
        this.#backlog.splice(0, taken);
      }
    } catch (error) {
      for (const job of this.#backlog.splice(0)) this.#settle(job.tag, { ok: false, error });
    }
  }

  #settle(tag: number, outcome: { ok: true; value: PrimitiveValue } | { ok: false; error: unknown }): void {
    const waiter = this.#waiters.get(tag);
    if (!waiter) return; // A tag we never gave out: the driver is at fault; nothing to settle.
    this.#waiters.delete(tag);
    if (outcome.ok) waiter.resolve(outcome.value);
    else waiter.reject(outcome.error);
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiters.size > 0) {
        this.#qp.harvest((c: Completion) =>
          this.#settle(c.tag, c.ok ? { ok: true, value: c.value } : { ok: false, error: c.error }),
        );
        this.#flush();
        if (this.#waiters.size === 0) break;
        await this.#qp.waitForCompletions();
      }
    } catch (error) {
      const failure =
        error instanceof PkaccelError
          ? error
          : new DeviceGoneError(`queue pair 0 of ${this.#device} failed`, {
              cause: error,
              device: this.#device,
            });
      this.#backlog.splice(0);
      for (const tag of [...this.#waiters.keys()]) this.#settle(tag, { ok: false, error: failure });
    } finally {
      this.#pumping = false;
    }
  }
}

function probeOf(alternative: Alternative): PrimitiveRequest {
  return 'probe' in alternative ? alternative.probe : alternative;
}

function buildOf(alternative: Alternative): PrimitiveRequest {
  return 'probe' in alternative ? alternative.build() : alternative;
}

/** Runs each request on the highest-priority ready device that can do it. */
export class SimpleExecutor implements PrimitiveExecutor {
  readonly #devices: readonly Device[];
  readonly #lanes = new Map<Device, Lane>();

  constructor(devices: readonly Device[]) {
    // Highest priority first; the sort is stable, so equal priorities keep the caller's order.
    this.#devices = [...devices].sort((a, b) => b.info.priority - a.info.priority);
  }

  supports(request: PrimitiveRequest): boolean {
    return this.#devices.some((d) => d.state === 'ready' && supports(d.capabilities, request));
  }

  async run<R extends PrimitiveRequest>(
    request: R,
    options?: { readonly signal?: AbortSignal },
  ): Promise<ResultOf<R>> {
    const result = await this.runFirst([request], options);
    return result.value as ResultOf<R>;
  }

  async runFirst(
    alternatives: readonly Alternative[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<AlternativeResult> {
    throwIfAborted(options?.signal);
    const probes = alternatives.map(probeOf);
    for (const device of this.#devices) {
      if (device.state !== 'ready') continue;
      const index = probes.findIndex((p) => supports(device.capabilities, p));
      if (index < 0) continue;
      const request = buildOf(alternatives[index]!);
      const value = await this.#lane(device).execute(request, options?.signal);
      return { index, value, device: device.info.id };
    }
    const ops = [...new Set(probes.map((p) => p.op))].join(' or ');
    throw new UnsupportedError(`no device in service can do ${ops} with these parameters`);
  }

  #lane(device: Device): Lane {
    let lane = this.#lanes.get(device);
    if (!lane) {
      const qp = device.queuePairs[0];
      if (!qp) throw new DeviceGoneError(`${device.info.id} has no queue pair`, { device: device.info.id });
      lane = new Lane(qp, device.info.id);
      this.#lanes.set(device, lane);
    }
    return lane;
  }
}
