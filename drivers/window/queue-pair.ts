/**
 * The card's one queue pair: depth N over N engines, each running at most one
 * job (the datasheet's "one operation in flight per engine"). One queue pair
 * rather than N keeps the single interrupt vector with a single owner, and lets
 * the job queue see the card's whole capacity as one ring.
 *
 * Completion is interrupt-driven with a polling fallback: `waitForCompletions`
 * sleeps on the interrupt, a poll timer (short without interrupts, a slow safety
 * net with them) and the earliest job deadline; `harvest` reads the engines'
 * STATUS, which is always authoritative. A job past its deadline gets its engine
 * reset and completes with a TimeoutError. Anything impossible the card says
 * takes the whole card out of service.
 */

import { type SharedIrq, waitForCompletion } from '../../core/driver/completion-wait.js';
import type { Completion, Job, QueuePair } from '../../core/driver/device.js';
import {
  DeviceError,
  DeviceGoneError,
  InvalidInputError,
  PkaccelError,
  TimeoutError,
  throwIfAborted,
} from '../../core/driver/errors.js';
import type { Mmio } from '../../core/platform/mmio.js';
import type { Engine } from './engine.js';
import { ALL_ONES, ERROR, GLOBAL_CTRL_SOFT_RESET, OP, REG } from './registers.js';
import { type CardFeatures, compile, type Program } from './requests.js';

export interface QueuePairOptions {
  readonly deviceId: string;
  readonly mmio: Mmio;
  readonly engines: readonly Engine[];
  readonly features: CardFeatures;
  /** Absent when the card has no interrupt line: poll only. Its service step re-arms the line (§9). */
  readonly irq?: SharedIrq;
  /** How long one operation may run before its engine is reset. */
  readonly timeoutMs: number;
  /** Poll period: the only wake-up without interrupts, a safety net with them. */
  readonly pollMs: number;
  /** Called once when the card is taken out of service. */
  readonly onOutOfService: (state: 'failed' | 'gone', reason: string) => void;
}

interface Running {
  readonly tag: number;
  readonly program: Program;
  readonly deadline: number;
}

type Service = 'ready' | 'failed' | 'gone' | 'closed';

const OPCODE_NAMES: Readonly<Record<number, string>> = {
  [OP.MODEXP]: 'MODEXP',
  [OP.MODEXP_CRT]: 'MODEXP_CRT',
  [OP.ECMUL]: 'ECMUL',
  [OP.MODINV]: 'MODINV',
};

const now = (): number => performance.now();

export class WindowQueuePair implements QueuePair {
  readonly index = 0;
  readonly depth: number;
  readonly #o: QueuePairOptions;
  /** What each engine runs now. */
  readonly #running: (Running | undefined)[];
  /** Completions decided but not yet harvested. */
  #ready: Completion[] = [];
  #service: Service = 'ready';

  constructor(options: QueuePairOptions) {
    this.#o = options;
    this.depth = options.engines.length;
    this.#running = options.engines.map(() => undefined);
  }

  get inFlight(): number {
    return this.#ready.length + this.#running.filter((r) => r !== undefined).length;
  }

