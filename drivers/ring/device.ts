/**
 * A probed PKR-1 card: bring-up (docs/hardware/ring-card.md §7), capabilities
 * from CAPS, queue pairs, key slots, reset and recovery, and taking the card out
 * of service when it misbehaves or disappears.
 */

import { SharedIrq } from '../../core/driver/completion-wait.js';
import {
  type Capability,
  cardRateEstimate,
  type Device as DeviceContract,
  DeviceError,
  type DeviceEvent,
  DeviceGoneError,
  type DeviceInfo,
  type DeviceState,
  type EcCurveName,
  type ServiceEstimate,
  throwIfAborted,
  UnsupportedError,
} from '../../core/driver/index.js';
import { RemovalWatch } from '../../core/driver/removal-watch.js';
import type { DmaBuffer } from '../../core/platform/dma.js';
import type { Mmio } from '../../core/platform/mmio.js';
import type { PciFunction } from '../../core/platform/pci.js';
import { KEY_STAGING_BYTES, KeySlotManager } from './key-slots.js';
import { RingQueuePair } from './queue-pair.js';
import {
  CAPS_BIT,
  DEV_CTRL_ENABLE,
  DEV_CTRL_RESET,
  DEV_STATUS_READY,
  MAGIC,
  MIN_RSA_BITS,
  REG,
  VERSION_MAJOR,
  VERSION_MINOR,
} from './registers.js';

/** Reads of DEV_STATUS to wait for a reset before giving up. */
const RESET_POLL_LIMIT = 100_000;

export interface RingIdentity {
  readonly caps: number;
  readonly queues: number;
  readonly maxDepth: number;
  readonly keySlots: number;
  readonly maxRsaBits: number;
  readonly engines: number;
}

/** Step 1 of bring-up: check the card is a PKR-1 of a version this driver knows and read its limits. */
export function identify(bar: Mmio): RingIdentity {
  const magic = bar.read32(REG.MAGIC);
  if (magic !== MAGIC) throw new UnsupportedError(`not a PKR-1 ring card (MAGIC 0x${magic.toString(16)})`);
  const version = bar.read32(REG.VERSION);
  // 1.1 added the witnesses, the whole ECDH point and RSA_VERIFY (§4.4): this driver needs them.
  if (version >>> 16 !== VERSION_MAJOR || (version & 0xffff) < VERSION_MINOR) {
    throw new UnsupportedError(
      `PKR-1 programming model ${version >>> 16}.${version & 0xffff} is not supported (needs ${VERSION_MAJOR}.${VERSION_MINOR} or a later 1.x)`,
    );
  }
  return {
    caps: bar.read32(REG.CAPS),
    queues: bar.read32(REG.NUM_QUEUES),
    maxDepth: bar.read32(REG.MAX_DEPTH),
    keySlots: bar.read32(REG.NUM_KEY_SLOTS),
    maxRsaBits: bar.read32(REG.MAX_RSA_BITS),
    engines: bar.read32(REG.NUM_ENGINES),
  };
}

/** The hashes `RSA_VERIFY` knows (§4.3 hash IDs). */
const RSA_VERIFY_HASHES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const;

/** What the card does, from CAPS (§3.1). */
export function capabilitiesOf(id: RingIdentity): Capability[] {
  const curves: EcCurveName[] = [];
  if (id.caps & CAPS_BIT.P256) curves.push('P-256');
  if (id.caps & CAPS_BIT.P384) curves.push('P-384');
  const modulusBits = { min: MIN_RSA_BITS, max: id.maxRsaBits };
  const caps: Capability[] = [];
  if (id.caps & CAPS_BIT.RSA_PUBLIC) caps.push({ op: 'rsa-public', modulusBits });
  if (id.caps & CAPS_BIT.RSA_VERIFY) {
    caps.push({ op: 'rsa-verify', modulusBits, paddings: ['pkcs1-v1_5', 'pss'], hashes: RSA_VERIFY_HASHES });
  }
  if (id.caps & CAPS_BIT.RSA_PRIVATE_CRT) {
    caps.push({ op: 'rsa-private', modulusBits, multiPrime: false, keyStorage: ['slot'] });
  }
  if (curves.length > 0) {
    if (id.caps & CAPS_BIT.ECDSA_SIGN) caps.push({ op: 'ecdsa-sign', curves, keyStorage: ['slot'] });
    if (id.caps & CAPS_BIT.ECDSA_VERIFY) caps.push({ op: 'ecdsa-verify', curves });
    if (id.caps & CAPS_BIT.ECDH) caps.push({ op: 'ecdh', curves, keyStorage: ['slot'] });
  }
  return caps;
}

