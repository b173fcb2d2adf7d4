/**
 * The software device: node:crypto (OpenSSL) behind the Device contract, so
 * the scheduler treats it like any card. Spec options:
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
  InvalidInputError,
  throwIfAborted,
} from '../../core/driver/index.js';
import type { DeviceSpec } from '../../core/platform/index.js';
import { SOFTWARE_CAPABILITIES } from './capabilities.js';
import { InlinePolicy } from './inline-policy.js';
import { WorkerPool } from './pool.js';
import { SoftwareQueuePair } from './queue-pair.js';
import { UvPool } from './uv-pool.js';

export const SOFTWARE_PRIORITY = 0;

function intOption(spec: DeviceSpec, name: string, fallback: number, min: number, max: number): number {
  const text = spec.options[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`device spec "${spec.text}": ${name} must be an integer in ${min}–${max}`);
  }
  return value;
}

export class SoftwareDevice implements Device {
  readonly info: DeviceInfo;
  readonly capabilities: readonly Capability[] = SOFTWARE_CAPABILITIES;
  readonly queuePairs: readonly SoftwareQueuePair[];
  readonly #pool: WorkerPool;
  readonly #uv: UvPool | undefined;
  readonly #listeners = new Set<(event: DeviceEvent) => void>();
  #state: DeviceState = 'ready';

  constructor(spec: DeviceSpec) {
    const workers = intOption(spec, 'workers', 0, 1, 256);
    const depth = intOption(spec, 'depth', 1024, 1, 1 << 20);
    const queues = intOption(spec, 'queues', 1, 1, 64);
    const inlineOption = spec.options.inline ?? 'on';
    if (inlineOption !== 'on' && inlineOption !== 'off') {
      throw new InvalidInputError(`device spec "${spec.text}": inline must be "on" or "off"`);
    }
    const poolOption = spec.options.pool ?? 'workers';
    if (poolOption !== 'uv' && poolOption !== 'workers') {
      throw new InvalidInputError(`device spec "${spec.text}": pool must be "uv" or "workers"`);
    }
    const id = spec.text;
    this.info = {
      id,
      driver: 'software',
      model: `node:crypto (OpenSSL ${process.versions.openssl})`,
      priority: SOFTWARE_PRIORITY,
    };
    const inline = new InlinePolicy(inlineOption === 'on');
    const cpus = availableParallelism();
    this.#pool = new WorkerPool(id, workers !== 0 ? workers : inline.enabled ? Math.max(1, cpus - 1) : cpus);
    const uv = poolOption === 'uv' ? new UvPool() : undefined;
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
