/**
 * One PKR-1 queue pair (docs/hardware/ring-card.md §3.4, §4, §8): a submission
 * ring, a completion ring with a phase bit, one operand area per descriptor,
 * a doorbell per batch, interrupts with a polling fallback. Everything the card
 * returns is checked before it is used: a tag the driver did not issue, a
 * result length other than the operation's, or an unknown status takes the
 * card out of service. The driver only ever reads its own buffers, at offsets
 * it computed itself.
 */

import { handOverCopy } from '../../core/driver/bytes.js';
import { type SharedIrq, Wakeup, waitForCompletion } from '../../core/driver/completion-wait.js';
import {
  asPkaccelError,
  type Capability,
  type Completion,
  capabilityCovers,
  DeviceError,
  DeviceGoneError,
  type DeviceState,
  InvalidInputError,
  type Job,
  type PkaccelError,
  type QueuePair,
  throwIfAborted,
  UnsupportedError,
} from '../../core/driver/index.js';
import type { DmaAllocator, DmaBuffer } from '../../core/platform/dma.js';
import type { Mmio } from '../../core/platform/mmio.js';
import type { KeySlotManager } from './key-slots.js';
import {
  COMPLETION_BYTES,
  CQE,
  DESCRIPTOR_BYTES,
  IRQ_CTRL_MASK,
  MAX_COMPLETION_STATUS,
  Q_CTRL_ENABLE,
  Q_STATUS_CONFIG_ERROR,
  Q_STATUS_ENABLED,
  QREG,
  queueReg,
  STATUS,
} from './registers.js';
import {
  AREA,
  completionPhase,
  decodeResult,
  encodeRequest,
  type ResultShape,
  resultLength,
  writeAreaDescriptor,
} from './requests.js';

/** IRQ_CTRL's coalescing fields (§3.4): COALESCE_COUNT bits 15:8, COALESCE_USEC bits 31:16. */
const MAX_COALESCE_COUNT = 0xff;
const MAX_COALESCE_USEC = 0xffff;

/** Low bits of a descriptor tag: the operand area (and entry) index; high bits: a use count. */
const SLOT_BITS = 12;
const SLOT_MASK = (1 << SLOT_BITS) - 1;

/** What a queue pair needs from its device. */
export interface QueuePairHost {
  readonly id: string;
  readonly bar: Mmio;
  readonly keySlots: KeySlotManager;
  state(): DeviceState;
  capabilities(): readonly Capability[];
  /** Take the card out of service (a nonsense completion). */
  fail(reason: string): void;
}

export interface QueuePairConfig {
  readonly index: number;
  /** Ring depth (power of two). */
  readonly ringDepth: number;
  /** Interrupt vector, or undefined to poll. */
  readonly irq: SharedIrq | undefined;
  /** Polling period while waiting, in ms (fallback when interrupts are on). */
  readonly pollMs: number;
  /** IRQ_CTRL value: coalescing count and time, unmasked. */
  readonly irqCtrl: number;
}

/** `#pinned` of an area whose job pinned no key slot. */
const NO_SLOT = -1;

