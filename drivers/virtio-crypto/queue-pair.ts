/**
 * One data queue as a QueuePair. Each of `depth` slots owns three descriptors
 * (header+payload out; output in; status in) and a fixed piece of DMA memory, so
 * submitting never allocates. A job whose session is not created yet waits for
 * it off the ring; completions found locally (refusals, immediate answers,
 * failed sessions) are handed out by `harvest` with the device's ones.
 */

import { type SharedIrq, Wakeup, waitForCompletion } from '../../core/driver/completion-wait.js';
import {
  type Completion,
  DeviceError,
  DeviceGoneError,
  InvalidKeyError,
  type Job,
  type PkaccelError,
  type QueuePair,
  supports,
  UnsupportedError,
} from '../../core/driver/index.js';
import type { DmaBuffer } from '../../core/platform/index.js';
import type { CapabilityBook, Combination } from './crypto-config.js';
import { encodeDataHeader } from './messages.js';
import { CryptoStatus, Desc, REQUEST_HEADER_SIZE } from './registers.js';
import { type DataPlan, decodeOutput, planRequest } from './requests.js';
import { type Session, type SessionCache, SessionRefused } from './sessions.js';
import { type SplitVirtqueue, UsedRingViolation } from './virtqueue.js';

/** Per-slot DMA layout: out part, output, status byte. Sized for RSA-4096 and SHA-512 digests. */
export const SLOT_BYTES = 2048;
const OUT_AT = 0;
const OUTPUT_AT = 1024;
const STATUS_AT = 1536;
const MAX_OUTPUT = STATUS_AT - OUTPUT_AT;

/** What a queue pair needs from its device. */
export interface DeviceContext {
  readonly id: string;
  readonly sessions: SessionCache;
  readonly book: CapabilityBook;
  /** Whether the device takes jobs now. */
  usable(): boolean;
  notify(queue: number): void;
  /** The device's interrupt, shared by its queues; undefined when it polls. */
  readonly irq: SharedIrq | undefined;
  /** How long a wait sleeps before looking again (0: the next turn of the event loop). */
  readonly pollMs: number;
  /** The device broke a rule: take it out of service. */
  violation(error: Error): void;
  /** A combination the device refused: drop it from the capabilities (and tell listeners). */
  refuse(combination: Combination): void;
}

interface Slot {
  tag: number;
  plan: DataPlan | undefined;
  session: Session | undefined;
  posted: boolean;
  /** Bumped when the slot is reused or abandoned, so a late session answer is ignored. */
  generation: number;
}

export class VirtioQueuePair implements QueuePair {
  readonly depth: number;
  readonly #slots: (Slot | undefined)[];
  readonly #free: number[] = [];
  readonly #local: Completion[] = [];
  /** Wakes a waiter when a completion is made here rather than by the device. */
  readonly #localWake = new Wakeup();
  #generation = 0;

  constructor(
    readonly index: number,
    private readonly queue: SplitVirtqueue,
    private readonly memory: DmaBuffer,
    private readonly device: DeviceContext,
  ) {
    this.depth = Math.min(Math.floor(queue.size / 3), Math.floor(memory.size / SLOT_BYTES));
    this.#slots = new Array(this.depth).fill(undefined);
    for (let i = this.depth - 1; i >= 0; i--) this.#free.push(i);
  }

  get inFlight(): number {
    return this.depth - this.#free.length;
  }

  submit(jobs: readonly Job[]): number {
    if (!this.device.usable())
      throw new DeviceGoneError(`virtio-crypto ${this.device.id} is out of service`, {
        device: this.device.id,
      });
    const heads: number[] = [];
    let taken = 0;
    for (const job of jobs) {
      const index = this.#free.pop();
      if (index === undefined) break;
      taken++;
      const slot: Slot = {
        tag: job.tag,
        plan: undefined,
        session: undefined,
        posted: false,
        generation: ++this.#generation,
      };
      this.#slots[index] = slot;
      let plan: DataPlan;
      try {
        if (!supports(this.device.book.list, job.request))
          throw new UnsupportedError(
            `virtio-crypto ${this.device.id} does not do this ${job.request.op} request`,
          );
        const planned = planRequest(job.request);
        if (!('opcode' in planned)) {
          this.#completeLocally(index, { tag: job.tag, ok: true, value: planned.immediate });
          continue;
        }
        plan = planned;
      } catch (error) {
        this.#completeLocally(index, { tag: job.tag, ok: false, error: this.#asError(error) });
        continue;
      }
      slot.plan = plan;
      const session = this.device.sessions.acquire(plan.key, plan.params);
      slot.session = session;
      if (session.id !== undefined) {
        this.#write(index, slot, session.id);
        heads.push(index * 3);
      } else {
        const generation = slot.generation;
        session.ready.then(
          (id) => {
            if (this.#slots[index]?.generation !== generation || !this.device.usable()) return;
            this.#write(index, slot, id);
            this.queue.publish([index * 3]);
            this.device.notify(this.queue.index);
          },
          (error: unknown) => {
            if (this.#slots[index]?.generation !== generation) return;
            this.#completeLocally(index, {
              tag: slot.tag,
              ok: false,
              error: this.#sessionError(plan, error),
            });
          },
        );
      }
    }
    if (heads.length > 0) {
      this.queue.publish(heads);
      this.device.notify(this.queue.index);
    }
    return taken;
  }