  submit(jobs: readonly Job[]): number {
    if (this.#service !== 'ready') {
      throw new DeviceGoneError(`window card ${this.#o.deviceId} is ${this.#service}`, {
        device: this.#o.deviceId,
      });
    }
    let taken = 0;
    for (const job of jobs) {
      if (this.inFlight >= this.depth) break;
      taken++;
      this.#launch(job);
      if (this.#service !== 'ready') break;
    }
    return taken;
  }

  #launch(job: Job): void {
    let program: Program;
    try {
      program = compile(job.request, this.#o.features);
    } catch (error) {
      this.#ready.push({ tag: job.tag, ok: false, error: this.#typed(error) });
      return;
    }
    const engineIndex = this.#running.indexOf(undefined);
    const engine = this.#o.engines[engineIndex]!;
    try {
      engine.start(program);
    } catch (error) {
      // A half-written window may hold key material: scrub before reporting.
      this.#scrubQuietly(engine, program);
      this.#ready.push({ tag: job.tag, ok: false, error: this.#typed(error) });
      return;
    }
    this.#running[engineIndex] = { tag: job.tag, program, deadline: now() + this.#o.timeoutMs };
  }

  harvest(sink: (completion: Completion) => void, max = Number.POSITIVE_INFINITY): number {
    this.#collect();
    const handed = this.#ready.splice(0, Math.min(max, this.#ready.length));
    for (const completion of handed) sink(completion);
    return handed.length;
  }

  /** Move every finished engine's job to `#ready`. */
  #collect(): void {
    if (this.#service !== 'ready') return;
    for (let i = 0; i < this.#running.length; i++) {
      const running = this.#running[i];
      if (running === undefined) continue;
      const engine = this.#o.engines[i]!;
      const report = engine.poll(running.program);
      if (report.kind === 'busy') {
        if (now() >= running.deadline) this.#timeOut(i, running);
        continue;
      }
      if (report.kind === 'impossible') {
        this.#outOfService(report.reason, report.allOnes && this.#cardGone());
        return;
      }
      this.#running[i] = undefined;
      // §9: acknowledge this engine's interrupt bit, so its next completion sends a fresh message
      // even when this one was found by polling rather than by an interrupt.
      if (this.#o.irq !== undefined) this.#o.mmio.write32(REG.IRQ_STATUS, 1 << i);
      let completion: Completion;
      if (report.kind === 'error') {
        completion = { tag: running.tag, ok: false, error: this.#cardError(i, report.code, running) };
      } else {
        try {
          completion = { tag: running.tag, ok: true, value: running.program.decode(report.results) };
        } catch (error) {
          completion = { tag: running.tag, ok: false, error: this.#typed(error) };
        }
      }
      this.#scrubQuietly(engine, running.program);
      this.#ready.push(completion);
    }
  }

  #timeOut(engineIndex: number, running: Running): void {
    const engine = this.#o.engines[engineIndex]!;
    this.#running[engineIndex] = undefined;
    const idle = engine.reset();
    this.#ready.push({
      tag: running.tag,
      ok: false,
      error: new TimeoutError(
        `window card ${this.#o.deviceId}: engine ${engineIndex} did not finish within ${this.#o.timeoutMs} ms and was reset`,
        { device: this.#o.deviceId },
      ),
    });
    if (!idle)
      this.#outOfService(`engine ${engineIndex} did not return to IDLE after reset`, this.#cardGone());
  }

  #cardError(engineIndex: number, code: number, running: Running): PkaccelError {
    const where = `window card ${this.#o.deviceId} engine ${engineIndex} (${OPCODE_NAMES[running.program.opcode] ?? 'unknown op'})`;
    const device = this.#o.deviceId;
    switch (code) {
      case ERROR.BAD_OPERAND:
        return new InvalidInputError(`${where}: operand out of range`, { device });
      case ERROR.NOT_ON_CURVE:
        return new InvalidInputError(`${where}: point not on the curve`, { device });
      case ERROR.AT_INFINITY:
        return new InvalidInputError(`${where}: result is the point at infinity`, { device });
      case ERROR.NOT_INVERTIBLE:
        return new InvalidInputError(`${where}: operand not invertible`, { device });
      case ERROR.INTERNAL:
        return new DeviceError(`${where}: internal engine fault`, { device });
      default:
        return new DeviceError(`${where}: rejected the program (error ${code})`, { device });
    }
  }

  #typed(error: unknown): PkaccelError {
    if (error instanceof PkaccelError) return error;
    // A RangeError from the Mmio would mean an offset outside the BAR (a driver bug): report it, never rethrow it.
    return new DeviceError(
      `window card ${this.#o.deviceId}: ${error instanceof Error ? error.message : String(error)}`,
      {
        device: this.#o.deviceId,
        cause: error,
      },
    );
  }

  #scrubQuietly(engine: Engine, program: Program): void {
    if (program.scrub.length === 0 || this.#service === 'gone') return;
    try {
      engine.scrub(program);
    } catch {
      // The window is unreachable (removed card): nothing left to scrub on our side.
    }
  }

