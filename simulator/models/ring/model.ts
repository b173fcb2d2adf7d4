/**
 * The PKR-1 ring card (docs/hardware/ring-card.md), register by register:
 * queue pairs of DMA rings with doorbells, phase-bit completions, per-queue
 * interrupts with masking and coalescing, key slots, engines, fault injection.
 *
 * Spec options (declared in ./family.ts): queues (4), depth (ring depth the arena is sized
 * for, 256), slots (64), engines (4), arena; engine/service/rate/delayms (simulator/engines.ts),
 * faults/seed/reinsert (simulator/faults.ts), arena (DMA arena MiB, overrides the sizing).
 */

import { bytesToBigint } from '../../../core/driver/bytes.js';
import { InvalidInputError } from '../../../core/driver/errors.js';
import { DmaFault } from '../../dma.js';
import { EnginePool, parseEngineConfig, realOnSchedule } from '../../engines.js';
import { FaultChoices, faultSeed, parseFaultRules, reinsertDelayMs } from '../../faults.js';
import type { DeviceModel, FaultKind, ModelDefinition, ModelHost, ModelLayout } from '../../model.js';
import { EcSlotKey, RsaSlotKey } from '../../pk-math.js';
import { familyOptions } from '../family.js';
import { ringFamily } from './family.js';
import {
  type Descriptor,
  decodeDescriptor,
  executeDescriptor,
  type ResultKind,
  type SlotKey,
} from './ops.js';
import {
  BAR0_SIZE,
  CAPS_VALUE,
  COMPLETION_BYTES,
  CQE,
  CURVE_BY_ID,
  DESCRIPTOR_BYTES,
  DEV_CTRL_ENABLE,
  DEV_CTRL_RESET,
  DEV_STATUS_DMA_FAULT,
  DEV_STATUS_READY,
  IRQ_CTRL_MASK,
  KCMD,
  MAGIC,
  MAX_DEPTH,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  OPCODE,
  PKR1_DEVICE_ID,
  PKR1_VENDOR_ID,
  Q_STATUS_CONFIG_ERROR,
  Q_STATUS_ENABLED,
  Q_STATUS_STALLED,
  QREG,
  QUEUE_BASE,
  QUEUE_STRIDE,
  queueReg,
  REG,
  STATUS,
  VERSION,
} from './registers.js';

const ENGINE_DEFAULTS = { count: 4, serviceMs: 0.1 } as const;

/**
 * Bytes a driver needs per descriptor for operands (the largest src, key and result: RSA_VERIFY
 * of 4096 bits, 584 + 1024 + 513, rounded up as drivers/ring lays them out: 2240) plus both ring entries.
 */
const BYTES_PER_ENTRY = 2240 + DESCRIPTOR_BYTES + COMPLETION_BYTES;

function layout(options: Readonly<Record<string, string>>): ModelLayout {
  // The card's own options (simulator/models/ring/family.ts); the rest are checked here too, on the
  // host, so that a bad spec fails before a worker starts.
  const { queues, depth, arena } = familyOptions(ringFamily, options);
  if ((depth & (depth - 1)) !== 0)
    throw new InvalidInputError(`bad sim:ring option depth=${depth}: not a power of two`);
  const sized = queues * depth * BYTES_PER_ENTRY + (1 << 20);
  const arenaMiB = arena ?? Math.ceil(sized / (1 << 20));
  parseEngineConfig(options, ENGINE_DEFAULTS);
  parseFaultRules(options.faults);
  faultSeed(options);
  reinsertDelayMs(options);
  return {
    identity: {
      vendorId: PKR1_VENDOR_ID,
      deviceId: PKR1_DEVICE_ID,
      subsystemVendorId: PKR1_VENDOR_ID,
      subsystemDeviceId: 0x0001,
      classCode: 0x108000,
      revision: 1,
    },
    bars: { 0: { size: BAR0_SIZE } },
    irq: { kind: 'msix', vectors: queues },
    dmaArenaBytes: arenaMiB << 20,
  };
}

