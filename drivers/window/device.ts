/**
 * A window card: bring-up (`start()`, datasheet §10), capabilities from its CAPS
 * register, the one queue pair over its engines, reset, close, and state events.
 */

import type { Capability } from '../../core/driver/capabilities.js';
import { SharedIrq } from '../../core/driver/completion-wait.js';
import type {
  Device,
  DeviceEvent,
  DeviceInfo,
  DeviceState,
  QueuePair,
  ServiceEstimate,
} from '../../core/driver/device.js';
import { DeviceError, DeviceGoneError, throwIfAborted, UnsupportedError } from '../../core/driver/errors.js';
import type { EcCurveName } from '../../core/driver/keys.js';
import { RemovalWatch } from '../../core/driver/removal-watch.js';
import { cardRateEstimate } from '../../core/driver/service-estimate.js';
import type { Mmio } from '../../core/platform/mmio.js';
import type { PciFunction } from '../../core/platform/pci.js';
import { Engine } from './engine.js';
import { WindowQueuePair } from './queue-pair.js';
import {
  ALL_ONES,
  CAPS,
  ENGINE_REG_BASE,
  GLOBAL_CTRL_SOFT_RESET,
  GLOBAL_STATUS_READY,
  ID_MAGIC,
  MAX_ENGINES,
  REG,
  SLOT_BYTES,
  SUPPORTED_MAJOR_VERSION,
  WINDOW_BASE,
  WINDOW_STRIDE,
} from './registers.js';
import { type CardFeatures, CURVE_CAPS, OperandCodec } from './requests.js';

/** What the identification registers said (§5). */
export interface CardIdentity extends CardFeatures {
  readonly engines: number;
}

export interface WindowDeviceOptions {
  readonly priority: number;
  readonly driverName: string;
  readonly timeoutMs: number;
  /** Poll period with an interrupt line (safety net) and without one (the only wake-up). */
  readonly pollMs: number;
  readonly pollMsNoIrq: number;
  /** The card's declared ops/s (the `rate` option), for the scheduler's starting estimate. */
  readonly rate?: number | undefined;
}

/** Smallest RSA modulus advertised: the card takes any odd modulus, smaller ones are of no use. */
const MIN_MODULUS_BITS = 512;

/** Read and check the identification registers (§10 step 1); UnsupportedError if this is not our card. */
export function identify(mmio: Mmio, address: string): CardIdentity {
  const id = mmio.read32(REG.ID);
  if (id !== ID_MAGIC) {
    throw new UnsupportedError(`${address}: ID register reads 0x${id.toString(16)}, not a window card`);
  }
  const version = mmio.read32(REG.VERSION);
  if (version >>> 16 !== SUPPORTED_MAJOR_VERSION) {
    throw new UnsupportedError(
      `${address}: window card programming model ${version >>> 16}.x is not supported`,
    );
  }
  const engines = mmio.read32(REG.ENGINES);
  const maxWords = mmio.read32(REG.MAX_WORDS);
  const layoutOk =
    mmio.read32(REG.WINDOW_BASE) === WINDOW_BASE &&
    mmio.read32(REG.WINDOW_STRIDE) === WINDOW_STRIDE &&
    mmio.read32(REG.ENGINE_REG_BASE) === ENGINE_REG_BASE;
  if (engines < 1 || engines > MAX_ENGINES || maxWords < 1 || maxWords * 4 > SLOT_BYTES || !layoutOk) {
    throw new UnsupportedError(`${address}: window card reports a layout this driver does not know`);
  }
  if (mmio.size < WINDOW_BASE + WINDOW_STRIDE * engines) {
    throw new UnsupportedError(`${address}: BAR0 of ${mmio.size} bytes is too small for ${engines} engines`);
  }
  return { engines, maxWords, caps: mmio.read32(REG.CAPS) };
}