  /** Fill slot `index`'s DMA memory and its three descriptors. */
  #write(index: number, slot: Slot, sessionId: bigint): void {
    const plan = slot.plan!;
    const base = index * SLOT_BYTES;
    const bytes = this.memory.bytes.subarray(base, base + SLOT_BYTES);
    encodeDataHeader(bytes.subarray(OUT_AT), plan.opcode, sessionId, plan.srcLength, plan.dstLength);
    let at = OUT_AT + REQUEST_HEADER_SIZE;
    for (const part of plan.payload) {
      bytes.set(part, at);
      at += part.length;
    }
    bytes[STATUS_AT] = 0xff; // not a status the device uses: an untouched status byte is caught
    const address = this.memory.busAddress + BigInt(base);
    const head = index * 3;
    if (plan.outputLength > 0) {
      this.queue.setDescriptor(head, address + BigInt(OUT_AT), at - OUT_AT, Desc.next, head + 1);
      this.queue.setDescriptor(
        head + 1,
        address + BigInt(OUTPUT_AT),
        plan.outputLength,
        Desc.write | Desc.next,
        head + 2,
      );
    } else {
      this.queue.setDescriptor(head, address + BigInt(OUT_AT), at - OUT_AT, Desc.next, head + 2);
    }
    this.queue.setDescriptor(head + 2, address + BigInt(STATUS_AT), 1, Desc.write);
    slot.posted = true;
  }

  harvest(sink: (completion: Completion) => void, max = Number.POSITIVE_INFINITY): number {
    let count = 0;
    while (count < max && this.#local.length > 0) {
      sink(this.#local.shift()!);
      count++;
    }
    while (count < max && this.device.usable()) {
      let used: ReturnType<SplitVirtqueue['takeUsed']>;
      try {
        used = this.queue.takeUsed();
      } catch (error) {
        this.device.violation(error as Error);
        break;
      }
      if (used === undefined) break;
      const index = used.id / 3;
      const slot = Number.isInteger(index) ? this.#slots[index] : undefined;
      if (slot === undefined || !slot.posted || slot.plan === undefined) {
        this.device.violation(
          new UsedRingViolation(`queue ${this.index}: the device returned chain ${used.id}, not in flight`),
        );
        break;
      }
      if (used.length > slot.plan.outputLength + 1) {
        this.device.violation(
          new UsedRingViolation(
            `queue ${this.index}: the device wrote ${used.length} bytes into a ${slot.plan.outputLength + 1}-byte chain`,
          ),
        );
        break;
      }
      sink(this.#finish(index, slot, used.length));
      count++;
    }
    return count;
  }

  #finish(index: number, slot: Slot, usedLength: number): Completion {
    const plan = slot.plan!;
    const base = index * SLOT_BYTES;
    const bytes = this.memory.bytes.subarray(base, base + SLOT_BYTES);
    const status = bytes[STATUS_AT]!;
    const written = Math.max(0, usedLength - 1);
    let completion: Completion;
    if (status === CryptoStatus.ok) {
      const value = decodeOutput(
        plan,
        bytes.subarray(OUTPUT_AT, OUTPUT_AT + Math.min(written, MAX_OUTPUT)),
        this.device.id,
      );
      if (value instanceof Error) completion = { tag: slot.tag, ok: false, error: value };
      else {
        this.device.book.confirm(plan.combination);
        completion = { tag: slot.tag, ok: true, value };
      }
    } else if (
      plan.opcode === 0x0403 &&
      (status === CryptoStatus.keyRejected || status === CryptoStatus.badmsg)
    ) {
      // The verify ran and the signature did not match: a result, not an error.
      this.device.book.confirm(plan.combination);
      completion = { tag: slot.tag, ok: true, value: false };
    } else {
      if (status === CryptoStatus.invsess && slot.session) this.device.sessions.forget(slot.session);
      completion = { tag: slot.tag, ok: false, error: this.#statusError(plan, status) };
    }
    bytes.fill(0);
    this.#freeSlot(index);
    return completion;
  }

  #statusError(plan: DataPlan, status: number): PkaccelError {
    const device = this.device.id;
    const what = `${plan.combination.op}${'hash' in plan.combination ? ` with ${plan.combination.hash}` : ''}`;
    if (
      status === CryptoStatus.notsupp ||
      (status === CryptoStatus.err && !this.device.book.confirmed(plan.combination))
    ) {
      // A first failure of a combination the spec allows is the device's limit (QEMU answers ERR for RAW on nettle builds).
      this.device.refuse(plan.combination);
      return new UnsupportedError(`virtio-crypto ${device} refused ${what} (status ${status})`, { device });
    }
    if (status === CryptoStatus.invsess)
      return new DeviceError(`virtio-crypto ${device} lost the session for ${what}`, { device });
    if (status === CryptoStatus.badmsg)
      return new DeviceError(`virtio-crypto ${device} rejected the input of ${what}`, { device });
    if (status === 0xff)
      return new DeviceError(`virtio-crypto ${device} returned ${what} without writing its status`, {
        device,
      });
    return new DeviceError(`virtio-crypto ${device} failed ${what} with status ${status}`, { device });
  }

  #sessionError(plan: DataPlan, error: unknown): PkaccelError {
    const device = this.device.id;
    if (error instanceof SessionRefused) {
      if (!this.device.book.confirmed(plan.combination)) {
        this.device.refuse(plan.combination);
        return new UnsupportedError(
          `virtio-crypto ${device} refused a session for ${plan.combination.op}${'hash' in plan.combination ? ` with ${plan.combination.hash}` : ''} (status ${error.status})`,
          { device },
        );
      }
      return new InvalidKeyError(`virtio-crypto ${device} refused the key (status ${error.status})`, {
        device,
      });
    }
    return this.#asError(error);
  }

  #asError(error: unknown): PkaccelError {
    if (error instanceof Error && 'code' in error && typeof (error as PkaccelError).code === 'string')
      return error as PkaccelError;
    return new DeviceError(
      `virtio-crypto ${this.device.id}: ${error instanceof Error ? error.message : String(error)}`,
      {
        device: this.device.id,
        cause: error,
      },
    );
  }

  #completeLocally(index: number, completion: Completion): void {
    this.#freeSlot(index);
    this.#local.push(completion);
    this.#localWake.wake();
  }

  #freeSlot(index: number): void {
    const slot = this.#slots[index];
    if (slot === undefined) return;
    if (slot.session) this.device.sessions.release(slot.session);
    this.#slots[index] = undefined;
    this.#free.push(index);
  }

  /** Whether `harvest` would find something now. */
  ready(): boolean {
    return this.#local.length > 0 || (this.device.usable() && this.queue.hasUsed());
  }

  waitForCompletions(signal?: AbortSignal): Promise<void> {
    return waitForCompletion(
      {
        check: () => {
          if (this.ready()) return true;
          if (!this.device.usable() && this.inFlight === 0)
            throw new DeviceGoneError(`virtio-crypto ${this.device.id} is out of service`, {
              device: this.device.id,
            });
          return false;
        },
        irq: this.device.irq,
        pollMs: this.device.pollMs,
        wakeup: this.#localWake,
      },
      signal,
    );
  }

  /** Every job in flight, with its tag; used by the device when it resets or fails. */
  takeAll(): number[] {
    const tags: number[] = [];
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      if (slot === undefined) continue;
      tags.push(slot.tag);
      this.memory.bytes.fill(0, i * SLOT_BYTES, (i + 1) * SLOT_BYTES);
      this.#freeSlot(i);
    }
    return tags;
  }

  /** The device went out of service: every job in flight completes with `error`; local completions stay. */
  failAll(makeError: () => PkaccelError): void {
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      if (slot === undefined) continue;
      this.#completeLocally(i, { tag: slot.tag, ok: false, error: makeError() });
    }
  }

  /** After a device reset: the ring starts over. Local completions not yet harvested stay. */
  restart(): void {
    this.queue.clear();
  }

  abandon(signal?: AbortSignal): Promise<readonly number[]> {
    return this.#abandon(this, signal);
  }

  /** Set by the device: a hung queue is recovered with a device reset (virtio 1.x has no per-queue reset we can rely on). */
  #abandon: (qp: VirtioQueuePair, signal?: AbortSignal) => Promise<readonly number[]> = async () =>
    this.takeAll();

  setAbandonHandler(
    handler: (qp: VirtioQueuePair, signal?: AbortSignal) => Promise<readonly number[]>,
  ): void {
    this.#abandon = handler;
  }
}
