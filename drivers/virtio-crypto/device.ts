/**
 * The virtio-crypto Device: brings the function up (status handshake, features,
 * queues), owns the control queue, the session cache, the capability book and the
 * interrupt, and recovers by resetting the whole device (DEVICE_NEEDS_RESET, a
 * hung queue, a device that broke a ring rule).
 */

import { SharedIrq } from '../../core/driver/completion-wait.js';
import {
  type Capability,
  cardRateEstimate,
  type Device,
  DeviceError,
  type DeviceEvent,
  DeviceGoneError,
  type DeviceInfo,
  type DeviceState,
  type ServiceEstimate,
  throwIfAborted,
  UnsupportedError,
} from '../../core/driver/index.js';
import { RemovalWatch } from '../../core/driver/removal-watch.js';
import type { DmaBuffer, PciFunction } from '../../core/platform/index.js';
import { CONTROL_BUFFER_BYTES, ControlChannel } from './control.js';
import { CapabilityBook, type Combination, type CryptoConfig, readCryptoConfig } from './crypto-config.js';
import { type DeviceContext, SLOT_BYTES, VirtioQueuePair } from './queue-pair.js';
import { Isr, Status, VIRTIO_MSI_NO_VECTOR } from './registers.js';
import { SessionCache } from './sessions.js';
import { ModernTransport } from './transport.js';
import { ringBytes, SplitVirtqueue } from './virtqueue.js';

/** Ring entries per data queue: 3 descriptors per job, so 64 jobs in flight. */
const DATA_QUEUE_SIZE = 256;
const CONTROL_QUEUE_SIZE = 2;

interface QueueMemory {
  readonly ring: DmaBuffer;
  readonly slots?: DmaBuffer;
}

/** How `start()` brings the device up (from the probe options, see driver.ts). */
export interface VirtioDeviceOptions {
  /** The device's id (default `virtio-crypto@<address>`). */
  readonly id?: string | undefined;
  /** The most data queues to use (each costs a ring and its slots). */
  readonly queues: number;
  /** Poll the rings instead of waiting for interrupts. */
  readonly poll: boolean;
  /** With interrupts: re-check the rings this often anyway (ms), so a lost interrupt costs latency, not a hang. */
  readonly pollMs: number;
  /** The device's declared ops/s (the `rate` option), for the scheduler's starting estimate. */
  readonly rate?: number | undefined;
}

export class VirtioCryptoDevice implements Device, DeviceContext {
  readonly info: DeviceInfo;
  readonly queuePairs: VirtioQueuePair[] = [];
  readonly #fn: PciFunction;
  readonly #options: VirtioDeviceOptions;
  readonly #dataQueues: SplitVirtqueue[] = [];
  readonly #memory: QueueMemory[] = [];
  readonly #listeners = new Set<(event: DeviceEvent) => void>();
  // Set by start():
  #transport: ModernTransport | undefined;
  #config: CryptoConfig | undefined;
  #book: CapabilityBook | undefined;
  #sessions: SessionCache | undefined;
  #control: ControlChannel | undefined;
  #controlQueue: SplitVirtqueue | undefined;
  #irq: SharedIrq | undefined;
  #msix = false;
  /** The device is gone when the platform sees it disappear; watched again after it comes back. */
  readonly #removal = new RemovalWatch(() => this.#gone());
  #state: DeviceState = 'resetting';
  #resetting: Promise<void> | undefined;

  /** Nothing touches the device until `start()`. */
  constructor(fn: PciFunction, options: VirtioDeviceOptions) {
    this.#fn = fn;
    this.#options = options;
    this.info = {
      id: options.id ?? `virtio-crypto@${fn.info.address}`,
      driver: 'virtio-crypto',
      model: 'virtio-crypto (akcipher)',
      address: fn.info.address,
      priority: 50,
    };
  }

