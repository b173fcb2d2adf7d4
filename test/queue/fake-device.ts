/**
 * A configurable fake device for the queue's tests: queue pairs with a depth,
 * completion latency, and per-job behaviours (ok, error, unsupported, drop,
 * duplicate, hang, garbage tag), with counters of every call the queue makes.
 */

import type {
  Capability,
  Completion,
  Device,
  DeviceEvent,
  DeviceInfo,
  DeviceState,
  Job,
  KeySlots,
  PrimitiveRequest,
  PrimitiveValue,
  QueuePair,
  RsaPublicKeyMaterial,
} from '../../core/driver/index.js';
import { AbortedError, DeviceError, DeviceGoneError, UnsupportedError } from '../../core/driver/index.js';

export type Behaviour =
  | 'ok'
  | 'error'
  | 'unsupported'
  | 'drop'
  | 'duplicate'
  | 'hang'
  | 'garbage-tag'
  | 'late-duplicate'
  /** Completes after 60 ms whatever the queue pair's latency. */
  | 'slow';

export interface FakeQueuePairOptions {
  readonly depth?: number;
  /** ms before a job completes; 0 = completes at once (visible to the next harvest). */
  readonly latencyMs?: number;
  /** Completions are released only by `release()` (for tests that control timing). */
  readonly manual?: boolean;
  readonly behave?: (job: Job, qp: FakeQueuePair) => Behaviour;
}

/** The value the fake computes for a request: its input bytes XOR 0x5a (so a mixed-up result is caught). */
export function expectedValue(request: PrimitiveRequest): Uint8Array {
  if (request.op !== 'rsa-public') throw new Error(`the fake only does rsa-public, got ${request.op}`);
  return request.input.map((b) => b ^ 0x5a);
}

export class FakeQueuePair implements QueuePair {
  readonly index: number;
  readonly depth: number;
  readonly device: FakeDevice;
  readonly #latencyMs: number;
  readonly #manual: boolean;
  readonly #behave: (job: Job, qp: FakeQueuePair) => Behaviour;
  /** Tags in flight, with their job. */
  readonly flying = new Map<number, Job>();
  /** Completions ready to harvest. */
  readonly ready: Completion[] = [];
  /** Held back until release() (manual mode). */
  readonly held: Completion[] = [];
  #waiter: (() => void) | undefined;
  #timers = new Set<NodeJS.Timeout>();

  submitCalls = 0;
  batchSizes: number[] = [];
  harvestCalls = 0;
  waitCalls = 0;
  abandonCalls = 0;
  maxInFlight = 0;
  submitted = 0;
  /** Make submit throw this (e.g. surprise removal). */
  throwOnSubmit: Error | undefined;

  constructor(device: FakeDevice, index: number, options: FakeQueuePairOptions = {}) {
    this.device = device;
    this.index = index;
    this.depth = options.depth ?? 8;
    this.#latencyMs = options.latencyMs ?? 0;
    this.#manual = options.manual ?? false;
    this.#behave = options.behave ?? (() => 'ok');
  }

  get inFlight(): number {
    return this.flying.size;
  }

  submit(jobs: readonly Job[]): number {
    this.submitCalls++;
    if (this.throwOnSubmit) throw this.throwOnSubmit;
    if (this.device.state !== 'ready')
      throw new DeviceGoneError(`${this.device.info.id} is ${this.device.state}`);
    const room = this.depth - this.flying.size;
    const n = Math.min(room, jobs.length);
    this.batchSizes.push(n);
    for (let i = 0; i < n; i++) {
      const job = jobs[i]!;
      if (this.flying.has(job.tag)) throw new Error(`tag ${job.tag} submitted twice while in flight`);
      const tag = job.tag;
      const request = job.request;
      this.flying.set(tag, { tag, request });
      this.submitted++;
      this.#schedule(tag, request, this.#behave(job, this));
    }
    this.maxInFlight = Math.max(this.maxInFlight, this.flying.size);
    return n;
  }