export class RingQueuePair implements QueuePair {
  readonly index: number;
  readonly depth: number;
  readonly #ringDepth: number;
  readonly #host: QueuePairHost;
  readonly #config: QueuePairConfig;
  readonly #sq: DmaBuffer;
  readonly #cq: DmaBuffer;
  readonly #operands: DmaBuffer;
  /** The operand areas' bus address as a number (exact: bus addresses stay below 2^53). */
  readonly #operandsBus: number;
  /** Each descriptor's operand area, made once (not a subarray per job). */
  readonly #areaBytes: Uint8Array[];
  readonly #sqView: DataView;
  readonly #cqView: DataView;
  /**
   * What each operand area's job in flight is, in parallel arrays indexed by area (no object per
   * job): the job's tag, the tag the card must give back, the result it must give back (undefined:
   * the area is free), and the key slot it pinned (NO_SLOT: none).
   */
  readonly #jobTag: Float64Array;
  readonly #deviceTag: Uint32Array;
  readonly #result: (ResultShape | undefined)[];
  readonly #pinned: Int32Array;
  readonly #uses: Uint32Array;
  readonly #freeAreas: number[] = [];
  readonly #synthetic: Completion[] = [];
  #sqTail = 0;
  #cqHead = 0;
  /** CQ entries consumed since CQ_HEAD was last written (it goes with a doorbell when the card needs it). */
  #unreported = 0;
  #phase = 1;
  /** Bumped when the ring restarts from empty (program, reset): a harvest in progress stops. */
  #ring = 0;
  /** Wakes a pending wait from the host side (state change, jobs completed by the driver). */
  readonly #wakeup = new Wakeup();
  /** The capability the last submitted job matched, and of which list (submit). */
  #covering: Capability | undefined;
  #coveringIn: readonly Capability[] | undefined;
  /** Descriptors submitted, for statistics and tests. */
  submitted = 0;
  doorbells = 0;
  /** How waits ended: by an interrupt, or by the polling fallback (many of these means lost interrupts). */
  wakesByIrq = 0;
  wakesByPoll = 0;
  /**
   * The interrupt moderation `moderate` set (count 1: the probe's own IRQ_CTRL, one interrupt per
   * completion by default), and how often IRQ_CTRL was written for it: for statistics and tests.
   */
  moderation = { count: 1, us: 0 };
  moderations = 0;
  /** The poll period (ms) of a moderated wait: the safety net against a lost interrupt, about 2 × `us`. */
  #moderatedPollMs = 0;

  constructor(host: QueuePairHost, dma: DmaAllocator, config: QueuePairConfig) {
    this.index = config.index;
    this.#host = host;
    this.#config = config;
    this.#ringDepth = config.ringDepth;
    // A ring is full at depth − 1 entries (§2), so that is how many jobs may be in flight.
    this.depth = config.ringDepth - 1;
    this.#sq = dma.allocate(config.ringDepth * DESCRIPTOR_BYTES, { align: 4096 });
    this.#cq = dma.allocate(config.ringDepth * COMPLETION_BYTES, { align: 4096 });
    this.#operands = dma.allocate(this.depth * AREA.SIZE, { align: 64 });
    this.#operandsBus = Number(this.#operands.busAddress);
    if (!Number.isSafeInteger(this.#operandsBus + this.#operands.size)) {
      throw new DeviceError(`ring card ${host.id}: DMA bus address beyond 2^53 is not supported`);
    }
    this.#areaBytes = Array.from({ length: this.depth }, (_, area) =>
      this.#operands.bytes.subarray(area * AREA.SIZE, (area + 1) * AREA.SIZE),
    );
    this.#sqView = new DataView(this.#sq.bytes.buffer, this.#sq.bytes.byteOffset, this.#sq.size);
    this.#cqView = new DataView(this.#cq.bytes.buffer, this.#cq.bytes.byteOffset, this.#cq.size);
    this.#jobTag = new Float64Array(this.depth);
    this.#deviceTag = new Uint32Array(this.depth);
    this.#result = new Array<ResultShape | undefined>(this.depth).fill(undefined);
    this.#pinned = new Int32Array(this.depth).fill(NO_SLOT);
    this.#uses = new Uint32Array(this.depth);
    this.#resetLocal();
  }

  get inFlight(): number {
    return this.depth - this.#freeAreas.length + this.#synthetic.length;
  }