interface QueueState {
  enabled: boolean;
  sqBase: bigint;
  cqBase: bigint;
  depth: number;
  sqHead: number;
  sqTail: number;
  cqHead: number;
  cqTail: number;
  phase: number;
  irqCtrl: number;
  /** Completions written since the vector last fired. */
  unsignalled: number;
  coalesceTimer: boolean;
  /** Bumped when the vector fires: a coalescing timer started before that is void (§8: COALESCE_USEC counts from the first unsignalled completion). */
  fired: number;
  stalled: boolean;
  /** A `hang` fault stopped this queue until it is reset. */
  hung: boolean;
  /** Completions waiting for room in the CQ. */
  backlog: PendingCompletion[];
  /** Bumped by a queue reset: work started before it is discarded. */
  epoch: number;
}

/** An operation run by an engine: its status and the result bytes it wrote. */
interface Executed {
  readonly status: number;
  readonly resultLength: number;
}

/** A completion's fields (§4.2) before it is written to the CQ. */
interface PendingCompletion {
  readonly tag: number;
  readonly status: number;
  readonly resultLength: number;
  readonly sqHead: number;
}

function newQueue(): QueueState {
  return {
    enabled: false,
    sqBase: 0n,
    cqBase: 0n,
    depth: 0,
    sqHead: 0,
    sqTail: 0,
    cqHead: 0,
    cqTail: 0,
    phase: 1,
    irqCtrl: IRQ_CTRL_MASK,
    unsignalled: 0,
    coalesceTimer: false,
    fired: 0,
    stalled: false,
    hung: false,
    backlog: [],
    epoch: 0,
  };
}

/**
 * `v` with its low or high 32 bits replaced by `value`: a 64-bit base register written in halves
 * (a function, not two closures made on every register write, doorbells included).
 */
function withHalf(v: bigint, high: boolean, value: number): bigint {
  const half = BigInt(value >>> 0);
  return high ? (v & 0xffffffffn) | (half << 32n) : (v & ~0xffffffffn) | half;
}

class RingModel implements DeviceModel {
  readonly layout: ModelLayout;
  readonly #host: ModelHost;
  readonly #bar: DataView;
  readonly #queueCount: number;
  readonly #slotCount: number;
  readonly #engines: EnginePool;
  #queues: QueueState[] = [];
  readonly #slots = new Map<number, SlotKey>();
  #devCtrl = 0;
  #dmaFault = false;
  #dmaFaults = 0;
  #kcmdSeq = 0;
  /** Bumped by a card reset: every scheduled operation from before it is discarded. */
  #cardEpoch = 0;
  #nextQueue = 0;
  #garbageCount = 0;
  /** What a fault does once it fires (which bit, verdict or witness): seeded by the spec's `seed`. */
  readonly #choices: FaultChoices;

  constructor(host: ModelHost) {
    this.#host = host;
    this.layout = layout(host.options);
    this.#bar = host.bar(0);
    this.#queueCount = this.layout.irq.vectors;
    this.#slotCount = familyOptions(ringFamily, host.options).slots;
    this.#engines = new EnginePool(parseEngineConfig(host.options, ENGINE_DEFAULTS));
    this.#choices = FaultChoices.fromOptions(host.options);
    const arena = host.dma.arena;
    this.#arenaWords = new Uint16Array(arena.buffer, arena.byteOffset, arena.byteLength >>> 1);
  }

  /** The arena as 16-bit words: a completion's phase is stored with Atomics (after its other fields). */
  readonly #arenaWords: Uint16Array;

