/**
 * The software device: node:crypto (OpenSSL) behind the Device contract, so
 * the scheduler treats it like any card. Made by the driver (driver.ts) from
 * the parsed spec options, then brought up with `start()` (the pool's workers).
 * Spec options (schema: SOFTWARE_OPTIONS in driver.ts):
 *   workers=N   pool size (default: one per CPU but one, the calling thread
 *               being the last: it keeps its share of each batch; with
 *               inline=off, one per CPU)
 *   depth=N     jobs in flight per queue pair (default 1024)
 *   queues=N    queue pairs, sharing the pool (default 1)
 *   inline=off  never run a job on the calling thread (default on)
 *   pool=workers|uv  where jobs that do not run inline go. `workers` (default):
 *               the worker pool. `uv`: jobs node:crypto has a callback form for
 *               (RSA PKCS#1 v1.5/PSS sign and verify, ECDSA and EdDSA, with the
 *               message) run on libuv's thread pool, one pool task each with only
 *               OpenSSL on the thread; the rest (ECDH, X25519, raw RSA, OAEP) go to
 *               the worker pool. Measured with `npm run bench -- software`, uv
 *               was no faster than workers at 64 in flight (RSA verify slower), so
 *               workers stays the default.
 */

import { availableParallelism } from 'node:os';
import {
  type Capability,
  type Device,
  type DeviceEvent,
  type DeviceInfo,
  type DeviceState,
  type PrimitiveRequest,
  type ServiceEstimate,
  throwIfAborted,
} from '../../core/driver/index.js';
import { SOFTWARE_CAPABILITIES } from './capabilities.js';
import { InlinePolicy } from './inline-policy.js';
import { estimateCost, WorkerPool } from './pool.js';
import { SoftwareQueuePair } from './queue-pair.js';
import { UvPool } from './uv-pool.js';

export const SOFTWARE_PRIORITY = 0;

/** A thread hop to a pool worker and back, ms: part of a job's unloaded latency (a starting figure). */
const HOP_MS = 0.1;

/** The spec options, parsed (driver.ts). */
export interface SoftwareDeviceOptions {
  /** Pool workers; undefined: the default for the inline setting. */
  readonly workers: number | undefined;
  readonly depth: number;
  readonly queues: number;
  readonly inline: 'on' | 'off';
  readonly pool: 'workers' | 'uv';
}

export class SoftwareDevice implements Device {
  readonly info: DeviceInfo;
  readonly capabilities: readonly Capability[] = SOFTWARE_CAPABILITIES;
  readonly queuePairs: readonly SoftwareQueuePair[];
  readonly #pool: WorkerPool;
  readonly #uv: UvPool | undefined;
  readonly #listeners = new Set<(event: DeviceEvent) => void>();
  #state: DeviceState = 'ready';
  /** Threads that compute: the pool's workers, and the calling thread when it runs jobs inline. */
  readonly #threads: number;

  /** `id`: the device spec's text. Nothing runs until `start()`. */
  constructor(id: string, options: SoftwareDeviceOptions) {
    const { workers, depth, queues } = options;
    this.info = {
      id,
      driver: 'software',
      model: `node:crypto (OpenSSL ${process.versions.openssl})`,
      priority: SOFTWARE_PRIORITY,
    };
    const inline = new InlinePolicy(options.inline === 'on');
    const cpus = availableParallelism();
    this.#pool = new WorkerPool(id, workers ?? (inline.enabled ? Math.max(1, cpus - 1) : cpus));
    this.#threads = this.#pool.size + (inline.enabled ? 1 : 0);
    const uv = options.pool === 'uv' ? new UvPool() : undefined;
    this.#uv = uv;
    this.queuePairs = Array.from(
      { length: queues },
      (_, index) =>
        new SoftwareQueuePair({
          index,
          depth,
          device: id,
          capabilities: this.capabilities,
          pool: this.#pool,
          inline,
          uv,
        }),
    );
  }

  /**
   * The pool's rough per-job cost on one core (pool.ts) over the threads that compute; a key
   * generation has no estimate (its time varies too much to place by).
   */
  serviceEstimate(request: PrimitiveRequest): ServiceEstimate | undefined {
    if (request.op === 'keygen') return undefined;
    const us = estimateCost(request);
    return { opsPerSecond: (this.#threads * 1e6) / us, latencyMs: us / 1000 + HOP_MS };
  }

  /** Bring the device up: start the pool's worker threads. */
  async start(signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    this.#pool.start();
  }

  /** Jobs each pool worker has answered (the calling thread's inline jobs are not counted). */
  get poolJobsPerWorker(): readonly number[] {
    return this.#pool.answeredPerWorker;
  }

  /** Tasks of this device still running on libuv's pool (abandoned ones included, until they end). */
  get uvTasksInFlight(): number {
    return this.#uv?.inFlight ?? 0;
  }

  get state(): DeviceState {
    return this.#state;
  }

  subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async reset(signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    if (this.#state === 'closed') return;
    this.#setState('resetting');
    await Promise.all(this.queuePairs.map((qp) => qp.abandon()));
    this.#setState('ready');
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    for (const qp of this.queuePairs) qp.close();
    await this.#pool.close();
  }

  #setState(state: DeviceState): void {
    this.#state = state;
    for (const listener of [...this.#listeners]) listener({ type: 'state', state });
  }
}
