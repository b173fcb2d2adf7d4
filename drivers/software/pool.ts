/**
 * The worker pool behind a software device. Jobs handed to `enqueue` during one
 * turn of the event loop are sent as one message per worker (split by estimated
 * cost, least-loaded first) at the end of that turn; each worker answers a batch
 * with one message. Workers are ref'd only while they hold work, so an idle pool
 * never keeps the process alive (like node's own thread pool), and while
 * `close()` waits for them to exit.
 */

import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { DeviceError, type PkaccelError, type PrimitiveValue } from '../../core/driver/index.js';
import { spawnWorker } from '../../core/platform/index.js';
import { fromWireError } from './errors.js';
import type { SyncRequest } from './requests.js';
import {
  BatchPacker,
  encodeRequest,
  packs,
  RESULT_WORDS,
  ResultKind,
  type ResultsMessage,
  type ToWorker,
  type WireRequest,
} from './wire.js';

/** Who gets a job's outcome. */
export interface PoolClient {
  onPoolResult(seq: number, ok: true, value: PrimitiveValue): void;
  onPoolResult(seq: number, ok: false, error: PkaccelError): void;
}

interface PoolWorker {
  readonly worker: Worker;
  /** Jobs sent and not yet answered (abandoned or not): sequence number → estimated cost. */
  readonly running: Map<number, number>;
  /** Estimated microseconds of work sent and not answered. */
  load: number;
  /** Whether the worker ever started; one that dies before is not replaced (it would die again). */
  online: boolean;
  readonly knownKeys: Set<number>;
  outbox: Outbox | undefined;
}

/** What a worker gets at the next flush. */
interface Outbox {
  readonly keys: (readonly [number, object])[];
  readonly packed: BatchPacker;
  readonly others: (readonly [number, WireRequest])[];
}

/** "No peer key" in a packed record. */
const NO_KEY = 0xffffffff;

function newOutbox(): Outbox {
  return { keys: [], packed: new BatchPacker(), others: [] };
}

function jobsIn(outbox: Outbox): number {
  return outbox.packed.size + outbox.others.length;
}

const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

/**
 * Rough single-core cost in µs: to spread a batch evenly across workers, and the device's
 * starting estimate for the scheduler (SoftwareDevice.serviceEstimate).
 */
export function estimateCost(request: SyncRequest): number {
  switch (request.op) {
    case 'rsa-private':
    case 'rsa-sign':
    case 'rsa-decrypt':
      return 300 * (request.key.publicKey.bits / 2048) ** 3;
    case 'rsa-public':
    case 'rsa-verify':
    case 'rsa-encrypt':
      return 25 * (request.key.bits / 2048) ** 2;
    case 'ecdsa-verify':
      return request.message === undefined ? 1000 : 70;
    case 'ecdh':
      return 100;
    case 'ec-mul':
      return request.point === undefined ? 20 : 1000;
    default:
      return 35;
  }
}

export class WorkerPool {
  readonly size: number;
  readonly #device: string;
  readonly #workers: PoolWorker[] = [];
  readonly #clients = new Map<number, PoolClient>();
  readonly #keyNumbers = new WeakMap<object, number>();
  readonly #collected = new FinalizationRegistry<number>((id) => this.#forget(id));
  #forgotten: number[] = [];
  #nextSeq = 0;
  #nextKey = 1;
  #flushScheduled = false;
  #queued = 0;
  #started = false;
  #closed = false;
  #broken: unknown = new Error('the pool was not started');
  /** Jobs answered by each worker slot since the pool started (for tests and benches). */
  readonly #answered: number[];

  /** Nothing runs until `start()`. */
  constructor(device: string, size = availableParallelism()) {
    this.#device = device;
    this.size = Math.max(1, size);
    this.#answered = new Array<number>(this.size).fill(0);
  }