  #set(offset: number, value: number): void {
    this.#bar.setUint32(offset, value >>> 0, true);
  }

  #get(offset: number): number {
    return this.#bar.getUint32(offset, true);
  }

  reset(): void {
    this.#cardEpoch++;
    new Uint8Array(this.#bar.buffer, this.#bar.byteOffset, this.#bar.byteLength).fill(0);
    this.#queues = Array.from({ length: this.#queueCount }, newQueue);
    this.#slots.clear();
    this.#engines.clear();
    this.#devCtrl = 0;
    this.#dmaFault = false;
    this.#dmaFaults = 0;
    this.#set(REG.MAGIC, MAGIC);
    this.#set(REG.VERSION, VERSION);
    this.#set(REG.CAPS, CAPS_VALUE);
    this.#set(REG.NUM_QUEUES, this.#queueCount);
    this.#set(REG.MAX_DEPTH, MAX_DEPTH);
    this.#set(REG.NUM_KEY_SLOTS, this.#slotCount);
    this.#set(REG.MAX_RSA_BITS, MAX_RSA_BITS);
    this.#set(REG.NUM_ENGINES, this.#engines.config.count);
    this.#syncDevStatus();
    for (let q = 0; q < this.#queueCount; q++) this.#syncQueue(q);
  }

  onWrite(bar: number, offset: number, width: 1 | 2 | 4 | 8, value: bigint): void {
    if (bar !== 0) return;
    if (width === 8) {
      this.#write32(offset, Number(value & 0xffffffffn));
      this.#write32(offset + 4, Number(value >> 32n));
    } else if (width === 4) {
      this.#write32(offset, Number(value));
    }
    // Narrower accesses are not defined by the datasheet: ignored.
  }

  #write32(offset: number, value: number): void {
    if (offset >= QUEUE_BASE && offset < QUEUE_BASE + QUEUE_STRIDE * this.#queueCount) {
      this.#writeQueue(
        Math.floor((offset - QUEUE_BASE) / QUEUE_STRIDE),
        (offset - QUEUE_BASE) % QUEUE_STRIDE,
        value,
      );
      return;
    }
    switch (offset) {
      case REG.DEV_CTRL:
        if (value & DEV_CTRL_RESET) {
          this.reset();
          return;
        }
        this.#devCtrl = value & DEV_CTRL_ENABLE;
        this.#set(REG.DEV_CTRL, this.#devCtrl);
        this.#pump();
        return;
      case REG.KCMD_ADDR_LO:
      case REG.KCMD_ADDR_HI:
      case REG.KCMD_LEN:
      case REG.KCMD_SLOT:
        this.#set(offset, value);
        return;
      case REG.KCMD_OP:
        this.#keyCommand(value);
        return;
      default:
        return; // read-only or unassigned
    }
  }

  // ---- key slots (§6) ----

  #keyCommand(op: number): void {
    const slot = this.#get(REG.KCMD_SLOT);
    const length = this.#get(REG.KCMD_LEN);
    const address = (BigInt(this.#get(REG.KCMD_ADDR_HI)) << 32n) | BigInt(this.#get(REG.KCMD_ADDR_LO));
    let status: number = STATUS.OK;
    try {
      status = this.#runKeyCommand(op, slot, address, length);
    } catch (error) {
      if (!(error instanceof DmaFault)) throw error;
      this.#noteDmaFault();
      status = STATUS.DMA_FAULT;
    }
    this.#kcmdSeq = (this.#kcmdSeq + 1) & 0xffff;
    this.#set(REG.KCMD_STATUS, (this.#kcmdSeq << 16) | status);
  }

  #runKeyCommand(op: number, slot: number, address: bigint, length: number): number {
    if (op === KCMD.ERASE_ALL) {
      this.#slots.clear();
      return STATUS.OK;
    }
    if (op !== KCMD.LOAD_RSA && op !== KCMD.LOAD_EC && op !== KCMD.ERASE) return STATUS.INVALID_OPCODE;
    if (slot >= this.#slotCount) return STATUS.KEY_SLOT_EMPTY;
    if (op === KCMD.ERASE) {
      this.#slots.delete(slot);
      return STATUS.OK;
    }
    if (length === 0 || length > 6 * 512 + 1) return STATUS.INVALID_OPERAND;
    const blob = this.#host.dma.read(address, length);
    try {
      if (op === KCMD.LOAD_EC) {
        const curve = CURVE_BY_ID[blob[0] as keyof typeof CURVE_BY_ID];
        if (curve === undefined) return STATUS.UNSUPPORTED;
        if (length !== 1 + (curve === 'P-256' ? 32 : 48)) return STATUS.INVALID_OPERAND;
        this.#slots.set(slot, new EcSlotKey(curve, bytesToBigint(blob.subarray(1))));
        return STATUS.OK;
      }
      if (length % 6 !== 0) return STATUS.INVALID_OPERAND;
      const h = length / 6;
      const field = (i: number) => bytesToBigint(blob.subarray(i * h, (i + 1) * h));
      const p = field(0);
      const q = field(1);
      const bits = (p * q).toString(2).length;
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) return STATUS.UNSUPPORTED;
      this.#slots.set(slot, new RsaSlotKey(p, q, field(2), field(3), field(4), field(5)));
      return STATUS.OK;
    } catch (error) {
      if (error instanceof DmaFault) throw error;
      return STATUS.INVALID_OPERAND;
    } finally {
      blob.fill(0); // the card's copy of the blob is not kept beyond the parsed key
    }
  }

  // ---- queue pairs (§3.4, §4) ----

  #qreg(q: number, reg: number): number {
    return queueReg(q, reg);
  }

  #syncQueue(q: number): void {
    const s = this.#queues[q]!;
    this.#set(this.#qreg(q, QREG.SQ_BASE_LO), Number(s.sqBase & 0xffffffffn));
    this.#set(this.#qreg(q, QREG.SQ_BASE_HI), Number(s.sqBase >> 32n));
    this.#set(this.#qreg(q, QREG.CQ_BASE_LO), Number(s.cqBase & 0xffffffffn));
    this.#set(this.#qreg(q, QREG.CQ_BASE_HI), Number(s.cqBase >> 32n));
    this.#set(this.#qreg(q, QREG.DEPTH), s.depth);
    this.#set(this.#qreg(q, QREG.CTRL), s.enabled ? 1 : 0);
    const status = this.#get(this.#qreg(q, QREG.STATUS)) & Q_STATUS_CONFIG_ERROR;
    this.#set(
      this.#qreg(q, QREG.STATUS),
      status | (s.enabled ? Q_STATUS_ENABLED : 0) | (s.stalled ? Q_STATUS_STALLED : 0),
    );
    this.#set(this.#qreg(q, QREG.SQ_HEAD), s.sqHead);
    this.#set(this.#qreg(q, QREG.CQ_HEAD), s.cqHead);
    this.#set(this.#qreg(q, QREG.CQ_TAIL), s.cqTail);
    this.#set(this.#qreg(q, QREG.IRQ_CTRL), s.irqCtrl);
    this.#set(this.#qreg(q, QREG.IRQ_VECTOR), q);
  }

  #syncDevStatus(): void {
    this.#set(REG.DEV_STATUS, DEV_STATUS_READY | (this.#dmaFault ? DEV_STATUS_DMA_FAULT : 0));
    this.#set(REG.DMA_FAULTS, this.#dmaFaults);
  }

  #noteDmaFault(): void {
    this.#dmaFault = true;
    this.#dmaFaults++;
    this.#syncDevStatus();
  }

  #writeQueue(q: number, reg: number, value: number): void {
    const s = this.#queues[q]!;
    switch (reg) {
      case QREG.SQ_BASE_LO:
      case QREG.SQ_BASE_HI:
        if (!s.enabled) s.sqBase = withHalf(s.sqBase, reg === QREG.SQ_BASE_HI, value);
        break;
      case QREG.CQ_BASE_LO:
      case QREG.CQ_BASE_HI:
        if (!s.enabled) s.cqBase = withHalf(s.cqBase, reg === QREG.CQ_BASE_HI, value);
        break;
      case QREG.DEPTH:
        if (!s.enabled) s.depth = value >>> 0;
        break;
      case QREG.CTRL:
        if ((value & 1) !== 0 && !s.enabled) this.#enableQueue(q);
        else if ((value & 1) === 0 && s.enabled) this.#resetQueue(q);
        break;
      // The doorbells: what they change in the registers (SQ_HEAD, CQ_TAIL, a stall) is written
      // where it changes, so no whole-queue register sync per doorbell.
      case QREG.SQ_TAIL:
        if (s.enabled && value >>> 0 < s.depth) {
          s.sqTail = value >>> 0;
          this.#pump();
        }
        return;
      case QREG.CQ_HEAD:
        if (s.enabled && value >>> 0 < s.depth) {
          s.cqHead = value >>> 0;
          this.#set(this.#qreg(q, QREG.CQ_HEAD), s.cqHead);
          this.#drainBacklog(q);
        }
        return;
      case QREG.IRQ_CTRL: {
        const wasMasked = (s.irqCtrl & IRQ_CTRL_MASK) !== 0;
        s.irqCtrl = value >>> 0;
        if ((s.irqCtrl & IRQ_CTRL_MASK) === 0 && s.unsignalled > 0) {
          // Unmasked: fire at once (§8). Re-moderated while unmasked: a count already reached fires
          // now, else the coalescing timer runs from the first unsignalled completion as before.
          if (wasMasked) this.#fire(q);
          else this.#maybeFire(q);
        }
        break;
      }
      default:
        return;
    }
    this.#syncQueue(q);
  }

  #enableQueue(q: number): void {
    const s = this.#queues[q]!;
    const depthOk = s.depth >= 2 && s.depth <= MAX_DEPTH && (s.depth & (s.depth - 1)) === 0;
    const ok =
      depthOk && s.sqBase !== 0n && s.cqBase !== 0n && s.sqBase % 64n === 0n && s.cqBase % 16n === 0n;
    const status = this.#qreg(q, QREG.STATUS);
    if (!ok) {
      this.#set(status, Q_STATUS_CONFIG_ERROR);
      return;
    }
    this.#set(status, 0);
    this.#restartQueue(s, true);
  }

  #resetQueue(q: number): void {
    const s = this.#queues[q]!;
    s.epoch++;
    this.#restartQueue(s, false);
  }

  /** Pointers back to 0, phase 1, nothing stalled, hung, held back or waiting to be signalled. */
  #restartQueue(s: QueueState, enabled: boolean): void {
    Object.assign(s, {
      enabled,
      sqHead: 0,
      sqTail: 0,
      cqHead: 0,
      cqTail: 0,
      phase: 1,
      stalled: false,
      hung: false,
    });
    s.unsignalled = 0;
    s.backlog = [];
  }

  /** Fetch descriptors for free engines, round-robin over the queues (§9). */
  #pump(): void {
    if ((this.#devCtrl & DEV_CTRL_ENABLE) === 0) return;
    let idle = 0;
    while (this.#engines.free > 0 && idle < this.#queueCount) {
      const q = this.#nextQueue;
      this.#nextQueue = (this.#nextQueue + 1) % this.#queueCount;
      const s = this.#queues[q]!;
      if (!s.enabled || s.stalled || s.hung || s.sqHead === s.sqTail) {
        idle++;
        continue;
      }
      idle = 0;
      this.#fetch(q);
    }
  }

  /** A DMA fault on queue `q`'s own ring stalls that queue; any other error is thrown on. */
  #stallOnDmaFault(error: unknown, q: number): void {
    if (!(error instanceof DmaFault)) throw error;
    this.#noteDmaFault();
    this.#queues[q]!.stalled = true;
    this.#syncQueue(q);
  }

  #fetch(q: number): void {
    const s = this.#queues[q]!;
    let descriptor: Descriptor;
    try {
      const dma = this.#host.dma;
      const at = dma.offsetOf(Number(s.sqBase) + s.sqHead * DESCRIPTOR_BYTES, DESCRIPTOR_BYTES);
      descriptor = decodeDescriptor(dma.arenaView, at);
    } catch (error) {
      this.#stallOnDmaFault(error, q);
      return;
    }
    s.sqHead = (s.sqHead + 1) % s.depth;
    this.#set(this.#qreg(q, QREG.SQ_HEAD), s.sqHead);
    const fault = this.#host.nextFault();
    if (fault === 'surprise-removal') {
      this.#host.remove();
      return;
    }
    if (fault === 'hang') {
      s.hung = true;
      return;
    }
    const config = this.#engines.config;
    const delay = config.serviceMs + (fault === 'delay-completion' ? config.faultDelayMs : 0);
    if (delay === 0 && config.mode === 'null') {
      // The null engine completes at once: no engine is held, nothing is scheduled.
      this.#finish(q, descriptor, fault);
      return;
    }
    this.#engines.take();
    const cardEpoch = this.#cardEpoch;
    const queueEpoch = s.epoch;
    // Real engines on a schedule (simulator/engines.ts) compute at once and post at the deadline:
    // both are timed from this start, and the computation (due now, scheduled first) runs before
    // the deadline's work can — completion at max(start + service, the computation's end). The
    // computation is scheduled work, not done here in the register write: a host read waits for
    // the writes before it to be applied, never for an engine. (Inline mode's Node timers may run
    // the deadline first: it computes then, and the computation's own turn finds it done.)
    let computed: Executed | undefined;
    if (realOnSchedule(config))
      this.#host.schedule(0, () => {
        if (computed === undefined && cardEpoch === this.#cardEpoch && queueEpoch === s.epoch)
          computed = this.#execute(descriptor, fault);
      });
    this.#host.schedule(delay, () => {
      if (cardEpoch !== this.#cardEpoch) return; // card reset: the engine was cleared with it
      this.#engines.give();
      if (queueEpoch === s.epoch) {
        computed ??= this.#execute(descriptor, fault);
        this.#finish(q, descriptor, fault, computed);
      }
      this.#pump();
    });
  }

  /** Run the operation and write its result (the card's DMA), with a result fault applied. */
  #execute(d: Descriptor, fault: FaultKind | undefined): Executed {
    let status: number;
    let resultLength = 0;
    if (fault === 'error-status') {
      status = STATUS.ENGINE_ERROR;
    } else {
      try {
        const outcome = executeDescriptor(d, this.#host, this.#slots, this.#engines.config.mode);
        status = outcome.status;
        if (outcome.status === STATUS.OK) {
          let result = outcome.result;
          if (fault === 'corrupt-result') result = this.#corrupt(d, result, outcome.kind);
          if (result.length > 0) {
            // A NOP has no result buffer.
            const dma = this.#host.dma;
            dma.arena.set(result, dma.offsetOf(d.dstAddr, result.length));
          }
          resultLength = result.length;
        }
      } catch (error) {
        if (!(error instanceof DmaFault)) throw error;
        this.#noteDmaFault();
        status = STATUS.DMA_FAULT;
        resultLength = 0;
      }
    }
    return { status, resultLength };
  }

  /** Write the operation's completion (running it first unless `computed`), with the fault (if any) applied. */
  #finish(q: number, d: Descriptor, fault: FaultKind | undefined, computed?: Executed): void {
    const { status, resultLength: length } = computed ?? this.#execute(d, fault);
    if (fault === 'drop-completion') return;
    let resultLength = length;
    const s = this.#queues[q]!;
    let tag = d.tag;
    if (fault === 'garbage-completion') {
      // Alternately a tag the host never issued and a length past its buffer (deterministic, for tests).
      if (this.#garbageCount++ % 2 === 0) tag = (d.tag ^ 0x5a5a_0000 ^ (s.depth << 4)) >>> 0;
      else resultLength = d.dstLen + 4096;
    }
    this.#post(q, tag, status, resultLength, s.sqHead);
    if (fault === 'duplicate-completion') this.#post(q, tag, status, resultLength, s.sqHead);
  }

  /**
   * The `corrupt` fault: one bit flipped, chosen from the spec's seed. RSA-CRT: a bit of the
   * mod-p half before recombination (Bellcore's fault). A verification: either its verdict
   * (0 ↔ 1, the forged-signature case) or one bit of its witness, evenly (never the ECDSA
   * witness flags byte: that would be garbage, not a plausible fault).
   */
  #corrupt(d: Descriptor, result: Uint8Array, kind: ResultKind): Uint8Array {
    const out = result.slice();
    if (out.length === 0) return out;
    if (kind === 'rsa-private') {
      const key = this.#slots.get(d.keySlot);
      if (key?.kind === 'rsa') return key.corruptCrtHalf(result, this.#choices.below(result.length * 8));
    }
    if (kind === 'verify') {
      const witnessAt = d.opcode === OPCODE.ECDSA_VERIFY ? 2 : 1;
      if (this.#choices.coin() || out.length <= witnessAt) {
        out[0]! ^= 1;
        return out;
      }
      const bit = this.#choices.below((out.length - witnessAt) * 8);
      out[witnessAt + (bit >> 3)]! ^= 1 << (bit & 7);
      return out;
    }
    const bit = this.#choices.below(out.length * 8);
    out[bit >> 3]! ^= 1 << (bit & 7);
    return out;
  }

  /**
   * Write a completion at the CQ tail (phase last), or hold it while the CQ is full (fields as
   * arguments: an object only for one held back).
   */
  #post(q: number, tag: number, status: number, resultLength: number, sqHead: number): void {
    const s = this.#queues[q]!;
    if (s.backlog.length > 0 || (s.cqTail + 1) % s.depth === s.cqHead) {
      s.backlog.push({ tag, status, resultLength, sqHead });
      return;
    }
    try {
      const dma = this.#host.dma;
      const at = dma.offsetOf(Number(s.cqBase) + s.cqTail * COMPLETION_BYTES, COMPLETION_BYTES);
      const view = dma.arenaView;
      view.setUint32(at + CQE.TAG, tag, true);
      view.setUint16(at + CQE.STATUS, status, true);
      view.setUint32(at + CQE.RESULT_LEN, resultLength, true);
      view.setUint32(at + CQE.SQ_HEAD, sqHead, true);
      // The phase last, with release order: a host that sees it sees the fields above.
      // (CQ entries are 16-byte aligned — checked at enable — so the word index is exact.)
      Atomics.store(this.#arenaWords, (at + CQE.FLAGS) >>> 1, s.phase);
    } catch (error) {
      this.#stallOnDmaFault(error, q);
      return;
    }
    s.cqTail = (s.cqTail + 1) % s.depth;
    if (s.cqTail === 0) s.phase ^= 1;
    this.#set(this.#qreg(q, QREG.CQ_TAIL), s.cqTail);
    s.unsignalled++;
    this.#maybeFire(q);
  }

  #drainBacklog(q: number): void {
    const s = this.#queues[q]!;
    const waiting = s.backlog;
    s.backlog = [];
    for (const e of waiting) this.#post(q, e.tag, e.status, e.resultLength, e.sqHead);
  }

  // ---- interrupts (§8) ----

  #maybeFire(q: number): void {
    const s = this.#queues[q]!;
    if ((s.irqCtrl & IRQ_CTRL_MASK) !== 0 || s.unsignalled === 0) return;
    const count = Math.max(1, (s.irqCtrl >>> 8) & 0xff);
    if (s.unsignalled >= count) {
      this.#fire(q);
      return;
    }
    if (s.coalesceTimer) return;
    s.coalesceTimer = true;
    const usec = (s.irqCtrl >>> 16) & 0xffff || 50;
    const epoch = s.epoch;
    const fired = s.fired;
    this.#host.schedule(usec / 1000, () => {
      if (fired !== s.fired) return; // the count fired first: a later completion started a new timer
      s.coalesceTimer = false;
      if (epoch === s.epoch && (s.irqCtrl & IRQ_CTRL_MASK) === 0 && s.unsignalled > 0) this.#fire(q);
    });
  }

  #fire(q: number): void {
    const s = this.#queues[q]!;
    s.unsignalled = 0;
    s.fired++;
    s.coalesceTimer = false;
    this.#host.raiseIrq(q);
  }
}

const ring: ModelDefinition = {
  name: 'ring',
  layout,
  create: (host) => new RingModel(host),
};

export default ring;
