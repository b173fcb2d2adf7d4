/**
 * One engine of the card (datasheet §6, §7, §10): loads a program's operands
 * into its window, starts it, reads its status and result, scrubs, resets. It
 * validates what the card reports and turns anything impossible into an
 * `impossible` report; deciding what that means is the queue pair's job.
 */

import type { EcCurveName } from '../../core/driver/keys.js';
import type { Mmio } from '../../core/platform/mmio.js';
import {
  ALL_ONES,
  CTRL_RESET,
  CTRL_START,
  ENGINE,
  ERROR,
  engineReg,
  STATUS,
  slotOffset,
} from './registers.js';
import { curveOperands, type OperandCodec, type Program } from './requests.js';

export type EngineReport =
  | { readonly kind: 'busy' }
  | { readonly kind: 'done'; readonly results: readonly bigint[] }
  | { readonly kind: 'error'; readonly code: number }
  /** The card said something the datasheet rules out (or every read is all-ones). */
  | { readonly kind: 'impossible'; readonly reason: string; readonly allOnes: boolean };

const KNOWN_ERRORS = new Set<number>(Object.values(ERROR));

export class Engine {
  /** The curve whose parameters the window holds now (they are public and survive scrubbing). */
  #curveLoaded: EcCurveName | undefined;

  constructor(
    readonly index: number,
    private readonly mmio: Mmio,
    private readonly codec: OperandCodec,
  ) {}

  #reg(reg: number): number {
    return engineReg(this.index, reg);
  }

  /** Write the operands and START (§10, steps 1–2). The engine must not be BUSY. */
  start(program: Program): void {
    const curveNeeded = program.curve !== undefined && this.#curveLoaded !== program.curve.name;
    const operands =
      curveNeeded && program.curve
        ? [...curveOperands(program.curve), ...program.operands]
        : program.operands;
    // A failed write leaves a half-loaded window: forget the curve until it is written again.
    if (curveNeeded) this.#curveLoaded = undefined;
    for (const op of operands) this.codec.write(slotOffset(this.index, op.slot), op.words, op.value, op.what);
    if (curveNeeded && program.curve) this.#curveLoaded = program.curve.name;
    this.mmio.write32(this.#reg(ENGINE.OPCODE), program.opcode);
    this.mmio.write32(this.#reg(ENGINE.LEN_A), program.lenA);
    this.mmio.write32(this.#reg(ENGINE.LEN_B), program.lenB);
    this.mmio.barrier();
    this.mmio.write32(this.#reg(ENGINE.CTRL), CTRL_START);
  }

  /** Read where the running program stands (§6.1), with the result if it is done. */
  poll(program: Program): EngineReport {
    const status = this.mmio.read32(this.#reg(ENGINE.STATUS));
    switch (status) {
      case STATUS.BUSY:
        return { kind: 'busy' };
      case STATUS.DONE: {
        const words = this.mmio.read32(this.#reg(ENGINE.RESULT_WORDS));
        if (words !== program.lenA) {
          return this.#impossible(
            `engine ${this.index} reported a result of ${words} words, expected ${program.lenA}`,
            words,
          );
        }
        const results = program.resultSlots.map((slot) =>
          this.codec.read(slotOffset(this.index, slot), words),
        );
        return { kind: 'done', results };
      }
      case STATUS.ERROR: {
        const code = this.mmio.read32(this.#reg(ENGINE.ERROR));
        if (!KNOWN_ERRORS.has(code))
          return this.#impossible(`engine ${this.index} reported error code ${code}`, code);
        return { kind: 'error', code };
      }
      default:
        // IDLE while a program runs is as impossible as an unknown value: nobody reset it.
        return this.#impossible(`engine ${this.index} reported status ${status} while running`, status);
    }
  }

  #impossible(reason: string, value: number): EngineReport {
    return { kind: 'impossible', reason, allOnes: value === ALL_ONES };
  }

  /** Zero what a private-key program left in the window (§7). */
  scrub(program: Program): void {
    for (const { slot, words } of program.scrub) this.codec.zero(slotOffset(this.index, slot), words);
  }

  /** Abort and zero the window (§6.3); true if the engine came back IDLE. */
  reset(): boolean {
    this.#curveLoaded = undefined;
    this.mmio.write32(this.#reg(ENGINE.CTRL), CTRL_RESET);
    // The read flushes the posted reset before anyone writes operands again.
    return this.mmio.read32(this.#reg(ENGINE.STATUS)) === STATUS.IDLE;
  }

  /** The window was zeroed by a soft reset of the whole card. */
  forgetWindow(): void {
    this.#curveLoaded = undefined;
  }

  /** Operations this engine completed since reset (§6 `OP_COUNT`). */
  get opCount(): number {
    return this.mmio.read32(this.#reg(ENGINE.OP_COUNT));
  }
}
