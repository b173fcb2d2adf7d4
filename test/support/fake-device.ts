/**
 * The one fake device of the tests and benches (issue 13 §5): a configurable
 * in-process Device, with counters of every call the queue makes.
 *
 * - `new FakeDevice(options)`: queue pairs with a depth, a completion latency
 *   (or manual release), and a behaviour per job (ok, error, unsupported, drop,
 *   duplicate, late duplicate, hang, garbage tag, slow, corrupt). An ok job
 *   answers `compute(request)`: by default `expectedValue` (the rsa-public fake:
 *   input XOR 0x5a, so a mixed-up result is caught); `correctValue` computes the
 *   real answer with node:crypto (the software provider's requests), which the
 *   integrity gate accepts.
 * - `fakeDriver(options)`: a third-party style VirtualDriver whose devices are
 *   FakeDevices, logging the ops they ran (registry and API tests).
 * - `nullDevice(value, options)`: completes every job at once with `value`
 *   and allocates nothing per job, the floor under which no real device can go
 *   (benches measure the framework alone with it).
 *
 * test/ and bench/ import it; the layer rules let them import anything.
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
  PrimitiveOp,
  PrimitiveRequest,
  PrimitiveValue,
  QueuePair,
  RsaPublicKeyMaterial,
  VirtualDriver,
} from '../../core/driver/index.js';
import {
  AbortedError,
  DeviceError,
  DeviceGoneError,
  PkaccelError,
  UnsupportedError,
} from '../../core/driver/index.js';
import type { DeviceSpec } from '../../core/platform/index.js';
import { execute } from '../../drivers/software/requests.js';

/** What the fake does with one job. */
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
  | 'slow'
  /** Completes ok with a wrong value: `compute`'s answer with one bit flipped. */
  | 'corrupt';

/** The value the default fake computes for a request: its input bytes XOR 0x5a (so a mixed-up result is caught). */
export function expectedValue(request: PrimitiveRequest): Uint8Array {
  if (request.op !== 'rsa-public') throw new Error(`the fake only does rsa-public, got ${request.op}`);
  return request.input.map((b) => b ^ 0x5a);
}

/** The right answer, computed with node:crypto as the software provider does (the integrity gate accepts it). */
export function correctValue(request: PrimitiveRequest): PrimitiveValue {
  if (request.op === 'keygen') throw new UnsupportedError('the fake device does not generate keys');
  return execute(request);
}

/** `value` with one bit flipped (a byte string's last byte, a point's x, a verdict negated). */
export function corrupted(value: PrimitiveValue): PrimitiveValue {
  if (value instanceof Uint8Array) {
    const out = value.slice();
    if (out.length > 0) out[out.length - 1]! ^= 0x01;
    return out;
  }
  if (typeof value === 'boolean') return !value;
  if (typeof value === 'object' && value !== null && 'x' in value && typeof value.x === 'bigint') {
    return { ...value, x: value.x ^ 1n } as PrimitiveValue;
  }
  throw new Error('the fake cannot corrupt this kind of value');
}

export interface FakeQueuePairOptions {
  readonly depth?: number;
  /** ms before a job completes; 0 = completes at once (visible to the next harvest). */
  readonly latencyMs?: number;
  /**
   * A card with a queue deeper than its engines: jobs run first come, first served on this many
   * engines, each taking `latencyMs` (so the queue pair does engines ÷ latencyMs jobs per ms and
   * a job behind others waits). Unset: every job in flight completes `latencyMs` after submit.
   */
  readonly engines?: number;
  /** Completions are released only by `release()` (for tests that control timing). */
  readonly manual?: boolean;
  readonly behave?: (job: Job, qp: FakeQueuePair) => Behaviour;
}

/** What FakeDevice needs of its queue pairs beyond the contract. */
interface FakePair extends QueuePair {
  /** The device left service: forget every job in flight (none completes later). */
  clear(): void;
  /** Cancel the fake's own timers. */
  dispose(): void;
}