/** How the driver runs the card (from the probe options, see driver.ts). */
export interface RingDeviceOptions {
  readonly queues: number;
  readonly depth: number;
  readonly useIrq: boolean;
  readonly pollMs: number;
  readonly irqCtrl: number;
  readonly priority: number;
  /** The card's declared ops/s (the `rate` option), for the scheduler's starting estimate. */
  readonly rate?: number | undefined;
}

export class RingDevice implements DeviceContract {
  readonly info: DeviceInfo;
  readonly keySlots: KeySlotManager;
  readonly queuePairs: readonly RingQueuePair[];
  readonly #fn: PciFunction;
  readonly #bar: Mmio;
  readonly #staging: DmaBuffer;
  readonly #irqs: SharedIrq[];
  readonly #listeners = new Set<(event: DeviceEvent) => void>();
  #capabilities: readonly Capability[];
  #state: DeviceState = 'resetting';
  /** Why the card went out of service, for messages. */
  #reason: string | undefined;
  /** Goes `gone` when the platform sees the card disappear; watched again after a re-inserted card is back. */
  readonly #removal = new RemovalWatch(() => this.#removed());
  readonly #identity: RingIdentity;
  readonly #estimate: ServiceEstimate | undefined;

  constructor(fn: PciFunction, identity: RingIdentity, options: RingDeviceOptions, driverName: string) {
    this.#fn = fn;
    this.#identity = identity;
    this.#bar = fn.bar(0);
    this.info = {
      id: fn.info.address,
      driver: driverName,
      model: `PKR-1 ring card (${identity.queues} queues, ${identity.engines} engines)`,
      address: fn.info.address,
      priority: options.priority,
    };
    this.#capabilities = capabilitiesOf(identity);
    this.#estimate = cardRateEstimate(options.rate, identity.engines);
    this.#staging = fn.dma.allocate(KEY_STAGING_BYTES, { align: 64 });
    this.keySlots = new KeySlotManager(this.#bar, identity.keySlots, this.#staging, (reason) =>
      this.fail(reason),
    );
    const useIrq = options.useIrq && fn.irqSupport.kind !== 'none' && fn.irqSupport.vectors >= options.queues;
    this.#irqs = useIrq
      ? Array.from(
          { length: options.queues },
          (_, q) => new SharedIrq(fn.openIrq(q), { name: `ring card ${fn.info.address} queue ${q}` }),
        )
      : [];
    const host = {
      id: this.info.id,
      bar: this.#bar,
      keySlots: this.keySlots,
      state: () => this.#state,
      capabilities: () => this.#capabilities,
      fail: (reason: string) => this.fail(reason),
    };
    this.queuePairs = Array.from(
      { length: options.queues },
      (_, q) =>
        new RingQueuePair(host, fn.dma, {
          index: q,
          ringDepth: options.depth,
          irq: this.#irqs[q],
          pollMs: options.pollMs,
          irqCtrl: options.irqCtrl,
        }),
    );
    this.#removal.watch(this.#fn.removed);
  }

  get state(): DeviceState {
    return this.#state;
  }

  get capabilities(): readonly Capability[] {
    return this.#capabilities;
  }

  /** Every operation takes one engine for one service time: the declared rate, whatever the job. */
  serviceEstimate(): ServiceEstimate | undefined {
    return this.#estimate;
  }

  subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Bring the card up (§7 steps 2–4) after `new`; probe calls this once. On
   * failure the device is closed (the card left quiet) and the error rethrown.
   */
  async start(signal?: AbortSignal): Promise<void> {
    try {
      await this.reset(signal);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Reset the card and bring it up again (§7). Also recovers a card taken out of service. */
  async reset(signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    if (this.#state === 'closed') {
      throw new DeviceGoneError(`ring card ${this.info.id} is closed`, { device: this.info.id });
    }
    if (this.#state === 'gone') this.#checkReinserted();
    this.#setState('resetting');
    try {
      this.#bar.write32(REG.DEV_CTRL, DEV_CTRL_RESET);
      this.#waitReady();
      this.keySlots.clear(); // the card's slots are empty now: keys reload on their next use
      for (const qp of this.queuePairs) {
        qp.resetAfterCardReset();
        qp.program();
      }
      this.#bar.write32(REG.DEV_CTRL, DEV_CTRL_ENABLE);
    } catch (error) {
      if (this.#state === 'resetting')
        this.fail(`reset failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
    this.#reason = undefined;
    this.#setState('ready');
  }

  /**
   * A removed card is back when it answers again (datasheet §7): MAGIC reads all-ones while
   * it is away. It must be the card it was (same identity registers), in its reset state.
   */
  #checkReinserted(): void {
    if (this.#bar.read32(REG.MAGIC) === 0xffffffff) {
      throw new DeviceGoneError(`ring card ${this.info.id} is gone (still removed)`, {
        device: this.info.id,
      });
    }
    const id = identify(this.#bar);
    const was = this.#identity;
    if (
      id.caps !== was.caps ||
      id.queues !== was.queues ||
      id.keySlots !== was.keySlots ||
      id.maxDepth !== was.maxDepth ||
      id.maxRsaBits !== was.maxRsaBits
    ) {
      throw new DeviceGoneError(`ring card ${this.info.id} came back as a different card; open it anew`, {
        device: this.info.id,
      });
    }
    this.#removal.watch(this.#fn.removed);
  }

  #waitReady(): void {
    for (let i = 0; i < RESET_POLL_LIMIT; i++) {
      const status = this.#bar.read32(REG.DEV_STATUS);
      if (status === 0xffffffff)
        throw new DeviceGoneError(`ring card ${this.info.id} disappeared during reset`);
      if (status & DEV_STATUS_READY) return;
    }
    throw new DeviceError(`ring card ${this.info.id} did not become ready after reset`, {
      device: this.info.id,
    });
  }

  /**
   * Take the card out of service: stop it mastering DMA into our buffers and
   * complete every job in flight with a DeviceGoneError.
   */
  fail(reason: string): void {
    if (this.#state === 'failed' || this.#state === 'gone' || this.#state === 'closed') return;
    this.#reason = reason;
    this.#bar.write32(REG.DEV_CTRL, 0);
    this.#goOutOfService('failed', `ring card ${this.info.id} taken out of service: ${reason}`);
  }

  #removed(): void {
    if (this.#state === 'closed' || this.#state === 'gone') return;
    this.#reason = 'surprise removal';
    this.#goOutOfService('gone', `ring card ${this.info.id} was removed`);
  }

  #goOutOfService(state: 'failed' | 'gone', message: string): void {
    this.#state = state;
    this.keySlots.clear();
    const error = new DeviceGoneError(message, { device: this.info.id });
    for (const qp of this.queuePairs) qp.failAll(error);
    this.#emit({ type: 'state', state, reason: this.#reason });
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasGone = this.#state === 'gone';
    this.#state = 'closed';
    const error = new DeviceGoneError(`ring card ${this.info.id} is closed`, { device: this.info.id });
    for (const qp of this.queuePairs) qp.failAll(error);
    if (!wasGone) {
      // Leave the card quiet: no DMA, empty key slots.
      this.#bar.write32(REG.DEV_CTRL, DEV_CTRL_RESET);
    }
    for (const irq of this.#irqs) irq.close();
    this.#staging.zero();
    this.#emit({ type: 'state', state: 'closed' });
    this.#listeners.clear();
    await this.#fn.close();
  }

  #setState(state: DeviceState): void {
    this.#state = state;
    for (const qp of this.queuePairs) qp.nudge();
    this.#emit({ type: 'state', state });
  }

  #emit(event: DeviceEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the device carries on.
      }
    }
  }
}