  /** Bring the device up (reset, features, queues, DRIVER_OK); it is ready when this resolves. Once. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#transport !== undefined) throw new Error(`virtio-crypto ${this.id} was already started`);
    const fn = this.#fn;
    const transport = new ModernTransport(fn);
    this.#transport = transport;
    await transport.reset(signal);
    transport.addStatus(Status.acknowledge | Status.driver);
    transport.negotiate();
    const config = readCryptoConfig(transport.common, transport.deviceConfig);
    if (config.maxDataQueues < 1 || transport.numQueues < config.maxDataQueues + 1)
      throw new UnsupportedError(
        `virtio-crypto: ${config.maxDataQueues} data queues advertised but ${transport.numQueues} queues exist`,
      );
    this.#config = config;
    this.#book = new CapabilityBook(config);

    const wantQueues = Math.max(1, Math.min(config.maxDataQueues, this.#options.queues));
    for (let q = 0; q < wantQueues; q++) {
      const size = Math.min(DATA_QUEUE_SIZE, floorPow2(transport.maxQueueSize(q)));
      if (size < 4) throw new UnsupportedError(`virtio-crypto: data queue ${q} has ${size} entries`);
      const ring = fn.dma.allocate(ringBytes(size), { align: 4096 });
      const slotCount = Math.floor(size / 3);
      const slots = fn.dma.allocate(slotCount * SLOT_BYTES, { align: 4096 });
      this.#memory.push({ ring, slots });
      const vq = new SplitVirtqueue(q, size, ring, () => transport.common.barrier());
      this.#dataQueues.push(vq);
      const qp = new VirtioQueuePair(q, vq, slots, this);
      qp.setAbandonHandler((pair, signal) => this.#abandon(pair, signal));
      this.queuePairs.push(qp);
    }
    const controlIndex = config.maxDataQueues;
    const controlSize = Math.min(CONTROL_QUEUE_SIZE, floorPow2(transport.maxQueueSize(controlIndex)));
    if (controlSize < 2) throw new UnsupportedError('virtio-crypto: the control queue is missing');
    const controlRing = fn.dma.allocate(ringBytes(controlSize), { align: 4096 });
    const controlBuffer = fn.dma.allocate(CONTROL_BUFFER_BYTES, { align: 64 });
    this.#memory.push({ ring: controlRing, slots: controlBuffer });
    const controlQueue = new SplitVirtqueue(controlIndex, controlSize, controlRing, () =>
      transport.common.barrier(),
    );
    this.#controlQueue = controlQueue;
    this.#control = new ControlChannel(
      transport,
      controlQueue,
      controlBuffer,
      (e) => this.violation(e),
      () => this.#irq,
    );
    this.#sessions = new SessionCache(this.#control);

    const useIrq = !this.#options.poll && fn.irqSupport.kind !== 'none' && fn.irqSupport.vectors > 0;
    this.#msix = useIrq && fn.irqSupport.kind === 'msix';
    if (useIrq) {
      const irq = fn.openIrq(0);
      this.#irq = new SharedIrq(irq, {
        name: `virtio-crypto ${this.id}`,
        service: () => this.#serviceInterrupt(irq.unmask.bind(irq)),
      });
    }
    this.#removal.watch(this.#fn.removed);
    try {
      await this.#bringUp(signal, false);
    } catch (error) {
      this.#irq?.close();
      transport.addStatus(Status.failed);
      throw error;
    }
    this.#state = 'ready';
  }

  #started<T>(value: T | undefined): T {
    if (value === undefined) throw new Error(`virtio-crypto ${this.id} was not started`);
    return value;
  }

  get transport(): ModernTransport {
    return this.#started(this.#transport);
  }

  get config(): CryptoConfig {
    return this.#started(this.#config);
  }

  get book(): CapabilityBook {
    return this.#started(this.#book);
  }

  get sessions(): SessionCache {
    return this.#started(this.#sessions);
  }

  /** The device's interrupt, shared by its queues (undefined when polling). */
  get irq(): SharedIrq | undefined {
    return this.#irq;
  }

  /** How long a queue's wait sleeps before looking again: the next event-loop turn when polling. */
  get pollMs(): number {
    return this.#irq === undefined ? 0 : this.#options.pollMs;
  }

  get interruptMode(): 'msix' | 'intx' | 'poll' {
    return this.#irq === undefined ? 'poll' : this.#msix ? 'msix' : 'intx';
  }

  /** Queues programmed, then DRIVER_OK. `again`: after a reset (status and features first). */
  async #bringUp(signal: AbortSignal | undefined, again: boolean): Promise<void> {
    if (again) {
      await this.transport.reset(signal);
      this.transport.addStatus(Status.acknowledge | Status.driver);
      this.transport.negotiate();
    }
    throwIfAborted(signal);
    const vector = this.#msix ? 0 : VIRTIO_MSI_NO_VECTOR;
    if (this.#msix && !this.transport.setConfigVector(0))
      throw new DeviceError('virtio-crypto: the device refused MSI-X vector 0 for configuration changes');
    for (const vq of [...this.#dataQueues, this.#started(this.#controlQueue)]) {
      vq.clear();
      if (
        !this.transport.setupQueue(
          vq.index,
          vq.size,
          { desc: vq.descAddress, avail: vq.availAddress, used: vq.usedAddress },
          vector,
        )
      )
        throw new DeviceError(`virtio-crypto: the device refused MSI-X vector 0 for queue ${vq.index}`);
    }
    this.transport.addStatus(Status.driverOk);
    if ((this.transport.status & (Status.failed | Status.deviceNeedsReset)) !== 0)
      throw new DeviceError(`virtio-crypto: device status ${this.transport.status} after DRIVER_OK`);
    if (!readCryptoConfig(this.transport.common, this.transport.deviceConfig).hwReady)
      throw new DeviceError('virtio-crypto: the device is not ready (VIRTIO_CRYPTO_S_HW_READY clear)');
  }

  /** The declared rate over the data queues in use (the backend serves them in parallel), whatever the job. */
  serviceEstimate(): ServiceEstimate | undefined {
    return cardRateEstimate(this.#options.rate, Math.max(1, this.queuePairs.length));
  }

  get state(): DeviceState {
    return this.#state;
  }

  get capabilities(): readonly Capability[] {
    return this.book.list;
  }

  subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: DeviceEvent): void {
    for (const l of [...this.#listeners]) l(event);
  }

  #setState(state: DeviceState, reason?: string): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit(reason === undefined ? { type: 'state', state } : { type: 'state', state, reason });
  }

  // ---- DeviceContext (for the queue pairs) ----

  get id(): string {
    return this.info.id;
  }

  usable(): boolean {
    return this.#state === 'ready';
  }

  notify(queue: number): void {
    this.transport.notify(queue);
  }

  violation(error: Error): void {
    if (this.#state !== 'ready') return;
    this.#failInFlight(
      () => new DeviceError(`virtio-crypto ${this.id} out of service: ${error.message}`, { device: this.id }),
    );
    this.#setState('failed', error.message);
  }

  refuse(combination: Combination): void {
    if (this.book.refuse(combination)) this.#emit({ type: 'capabilities' });
  }

  // ---- interrupts and status ----

  #serviceInterrupt(unmask: () => void): void {
    if (this.#msix) {
      this.#checkStatus();
      return;
    }
    // INTx: reading the ISR lowers the line; then let it fire again.
    const isr = this.transport.readIsr();
    if (isr & Isr.config) this.#checkStatus();
    unmask();
  }

  #checkStatus(): void {
    if (this.#state !== 'ready') return;
    const status = this.transport.status;
    if (status === 0xff) return; // all-ones: the function is going away; `removed` says so
    if (status & Status.deviceNeedsReset) {
      this.#failInFlight(
        () => new DeviceError(`virtio-crypto ${this.id} needs a reset`, { device: this.id }),
      );
      this.#setState('failed', 'DEVICE_NEEDS_RESET');
    }
  }