export class FakeQueuePair implements FakePair {
  readonly index: number;
  readonly depth: number;
  readonly device: FakeDevice;
  readonly #latencyMs: number;
  readonly #engines: number;
  /** Jobs waiting for an engine (engines mode): each one's completion, to run once it got one. */
  readonly #engineQueue: (() => void)[] = [];
  #enginesBusy = 0;
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
    this.#engines = options.engines ?? 0;
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
    if (this.#engines > 0) {
      this.#engineQueue.push(() => this.#after(latency, complete));
      this.#runEngines();
    } else if (latency > 0) {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        complete();
      }, latency);
      this.#timers.add(t);
    } else {
      complete();
    }
  }

  /** Engines mode: start waiting jobs while an engine is free; each frees its engine when done. */
  #runEngines(): void {
    while (this.#enginesBusy < this.#engines && this.#engineQueue.length > 0) {
      this.#enginesBusy++;
      this.#engineQueue.shift()!();
    }
  }

  #after(latency: number, complete: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#enginesBusy--;
      complete();
      this.#runEngines();
    }, latency);
    this.#timers.add(t);
  }

  #completion(tag: number, request: PrimitiveRequest, behaviour: Behaviour): Completion {
    const device = this.device.info.id;
    if (behaviour === 'error')
      return { tag, ok: false, error: new DeviceError('fake error status', { device }) };
    if (behaviour === 'unsupported')
      return { tag, ok: false, error: new UnsupportedError('fake refused the parameter', { device }) };
    let value: PrimitiveValue;
    this.device.log.ops.push(request.op);
    try {
      value = this.device.compute(request);
    } catch (error) {
      const e =
        error instanceof PkaccelError
          ? error
          : new DeviceError('fake device failed', { cause: error, device });
      return { tag, ok: false, error: e };
    }
    return { tag, ok: true, value: behaviour === 'corrupt' ? corrupted(value) : value };
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

  clear(): void {
    this.flying.clear();
    this.#engineQueue.length = 0;
    this.held.length = 0;
    this.ready.length = 0;
  }

  dispose(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

/** nullDevice's queue pair: completions written at submit into a ring of reused records. */
export class NullQueuePair implements FakePair {
  readonly index: number;
  readonly depth: number;
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

  clear(): void {
    this.#count = 0;
  }

  dispose(): void {}
}

export interface FakeDeviceOptions {
  readonly id?: string;
  readonly driver?: string;
  readonly model?: string;
  readonly priority?: number;
  readonly queuePairs?: number;
  readonly qp?: FakeQueuePairOptions;
  /** What the device claims (default: rsa-public). */
  readonly capabilities?: readonly Capability[];
  /** Shorthand for capabilities without parameter ranges. */
  readonly ops?: readonly PrimitiveOp[];
  /** Key slots whose `holds` the test decides (for affinity tests). */
  readonly holds?: (key: unknown) => boolean;
  /** An ok job's value (default `expectedValue`; `correctValue` for real answers). A throw is an error completion. */
  readonly compute?: (request: PrimitiveRequest) => PrimitiveValue;
}

/** Ops the device computed (error and unsupported behaviours aside), in order. */
export interface JobLog {
  readonly ops: string[];
}

export class FakeDevice<Q extends FakePair = FakeQueuePair> implements Device {
  readonly info: DeviceInfo;
  state: DeviceState = 'ready';
  capabilities: readonly Capability[];
  readonly queuePairs: readonly Q[];
  readonly keySlots: KeySlots | undefined;
  readonly compute: (request: PrimitiveRequest) => PrimitiveValue;
  readonly log: JobLog;
  readonly #listeners = new Set<(event: DeviceEvent) => void>();

  /** `makeQueuePair`: another kind of queue pair than FakeQueuePair (nullDevice's). */
  constructor(
    options: FakeDeviceOptions = {},
    makeQueuePair?: (device: FakeDevice<Q>, index: number) => Q,
    log: JobLog = { ops: [] },
  ) {
    this.info = {
      id: options.id ?? 'fake',
      driver: options.driver ?? 'fake',
      model: options.model ?? 'fake device',
      priority: options.priority ?? 100,
    };
    this.capabilities = options.capabilities ?? (options.ops ?? ['rsa-public']).map((op) => ({ op }));
    this.compute = options.compute ?? expectedValue;
    this.log = log;
    const make =
      makeQueuePair ??
      ((device: FakeDevice<Q>, i: number) =>
        new FakeQueuePair(device as unknown as FakeDevice, i, options.qp) as unknown as Q);
    this.queuePairs = Array.from({ length: options.queuePairs ?? 1 }, (_, i) => make(this, i));
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
    if (state !== 'ready') for (const qp of this.queuePairs) qp.clear();
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

export interface NullDeviceOptions {
  readonly id?: string;
  readonly queuePairs?: number;
  readonly depth?: number;
  /** The primitives it claims (by default the queue bench's: raw and device-padded RSA, ECDSA, ECDH). */
  readonly ops?: readonly PrimitiveOp[];
}

/** A device doing every primitive instantly, returning `value` for each, allocating nothing per job. */
export function nullDevice(
  value: PrimitiveValue,
  options: NullDeviceOptions = {},
): FakeDevice<NullQueuePair> {
  const depth = options.depth ?? 256;
  return new FakeDevice<NullQueuePair>(
    {
      id: options.id ?? 'null',
      driver: 'null',
      model: 'in-process null device',
      priority: 100,
      queuePairs: options.queuePairs ?? 1,
      ops: options.ops ?? ['rsa-public', 'rsa-private', 'rsa-sign', 'ecdsa-sign', 'ecdsa-verify', 'ecdh'],
      compute: () => value,
    },
    (_device, i) => new NullQueuePair(i, depth, value),
  );
}

export interface FakeDriverOptions {
  readonly name: string;
  readonly scheme: string;
  readonly priority: number;
  readonly capabilities: readonly Capability[];
  /** An ok job's value; a throw is an error completion (a PkaccelError as it is, anything else a DeviceError). */
  readonly compute: (request: PrimitiveRequest) => PrimitiveValue;
  readonly role?: VirtualDriver['role'];
  /** Each device's queue pair (depth 8 by default, completing at once). */
  readonly qp?: FakeQueuePairOptions;
}

/** A third-party style VirtualDriver whose devices (id = the spec's text) are FakeDevices sharing one log. */
export function fakeDriver(options: FakeDriverOptions): { driver: VirtualDriver; log: JobLog } {
  const log: JobLog = { ops: [] };
  const driver: VirtualDriver = {
    kind: 'virtual',
    name: options.name,
    scheme: options.scheme,
    priority: options.priority,
    ...(options.role ? { role: options.role } : {}),
    async open(spec: DeviceSpec): Promise<Device> {
      return new FakeDevice(
        {
          id: spec.text,
          driver: options.name,
          model: `${options.name} test card`,
          priority: options.priority,
          capabilities: options.capabilities,
          compute: options.compute,
          ...(options.qp ? { qp: options.qp } : {}),
        },
        undefined,
        log,
      );
    },
  };
  return { driver, log };
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