  #cardGone(): boolean {
    try {
      return this.#o.mmio.read32(REG.ID) === ALL_ONES;
    } catch {
      return true;
    }
  }

  /**
   * Take the card out of service: every running job completes with an error, no
   * register is touched again except one soft reset that zeroes operand RAM
   * (key material) on a card that is still there.
   */
  #outOfService(reason: string, gone: boolean): void {
    if (this.#service !== 'ready') return;
    this.#service = gone ? 'gone' : 'failed';
    const device = this.#o.deviceId;
    const message = gone
      ? `window card ${device} is gone (${reason})`
      : `window card ${device} taken out of service: ${reason}`;
    for (let i = 0; i < this.#running.length; i++) {
      const running = this.#running[i];
      if (running === undefined) continue;
      this.#running[i] = undefined;
      const error = gone ? new DeviceGoneError(message, { device }) : new DeviceError(message, { device });
      this.#ready.push({ tag: running.tag, ok: false, error });
    }
    if (!gone) {
      try {
        this.#o.mmio.write32(REG.GLOBAL_CTRL, GLOBAL_CTRL_SOFT_RESET);
      } catch {
        // best effort only
      }
    }
    this.#o.onOutOfService(gone ? 'gone' : 'failed', message);
  }

  /** The platform saw the card disappear. */
  removed(): void {
    const reason = 'the platform reported surprise removal';
    if (this.#service === 'ready') this.#outOfService(reason, true);
    else if (this.#service === 'failed') {
      // Already out of service; now it is gone too (nothing is running any more).
      this.#service = 'gone';
      this.#o.onOutOfService('gone', `window card ${this.#o.deviceId} is gone (${reason})`);
    }
  }

  /** Whether `harvest` would hand out something now. */
  #harvestable(): boolean {
    this.#collect();
    return this.#ready.length > 0;
  }

  waitForCompletions(signal?: AbortSignal): Promise<void> {
    return waitForCompletion(
      {
        check: () => {
          if (this.#harvestable()) return true;
          if (this.#service !== 'ready') {
            throw new DeviceGoneError(`window card ${this.#o.deviceId} is ${this.#service}`, {
              device: this.#o.deviceId,
            });
          }
          // Nothing in flight: nothing will ever come, so do not sleep forever.
          return this.#running.every((r) => r === undefined);
        },
        irq: this.#o.irq,
        // The poll period, but never past the earliest deadline (a job over it gets its engine reset).
        pollMs: () => {
          let deadline = Number.POSITIVE_INFINITY;
          for (const r of this.#running) if (r !== undefined && r.deadline < deadline) deadline = r.deadline;
          return Math.max(0, Math.min(this.#o.pollMs, deadline - now()));
        },
      },
      signal,
    );
  }

  async abandon(signal?: AbortSignal): Promise<readonly number[]> {
    throwIfAborted(signal);
    const tags: number[] = this.#ready.map((c) => c.tag);
    this.#ready = [];
    for (let i = 0; i < this.#running.length; i++) {
      const running = this.#running[i];
      if (running === undefined) continue;
      tags.push(running.tag);
      this.#running[i] = undefined;
      if (this.#service === 'ready' && !this.#o.engines[i]!.reset()) {
        this.#outOfService(`engine ${i} did not return to IDLE after reset`, this.#cardGone());
      }
    }
    return tags;
  }

  /** Device reset: forget everything in flight (the caller soft-resets the card) and serve again. */
  reopen(): readonly number[] {
    const tags = [...this.#ready.map((c) => c.tag), ...this.#running.flatMap((r) => (r ? [r.tag] : []))];
    this.#ready = [];
    this.#running.fill(undefined);
    for (const engine of this.#o.engines) engine.forgetWindow();
    if (this.#service !== 'closed') this.#service = 'ready';
    return tags;
  }

  close(): void {
    if (this.#service === 'ready' || this.#service === 'failed') {
      for (let i = 0; i < this.#running.length; i++) {
        const running = this.#running[i];
        if (running === undefined) continue;
        this.#running[i] = undefined;
        this.#ready.push({
          tag: running.tag,
          ok: false,
          error: new DeviceGoneError(`window card ${this.#o.deviceId} was closed`, {
            device: this.#o.deviceId,
          }),
        });
      }
    }
    this.#service = 'closed';
  }

  get service(): Service {
    return this.#service;
  }
}