  #failInFlight(makeError: () => DeviceError | DeviceGoneError): void {
    for (const qp of this.queuePairs) qp.failAll(makeError);
  }

  #gone(): void {
    if (this.#state === 'gone' || this.#state === 'closed') return;
    this.#failInFlight(
      () => new DeviceGoneError(`virtio-crypto ${this.id} was removed`, { device: this.id }),
    );
    this.#control?.invalidate();
    this.#irq?.fail(new DeviceGoneError(`virtio-crypto ${this.id} was removed`, { device: this.id }));
    this.#setState('gone', 'surprise removal');
  }

  // ---- reset and recovery ----

  /** A hung queue: virtio 1.x cannot reset one queue reliably, so the device is reset; other queues' jobs fail. */
  async #abandon(pair: VirtioQueuePair, signal?: AbortSignal): Promise<readonly number[]> {
    const tags = pair.takeAll();
    for (const qp of this.queuePairs)
      if (qp !== pair)
        qp.failAll(
          () =>
            new DeviceError(`virtio-crypto ${this.id} was reset to recover queue ${pair.index}`, {
              device: this.id,
            }),
        );
    await this.reset(signal);
    return tags;
  }

  /**
   * A removed device is back when it answers again (device_status reads all-ones
   * while it is away), with the same number of data queues: then `reset` brings it up.
   */
  #checkReinserted(): void {
    const transport = this.transport;
    if (transport.status === 0xff)
      throw new DeviceGoneError(`virtio-crypto ${this.id} is gone (still removed)`, { device: this.id });
    const config = readCryptoConfig(transport.common, transport.deviceConfig);
    if (config.maxDataQueues !== this.config.maxDataQueues)
      throw new DeviceGoneError(`virtio-crypto ${this.id} came back as a different device; open it anew`, {
        device: this.id,
      });
    this.#removal.watch(this.#fn.removed);
  }

  /** Reset the whole device and bring it up again; also brings back a device that was removed and is present again. */
  reset(signal?: AbortSignal): Promise<void> {
    if (this.#state === 'closed')
      return Promise.reject(new DeviceGoneError(`virtio-crypto ${this.id} is closed`, { device: this.id }));
    if (this.#state === 'gone' && this.#resetting === undefined) {
      try {
        this.#checkReinserted();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    this.#resetting ??= this.#reset(signal).finally(() => {
      this.#resetting = undefined;
    });
    return this.#resetting;
  }

  async #reset(signal?: AbortSignal): Promise<void> {
    this.#setState('resetting');
    for (const qp of this.queuePairs) qp.takeAll();
    this.#control?.invalidate();
    this.sessions.clear();
    try {
      await this.#bringUp(signal, true);
      for (const qp of this.queuePairs) qp.restart();
      this.#setState('ready');
    } catch (error) {
      this.#setState('failed', error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state === 'ready') await this.sessions.destroyAll();
    this.#failInFlight(() => new DeviceGoneError(`virtio-crypto ${this.id} was closed`, { device: this.id }));
    this.#setState('closed');
    this.#control?.invalidate();
    try {
      if (this.transport.status !== 0xff) await this.transport.reset();
    } catch {
      // A device that will not reset is released anyway.
    }
    this.#irq?.close();
    for (const m of this.#memory) {
      m.slots?.zero();
      m.ring.free();
      m.slots?.free();
    }
    await this.#fn.close();
  }
}

function floorPow2(n: number): number {
  if (n < 1) return 0;
  return 2 ** Math.floor(Math.log2(n));
}