  /** Spawn the workers (once; they stay unreferenced until they hold work). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    for (let i = 0; i < this.size; i++) this.#workers.push(this.#spawn());
  }

  /** How many jobs each worker slot has answered so far. */
  get answeredPerWorker(): readonly number[] {
    return [...this.#answered];
  }

  /** No job queued or running in any worker: the calling thread may do a small job itself. */
  get idle(): boolean {
    if (this.#queued > 0) return false;
    for (const w of this.#workers) if (w.running.size > 0) return false;
    return true;
  }

  /** Queue a job for the next flush; returns its sequence number. */
  enqueue(request: SyncRequest, client: PoolClient): number {
    const seq = this.#nextSeq;
    this.#nextSeq = (this.#nextSeq + 1) >>> 0;
    this.#clients.set(seq, client);
    if (this.#workers.length === 0) {
      queueMicrotask(() => this.#fail([seq], this.#broken));
      return seq;
    }
    const target = this.#leastLoaded();
    const cost = estimateCost(request);
    target.load += cost;
    target.running.set(seq, cost);
    if (target.running.size === 1) target.worker.ref();
    target.outbox ??= newOutbox();
    const outbox = target.outbox;
    if (packs(request)) {
      const key = this.#keyFor(target, outbox, (request as { key: object }).key);
      const peer = request.op === 'ecdh' ? this.#keyFor(target, outbox, request.peer) : NO_KEY;
      outbox.packed.add(seq, request, key, peer);
    } else {
      outbox.others.push([seq, encodeRequest(request, (material) => this.#keyFor(target, outbox, material))]);
    }
    this.#queued++;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
    return seq;
  }

  /** Stop routing these jobs' results (they were abandoned); the workers still finish them. */
  drop(seqs: Iterable<number>): void {
    for (const seq of seqs) this.#clients.delete(seq);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clients.clear();
    // An unreferenced worker's 'exit' event would not keep the event loop alive: with nothing else
    // on it the process would end before close() settles (exit code 13 under top-level await).
    // Referenced, each worker holds the process only until it has exited.
    await Promise.all(
      this.#workers.map((w) => {
        w.worker.ref();
        return w.worker.terminate();
      }),
    );
  }

  #leastLoaded(): PoolWorker {
    let best = this.#workers[0]!;
    for (const w of this.#workers) if (w.load < best.load) best = w;
    return best;
  }

  #keyFor(target: PoolWorker, outbox: Outbox, material: object): number {
    let id = this.#keyNumbers.get(material);
    if (id === undefined) {
      id = this.#nextKey++;
      this.#keyNumbers.set(material, id);
      this.#collected.register(material, id);
    }
    if (!target.knownKeys.has(id)) {
      target.knownKeys.add(id);
      outbox.keys.push([id, material]);
    }
    return id;
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    for (const w of this.#workers) {
      const outbox = w.outbox;
      if (outbox === undefined) continue;
      w.outbox = undefined;
      this.#queued -= jobsIn(outbox);
      const { table, count, bytes } = outbox.packed.finish();
      const message: ToWorker = {
        type: 'batch',
        keys: outbox.keys,
        table,
        count,
        bytes,
        others: outbox.others,
      };
      w.worker.postMessage(message, [table, bytes]);
    }
    if (this.#forgotten.length > 0) {
      const keys = this.#forgotten;
      this.#forgotten = [];
      for (const w of this.#workers) {
        for (const id of keys) w.knownKeys.delete(id);
        w.worker.postMessage({ type: 'forget', keys } satisfies ToWorker);
      }
    }
  }

  #forget(id: number): void {
    if (this.#closed) return;
    this.#forgotten.push(id);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #spawn(): PoolWorker {
    const worker: Worker = spawnWorker(workerUrl);
    worker.unref();
    const entry: PoolWorker = {
      worker,
      running: new Map(),
      load: 0,
      online: false,
      knownKeys: new Set(),
      outbox: undefined,
    };
    worker.once('online', () => {
      entry.online = true;
      // Coming online refs the worker's port again: an idle worker must not keep the process alive.
      // Once close() has begun the worker stays referenced: a worker still starting when close()
      // ref'd it came online afterwards, and unreferencing it here let the process end before
      // close() settled (exit 13, about 1 run in 80 of open/sign/close under load).
      if (entry.running.size === 0 && !this.#closed) worker.unref();
    });
    worker.on('message', (message: ResultsMessage) => this.#onResults(entry, message));
    worker.on('error', (error) => this.#onWorkerLost(entry, error));
    worker.on('exit', (code) => this.#onWorkerLost(entry, new Error(`worker exited with code ${code}`)));
    return entry;
  }

  #onResults(entry: PoolWorker, message: ResultsMessage): void {
    const slot = this.#workers.indexOf(entry);
    if (slot >= 0) this.#answered[slot]! += message.count;
    const table = new Uint32Array(message.table);
    const bytes = new Uint8Array(message.bytes);
    for (let at = 0; at < message.count * RESULT_WORDS; at += RESULT_WORDS) {
      const seq = table[at]!;
      entry.load -= entry.running.get(seq) ?? 0;
      entry.running.delete(seq);
      const client = this.#clients.get(seq);
      if (client === undefined) continue;
      this.#clients.delete(seq);
      const off = table[at + 2]!;
      switch (table[at + 1]) {
        case ResultKind.bytes:
          // A copy per result: each caller gets a buffer holding only its own bytes.
          client.onPoolResult(seq, true, bytes.slice(off, off + table[at + 3]!));
          break;
        case ResultKind.true:
          client.onPoolResult(seq, true, true);
          break;
        case ResultKind.false:
          client.onPoolResult(seq, true, false);
          break;
        case ResultKind.error:
          client.onPoolResult(seq, false, fromWireError(message.errors[off]!, this.#device));
          break;
        default:
          client.onPoolResult(seq, true, message.values[off]!);
      }
    }
    // Results may be shared secrets: none stays behind in the message's buffer.
    bytes.fill(0);
    if (entry.running.size === 0) {
      entry.load = 0;
      if (!this.#closed) entry.worker.unref();
    }
  }

  /** A worker died: its jobs fail with a DeviceError and a fresh worker takes its place. */
  #onWorkerLost(entry: PoolWorker, cause: unknown): void {
    const index = this.#workers.indexOf(entry);
    if (index < 0 || this.#closed) return;
    if (entry.online) this.#workers.splice(index, 1, this.#spawn());
    else {
      this.#workers.splice(index, 1);
      this.#broken = cause;
    }
    // Jobs still in the outbox are also in `running`: fail each once.
    if (entry.outbox !== undefined) this.#queued -= jobsIn(entry.outbox);
    this.#fail([...entry.running.keys()], cause);
    void entry.worker.terminate();
  }

  #fail(seqs: readonly number[], cause: unknown): void {
    for (const seq of seqs) {
      const client = this.#clients.get(seq);
      if (client === undefined) continue;
      this.#clients.delete(seq);
      const error = new DeviceError('software provider: a pool worker stopped', {
        cause,
        device: this.#device,
      });
      client.onPoolResult(seq, false, error);
    }
  }
}