  #schedule(tag: number, request: PrimitiveRequest, behaviour: Behaviour): void {
    if (behaviour === 'hang') return;
    const complete = (): void => {
      if (!this.flying.has(tag)) return;
      // A dropped completion: the device never reports it, the driver still counts the tag in flight.
      if (behaviour === 'drop') return;
      const c = this.#completion(tag, request, behaviour);
      this.#deliver(c);
      if (behaviour === 'duplicate') this.#deliver(c);
      if (behaviour === 'garbage-tag')
        this.#deliver({ tag: tag ^ 0x7fff_0000, ok: true, value: new Uint8Array(1) });
      if (behaviour === 'late-duplicate') {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          this.#deliver(c);
        }, 5);
        this.#timers.add(t);
      }
    };
    const latency = behaviour === 'slow' ? 60 : this.#latencyMs;
    if (latency > 0) {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        complete();
      }, latency);
      this.#timers.add(t);
    } else {
      complete();
    }
  }

  #completion(tag: number, request: PrimitiveRequest, behaviour: Behaviour): Completion {
    const device = this.device.info.id;
    if (behaviour === 'error')
      return { tag, ok: false, error: new DeviceError('fake error status', { device }) };
    if (behaviour === 'unsupported')
      return { tag, ok: false, error: new UnsupportedError('fake refused the parameter', { device }) };
    return { tag, ok: true, value: expectedValue(request) as PrimitiveValue };
  }

  #deliver(c: Completion): void {
    if (this.#manual) this.held.push(c);
    else this.ready.push(c);
    this.#wake();
  }

  /** Manual mode: make `count` held completions harvestable (all by default). */
  release(count = this.held.length): void {
    this.ready.push(...this.held.splice(0, count));
    this.#wake();
  }

  #wake(): void {
    if (this.ready.length === 0) return;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  harvest(sink: (completion: Completion) => void, max = Number.POSITIVE_INFINITY): number {
    this.harvestCalls++;
    const n = Math.min(max, this.ready.length);
    const batch = this.ready.splice(0, n);
    for (const c of batch) {
      this.flying.delete(c.tag);
      sink(c);
    }
    return n;
  }

  waitForCompletions(signal?: AbortSignal): Promise<void> {
    this.waitCalls++;
    if (this.ready.length > 0) return Promise.resolve();
    if (this.device.state === 'gone') return Promise.reject(new DeviceGoneError('fake gone'));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiter = undefined;
        reject(new AbortedError());
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
    });
  }

  async abandon(): Promise<readonly number[]> {
    this.abandonCalls++;
    const tags = [...this.flying.keys()];
    this.flying.clear();
    return tags;
  }

  /** Cancel the fake's own timers. */
  dispose(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

export interface FakeDeviceOptions {
  readonly id?: string;
  readonly driver?: string;
  readonly priority?: number;
  readonly queuePairs?: number;
  readonly qp?: FakeQueuePairOptions;
  readonly capabilities?: readonly Capability[];
  readonly holds?: (key: unknown) => boolean;
}

export class FakeDevice implements Device {
  readonly info: DeviceInfo;
  state: DeviceState = 'ready';
  capabilities: readonly Capability[];
  readonly queuePairs: readonly FakeQueuePair[];
  readonly keySlots: KeySlots | undefined;
  readonly #listeners = new Set<(event: DeviceEvent) => void>();

  constructor(options: FakeDeviceOptions = {}) {
    this.info = {
      id: options.id ?? 'fake',
      driver: options.driver ?? 'fake',
      model: 'fake device',
      priority: options.priority ?? 100,
    };
    this.capabilities = options.capabilities ?? [{ op: 'rsa-public' }];
    const count = options.queuePairs ?? 1;
    this.queuePairs = Array.from({ length: count }, (_, i) => new FakeQueuePair(this, i, options.qp));
    const holds = options.holds;
    this.keySlots = holds ? { capacity: 16, holds } : undefined;
  }

  subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  setState(state: DeviceState, reason?: string): void {
    this.state = state;
    // Per the Device contract, jobs in flight are abandoned: none of them completes later.
    if (state !== 'ready')
      for (const qp of this.queuePairs) {
        qp.flying.clear();
        qp.held.length = 0;
        qp.ready.length = 0;
      }
    for (const l of this.#listeners) l({ type: 'state', state, ...(reason ? { reason } : {}) });
  }

  setCapabilities(capabilities: readonly Capability[]): void {
    this.capabilities = capabilities;
    for (const l of this.#listeners) l({ type: 'capabilities' });
  }

  async reset(): Promise<void> {
    this.setState('resetting');
    this.setState('ready');
  }

  async close(): Promise<void> {
    for (const qp of this.queuePairs) qp.dispose();
    this.state = 'closed';
  }
}

export function rsaKey(bits = 2048): RsaPublicKeyMaterial {
  return { kind: 'rsa-public', n: (1n << BigInt(bits)) - 1n, e: 65537n, bits };
}

const defaultKey = rsaKey();

/**
 * An rsa-public request whose input encodes `i` (so results can be matched to jobs). Modulus-length,
 * so the fake's result (input XOR 0x5a, first byte 0x5a) is a value below the modulus and passes the
 * integrity gate's shape check.
 */
export function request(i: number, key: RsaPublicKeyMaterial = defaultKey): PrimitiveRequest {
  const input = new Uint8Array(Math.ceil(key.bits / 8));
  new DataView(input.buffer).setFloat64(input.length - 8, i);
  return { op: 'rsa-public', key, input };
}

/** Wait for the queue's microtasks and a few event-loop turns. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}