/** The primitives this card's CAPS make possible. */
export function capabilitiesOf(card: CardFeatures): Capability[] {
  const modulusBits = { min: MIN_MODULUS_BITS, max: card.maxWords * 32 };
  const caps: Capability[] = [];
  if (card.caps & CAPS.MODEXP) caps.push({ op: 'rsa-public', modulusBits });
  if (card.caps & CAPS.MODEXP_CRT) {
    caps.push({ op: 'rsa-private', modulusBits, multiPrime: false, keyStorage: ['inline'] });
  }
  const curves = (Object.keys(CURVE_CAPS) as EcCurveName[]).filter((c) => (card.caps & CURVE_CAPS[c]) !== 0);
  if (card.caps & CAPS.ECMUL && curves.length > 0)
    caps.push({ op: 'ec-mul', curves, keyStorage: ['inline'] });
  return caps;
}

/** §10 steps 2–3: soft reset and wait for READY. */
async function softReset(mmio: Mmio, address: string, signal?: AbortSignal): Promise<void> {
  mmio.write32(REG.GLOBAL_CTRL, GLOBAL_CTRL_SOFT_RESET);
  for (let attempt = 0; attempt < 100; attempt++) {
    const status = mmio.read32(REG.GLOBAL_STATUS);
    if (status === ALL_ONES) throw new DeviceGoneError(`window card ${address} is gone`, { device: address });
    if (status & GLOBAL_STATUS_READY) return;
    throwIfAborted(signal);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new DeviceError(`window card ${address} did not become READY after soft reset`, { device: address });
}

export class WindowDevice implements Device {
  readonly #fn: PciFunction;
  readonly #o: WindowDeviceOptions;
  readonly #mmio: Mmio;
  readonly #listeners = new Set<(event: DeviceEvent) => void>();
  #info: DeviceInfo;
  #capabilities: readonly Capability[] = [];
  #queuePairs: readonly QueuePair[] = [];
  #irq: SharedIrq | undefined;
  #engines: readonly Engine[] = [];
  #qp: WindowQueuePair | undefined;
  #card: CardIdentity | undefined;
  /** The card is gone when the platform sees it disappear; watched again after it comes back. */
  readonly #removal = new RemovalWatch(() => {
    if (this.#state !== 'closed') this.#qp?.removed();
  });
  #state: DeviceState = 'resetting';

  /** Nothing touches the card until `start()`. */
  constructor(fn: PciFunction, options: WindowDeviceOptions) {
    this.#fn = fn;
    this.#o = options;
    this.#mmio = fn.bar(0);
    const id = fn.info.address;
    this.#info = {
      id,
      driver: options.driverName,
      model: 'window card',
      address: id,
      priority: options.priority,
    };
  }

  /** §10: identify, soft reset, interrupts; the device is ready when this resolves. Once. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#qp !== undefined) throw new Error(`window card ${this.#info.id} was already started`);
    const fn = this.#fn;
    const mmio = this.#mmio;
    const card = identify(mmio, fn.info.address);
    this.#card = card;
    await softReset(mmio, fn.info.address, signal);
    const line = fn.irqSupport.kind !== 'none' && fn.irqSupport.vectors > 0 ? fn.openIrq(0) : undefined;
    // §9: the driver re-arms a level-triggered line after each interrupt; STATUS is read by harvest.
    const irq =
      line && new SharedIrq(line, { name: `window card ${fn.info.address}`, service: () => line.unmask() });
    this.#irq = irq;
    const id = this.#info.id;
    this.#info = { ...this.#info, model: `window card (${card.engines} engines)` };
    this.#capabilities = capabilitiesOf(card);
    const codec = new OperandCodec(mmio);
    this.#engines = Array.from({ length: card.engines }, (_, i) => new Engine(i, mmio, codec));
    const qp = new WindowQueuePair({
      deviceId: id,
      mmio,
      engines: this.#engines,
      features: card,
      ...(irq ? { irq } : {}),
      timeoutMs: this.#o.timeoutMs,
      pollMs: irq ? this.#o.pollMs : this.#o.pollMsNoIrq,
      onOutOfService: (state, reason) => this.#setState(state, reason),
    });
    this.#qp = qp;
    this.#queuePairs = [qp];
    this.#removal.watch(this.#fn.removed);
    this.#enableInterrupts();
    this.#state = 'ready';
  }

  get info(): DeviceInfo {
    return this.#info;
  }

  get capabilities(): readonly Capability[] {
    return this.#capabilities;
  }

  get queuePairs(): readonly QueuePair[] {
    return this.#queuePairs;
  }

  /** The queue pair, once started. */
  #started(): WindowQueuePair {
    if (this.#qp === undefined) throw new Error(`window card ${this.#info.id} was not started`);
    return this.#qp;
  }

  #enableInterrupts(): void {
    this.#mmio.write32(REG.IRQ_STATUS, ALL_ONES);
    const engineBits = this.#engines.length === 32 ? ALL_ONES : (1 << this.#engines.length) - 1;
    this.#mmio.write32(REG.IRQ_MASK, this.#irq ? ~engineBits >>> 0 : ALL_ONES);
  }

  /** Each operation holds one engine for one service time: the declared rate, whatever the job. */
  serviceEstimate(): ServiceEstimate | undefined {
    return cardRateEstimate(this.#o.rate, this.#engines.length);
  }

  get state(): DeviceState {
    return this.#state;
  }

  subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #setState(state: DeviceState, reason?: string): void {
    if (this.#state === state) return;
    this.#state = state;
    const event: DeviceEvent =
      reason === undefined ? { type: 'state', state } : { type: 'state', state, reason };
    for (const listener of [...this.#listeners]) listener(event);
  }

  /**
   * A removed card is back when it answers again: `ID` reads all-ones while it is
   * away (§5). It must be the card it was (same engines, word limit and CAPS).
   */
  #checkReinserted(): void {
    const id = this.#info.id;
    if (this.#mmio.read32(REG.ID) === ALL_ONES)
      throw new DeviceGoneError(`window card ${id} is gone (still removed)`, { device: id });
    let card: CardIdentity;
    try {
      card = identify(this.#mmio, id);
    } catch (error) {
      throw new DeviceGoneError(`window card ${id} came back as something else; open it anew`, {
        device: id,
        cause: error,
      });
    }
    const was = this.#card;
    if (
      was === undefined ||
      card.engines !== was.engines ||
      card.maxWords !== was.maxWords ||
      card.caps !== was.caps
    )
      throw new DeviceGoneError(`window card ${id} came back as a different card; open it anew`, {
        device: id,
      });
    this.#removal.watch(this.#fn.removed);
  }

  /**
   * Soft-reset the card: jobs in flight are abandoned (never complete), the card
   * serves again. Also brings back a card that was removed and is present again.
   */
  async reset(signal?: AbortSignal): Promise<void> {
    if (this.#state === 'closed') {
      throw new DeviceGoneError(`window card ${this.#info.id} is closed`, { device: this.#info.id });
    }
    if (this.#state === 'gone') this.#checkReinserted();
    this.#setState('resetting');
    this.#started().reopen();
    try {
      identify(this.#mmio, this.#info.id);
      await softReset(this.#mmio, this.#info.id, signal);
    } catch (error) {
      const gone = this.#mmio.read32(REG.ID) === ALL_ONES;
      if (gone) this.#started().removed();
      this.#setState(gone ? 'gone' : 'failed', error instanceof Error ? error.message : String(error));
      throw error;
    }
    this.#enableInterrupts();
    this.#setState('ready');
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasGone = this.#state === 'gone';
    this.#qp?.close();
    if (!wasGone) {
      try {
        // Zero all operand RAM (keys) and mask interrupts before letting go.
        this.#mmio.write32(REG.GLOBAL_CTRL, GLOBAL_CTRL_SOFT_RESET);
        this.#mmio.read32(REG.GLOBAL_STATUS);
      } catch {
        // best effort
      }
    }
    this.#irq?.close();
    this.#setState('closed');
    this.#listeners.clear();
    await this.#fn.close();
  }

  /** Operations each engine completed since the last reset (tests count device usage with it). */
  engineOpCounts(): number[] {
    return this.#engines.map((e) => e.opCount);
  }
}