  /** Program the queue's registers and enable it (bring-up step 3, §7). */
  program(): void {
    const bar = this.#host.bar;
    const reg = (r: number) => queueReg(this.index, r);
    bar.write32(reg(QREG.CTRL), 0);
    // Read back before zeroing the CQ: the card has then applied the disable, so no completion
    // of the work it held (a queue reset's, a re-program's) lands in the ring after the zeroing,
    // where it would read as a new entry with a tag of the old epoch.
    bar.read32(reg(QREG.STATUS));
    this.#cq.zero();
    this.#resetLocal();
    bar.write64(reg(QREG.SQ_BASE_LO), this.#sq.busAddress);
    bar.write64(reg(QREG.CQ_BASE_LO), this.#cq.busAddress);
    bar.write32(reg(QREG.DEPTH), this.#ringDepth);
    bar.write32(reg(QREG.CTRL), Q_CTRL_ENABLE);
    const status = bar.read32(reg(QREG.STATUS));
    if ((status & Q_STATUS_ENABLED) === 0 || (status & Q_STATUS_CONFIG_ERROR) !== 0) {
      throw new DeviceError(
        `queue pair ${this.index} refused its configuration (Q_STATUS 0x${status.toString(16)})`,
        {
          device: this.#host.id,
        },
      );
    }
    bar.write32(reg(QREG.IRQ_CTRL), this.#config.irq ? this.#config.irqCtrl : IRQ_CTRL_MASK);
    // A re-programmed queue starts from the probe's setting (the lane stops before a reset).
    this.moderation = { count: 1, us: 0 };
  }

  /**
   * Interrupt moderation (QueuePair.moderate, §8): IRQ_CTRL raises the vector after `count`
   * completions or `us` µs after the first unsignalled one; `count` ≤ 1 writes the probe's own
   * IRQ_CTRL back. Clamped to the register's fields; nothing is written when it would not
   * change, or without an interrupt (irq=poll: the mask stays set).
   */
  moderate(count: number, us: number): void {
    const n = count <= 1 ? 1 : Math.min(MAX_COALESCE_COUNT, Math.floor(count));
    const t = n === 1 ? 0 : Math.max(1, Math.min(MAX_COALESCE_USEC, Math.round(us)));
    if (this.#config.irq === undefined || (n === this.moderation.count && t === this.moderation.us)) return;
    if (this.#host.state() !== 'ready') return;
    this.moderation = { count: n, us: t };
    this.moderations++;
    this.#moderatedPollMs = Math.min(this.#config.pollMs, Math.max(1, Math.ceil((2 * t) / 1000)));
    const value = n === 1 ? this.#config.irqCtrl : (t << 16) | (n << 8);
    this.#host.bar.write32(queueReg(this.index, QREG.IRQ_CTRL), value >>> 0);
  }

  submit(jobs: readonly Job[]): number {
    const state = this.#host.state();
    if (state !== 'ready') {
      throw new DeviceGoneError(`ring card ${this.#host.id} is ${state}`, { device: this.#host.id });
    }
    const capabilities = this.#host.capabilities();
    let taken = 0;
    // The capability the last job matched is tried first: like jobs come in runs, and a scan of
    // every capability per job cost more than the descriptor write.
    let covering = this.#coveringIn === capabilities ? this.#covering : undefined;
    let posted = 0;
    for (const job of jobs) {
      if (this.inFlight >= this.depth) break;
      if (covering === undefined || !capabilityCovers(covering, job.request)) {
        covering = capabilities.find((cap) => capabilityCovers(cap, job.request));
        this.#covering = covering;
        this.#coveringIn = capabilities;
      }
      if (covering === undefined) {
        this.#fail(
          job.tag,
          new UnsupportedError(`ring card ${this.#host.id} cannot do this ${job.request.op} request`),
        );
        taken++;
        continue;
      }
      const area = this.#freeAreas.pop()!;
      const bytes = this.#areaBytes[area]!;
      let encoding: ReturnType<typeof encodeRequest>;
      try {
        encoding = encodeRequest(job.request, bytes, this.#host.keySlots);
      } catch (error) {
        this.#freeAreas.push(area);
        this.#fail(
          job.tag,
          asPkaccelError(error, this.#host.id, `ring card ${this.#host.id} taking a request`),
        );
        taken++;
        continue;
      }
      if (encoding.kind === 'no-key-slot') {
        this.#freeAreas.push(area);
        // Work in flight here will free a slot: stop and let the owner harvest. Otherwise it never would.
        if (this.inFlight > 0) break;
        this.#fail(job.tag, new DeviceError(`every key slot of ring card ${this.#host.id} is in use`));
        taken++;
        continue;
      }
      if (encoding.kind === 'immediate') {
        this.#freeAreas.push(area);
        this.#synthetic.push(
          encoding.witness === undefined
            ? { tag: job.tag, ok: true, value: encoding.value }
            : { tag: job.tag, ok: true, value: encoding.value, witness: encoding.witness },
        );
        taken++;
        continue;
      }
      this.#uses[area] = (this.#uses[area]! + 1) & 0xfffff;
      const deviceTag = ((this.#uses[area]! << SLOT_BITS) | area) >>> 0;
      const base = this.#operandsBus + area * AREA.SIZE;
      writeAreaDescriptor(this.#sqView, this.#sqTail * DESCRIPTOR_BYTES, encoding, deviceTag, base);
      this.#jobTag[area] = job.tag;
      this.#deviceTag[area] = deviceTag;
      this.#result[area] = encoding.result;
      this.#pinned[area] = encoding.pinned ?? NO_SLOT;
      this.#sqTail = (this.#sqTail + 1) % this.#ringDepth;
      posted++;
      taken++;
    }
    if (posted > 0) {
      const bar = this.#host.bar;
      // The CQ head only when the card could otherwise see its CQ full with these jobs in flight
      // (#cardMayStall): a queue pair that is not full saves the register write.
      if (this.#cardMayStall()) this.#reportCqHead();
      bar.barrier(); // descriptors and operands before the doorbell
      bar.write32(queueReg(this.index, QREG.SQ_TAIL), this.#sqTail);
      this.submitted += posted;
      this.doorbells++;
    }
    return taken;
  }

  harvest(sink: (completion: Completion) => void, max = Number.POSITIVE_INFINITY): number {
    let count = 0;
    while (count < max && this.#synthetic.length > 0) {
      sink(this.#synthetic.shift()!);
      count++;
    }
    const ring = this.#ring;
    batches: while (count < max && this.#host.state() === 'ready') {
      // Every new entry's phase first, then one read barrier, then their other fields (§4.2: the
      // card writes the flags word last): one barrier per batch, as drivers do, not per entry.
      const ready = this.#newEntries(max - count);
      if (ready === 0) break;
      this.#host.bar.barrier();
      for (let taken = 0; taken < ready; taken++) {
        // A sink may take the card out of service or reset this ring: then stop reading it.
        if (this.#ring !== ring || this.#host.state() !== 'ready') break batches;
        const completion = this.#take();
        this.#unreported++;
        if (completion === undefined) break batches; // the card is out of service now
        sink(completion);
        count++;
      }
    }
    // The CQ head goes to the card when it could otherwise hold a completion back for a CQ it sees
    // full (§4.2), with a doorbell or here: a register write is a posted write that wakes the
    // model's thread, not one to make per harvest (see #cardMayStall).
    if (this.#cardMayStall()) this.#reportCqHead();
    return count;
  }

  /** How many consecutive entries from the CQ head (at most `max`) have the expected phase. */
  #newEntries(max: number): number {
    let head = this.#cqHead;
    let phase = this.#phase;
    let ready = 0;
    while (ready < max && completionPhase(this.#cqView, head * COMPLETION_BYTES) === phase) {
      ready++;
      head++;
      if (head === this.#ringDepth) {
        head = 0;
        phase ^= 1;
      }
    }
    return ready;
  }

  /**
   * Whether the card could find its CQ full while the host has room (§4.2: it then holds
   * completions until CQ_HEAD moves): entries it sees used are at most the consumed ones it has
   * not been told of plus one per job in flight, and a CQ of `ringDepth` entries is full at
   * `ringDepth − 1`. Below that, telling it now would cost a posted write for nothing.
   */
  #cardMayStall(): boolean {
    return this.#unreported > 0 && this.#unreported + this.inFlight > this.#ringDepth - 1;
  }

  /** Tell the card how far the CQ is consumed, if it does not know yet. */
  #reportCqHead(): void {
    if (this.#unreported === 0) return;
    this.#unreported = 0;
    if (this.#host.state() === 'ready')
      this.#host.bar.write32(queueReg(this.index, QREG.CQ_HEAD), this.#cqHead);
  }

  /** Consume the completion at the CQ head; undefined if it took the card out of service. */
  #take(): Completion | undefined {
    // Field by field (§4.2), not readCompletion: no object per completion on this path.
    const at = this.#cqHead * COMPLETION_BYTES;
    const cq = this.#cqView;
    const tag = cq.getUint32(at + CQE.TAG, true);
    const status = cq.getUint16(at + CQE.STATUS, true);
    const length = cq.getUint32(at + CQE.RESULT_LEN, true);
    this.#cqHead = (this.#cqHead + 1) % this.#ringDepth;
    if (this.#cqHead === 0) this.#phase ^= 1;
    const area = tag & SLOT_MASK;
    const result = area < this.depth ? this.#result[area] : undefined;
    if (result === undefined || this.#deviceTag[area] !== tag) {
      this.#host.fail(
        `completion with tag 0x${tag.toString(16)} that the driver did not issue (queue ${this.index})`,
      );
      return undefined;
    }
    if (status > MAX_COMPLETION_STATUS) {
      this.#host.fail(`completion with impossible status ${status} (queue ${this.index})`);
      return undefined;
    }
    const expected = status === STATUS.OK ? resultLength(result) : 0;
    if (length !== expected) {
      this.#host.fail(
        `completion with result length ${length} where ${expected} was due (queue ${this.index}, buffer ${AREA.DST_BYTES} bytes)`,
      );
      return undefined;
    }
    const jobTag = this.#jobTag[area]!;
    const pinned = this.#pinned[area]!;
    let completion: Completion;
    if (status === STATUS.OK) {
      const at = area * AREA.SIZE + AREA.DST;
      if (result.kind === 'bytes') {
        // The common case (signatures, RSA results) without a decoded-result object in between:
        // a fresh copy this driver keeps no reference to. Handed over when the request said its
        // caller takes the buffer (an RSA signature, which subtle returns as an ArrayBuffer): then
        // subtle returns the copy's own buffer (core/encoding ownedBuffer). Else a plain slice,
        // the cheapest for queue.submit (B row): marking every result cost more than a copy.
        const operands = this.#operands.bytes;
        const end = at + result.length;
        const value = result.handOver === true ? handOverCopy(operands, at, end) : operands.slice(at, end);
        completion = { tag: jobTag, ok: true, value };
      } else {
        const decoded = decodeResult(result, this.#operands.bytes, at);
        if (!decoded.ok) {
          this.#host.fail(`${decoded.reason} (queue ${this.index})`);
          return undefined;
        }
        completion =
          decoded.witness === undefined
            ? { tag: jobTag, ok: true, value: decoded.value }
            : { tag: jobTag, ok: true, value: decoded.value, witness: decoded.witness };
      }
    } else {
      if (status === STATUS.KEY_SLOT_EMPTY && pinned !== NO_SLOT) this.#host.keySlots.forget(pinned);
      completion = { tag: jobTag, ok: false, error: statusError(status, this.#host.id) };
    }
    this.#release(area);
    return completion;
  }

  #release(area: number): void {
    const pinned = this.#pinned[area]!;
    if (pinned !== NO_SLOT) this.#host.keySlots.release(pinned);
    this.#result[area] = undefined;
    this.#pinned[area] = NO_SLOT;
    this.#freeAreas.push(area);
  }

  #cqHasEntry(): boolean {
    return completionPhase(this.#cqView, this.#cqHead * COMPLETION_BYTES) === this.#phase;
  }

  /**
   * Until harvest has something, the card is out of service, or `signal` aborts (core/driver/completion-wait).
   * Moderated (`moderate`): until the interrupt, `count` completions waiting, or the moderated
   * poll period — completions already in the CQ are counted by the card towards the next
   * interrupt (§8), so the host may sleep on them.
   */
  waitForCompletions(signal?: AbortSignal): Promise<void> {
    // A card holding completions back for a CQ it sees full must learn of the room before the host sleeps.
    if (this.#cardMayStall()) this.#reportCqHead();
    const count = this.moderation.count;
    let slept = false;
    return waitForCompletion(
      {
        check: () => {
          if (this.#synthetic.length > 0) return true;
          const state = this.#host.state();
          if (state !== 'ready' && state !== 'resetting') {
            throw new DeviceGoneError(`ring card ${this.#host.id} is ${state}`, { device: this.#host.id });
          }
          if (state !== 'ready' || !this.#cqHasEntry()) return false;
          return count === 1 || slept || this.#newEntries(count) >= count;
        },
        irq: this.#config.irq,
        pollMs: count === 1 ? this.#config.pollMs : this.#moderatedPollMs,
        wakeup: this.#wakeup,
        onWake: (cause) => {
          slept = true;
          if (cause === 'irq') this.wakesByIrq++;
          else if (cause === 'poll') this.wakesByPoll++;
        },
      },
      signal,
    );
  }

  async abandon(signal?: AbortSignal): Promise<readonly number[]> {
    throwIfAborted(signal);
    const tags = this.#dropAll();
    if (this.#host.state() === 'ready') {
      // Queue reset (§7): the card discards this queue's work; key slots stay.
      this.#host.bar.write32(queueReg(this.index, QREG.CTRL), 0);
      this.program();
    }
    return tags;
  }

  /** The card is out of service: every job in flight completes with `error`. */
  failAll(error: PkaccelError): void {
    for (let area = 0; area < this.depth; area++) {
      if (this.#result[area] !== undefined) {
        this.#synthetic.push({ tag: this.#jobTag[area]!, ok: false, error });
        this.#result[area] = undefined;
        this.#pinned[area] = NO_SLOT;
        this.#freeAreas.push(area);
      }
    }
    this.#wakeup.wake();
  }

  /** Forget every job without completing it (card reset); returns their tags. */
  #dropAll(): number[] {
    const tags = this.#synthetic.splice(0).map((c) => c.tag);
    for (let area = 0; area < this.depth; area++) {
      if (this.#result[area] !== undefined) {
        tags.push(this.#jobTag[area]!);
        const pinned = this.#pinned[area]!;
        if (pinned !== NO_SLOT) this.#host.keySlots.release(pinned);
      }
    }
    this.#resetLocal();
    return tags;
  }

  /** After a card reset: local state back to empty (the card's was cleared by the reset). */
  resetAfterCardReset(): readonly number[] {
    return this.#dropAll();
  }

  #resetLocal(): void {
    this.#result.fill(undefined);
    this.#pinned.fill(NO_SLOT);
    this.#freeAreas.length = 0;
    for (let area = this.depth - 1; area >= 0; area--) this.#freeAreas.push(area);
    this.#sqTail = 0;
    this.#cqHead = 0;
    this.#unreported = 0;
    this.#phase = 1;
    this.#ring++;
  }

  /** Wake a pending wait (state change). */
  nudge(): void {
    this.#wakeup.wake();
  }

  #fail(tag: number, error: PkaccelError): void {
    this.#synthetic.push({ tag, ok: false, error });
  }
}

/** §5: what a non-OK status means to the caller. */
function statusError(status: number, device: string): PkaccelError {
  const options = { device };
  switch (status) {
    case STATUS.INVALID_OPERAND:
      return new InvalidInputError('the ring card rejected an operand as out of range', options);
    case STATUS.UNSUPPORTED:
      return new UnsupportedError('the ring card does not support these parameters', options);
    case STATUS.ENGINE_ERROR:
      return new DeviceError('the ring card reported a transient engine error', options);
    case STATUS.DMA_FAULT:
      return new DeviceError('the ring card reported a DMA fault', options);
    case STATUS.KEY_SLOT_EMPTY:
      return new DeviceError(
        'the ring card lost a loaded key (slot empty); it is reloaded on next use',
        options,
      );
    default:
      return new DeviceError(`the ring card rejected a descriptor (status ${status})`, options);
  }
}
