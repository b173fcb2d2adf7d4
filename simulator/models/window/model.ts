/**
 * The window card's device model, register by register from
 * docs/hardware/window-card.md: N engines, each with a register block and an
 * operand window (plain memory the host writes directly), opcode + START, a
 * busy → done/error status, one MSI vector with mask and W1C status.
 *
 * The model keeps every readable register in the BAR memory (reads have no side
 * effects); `onWrite` gets the posted writes to the register ranges in order.
 */

import { CURVES } from '../../../core/driver/curves.js';
import type { EcCurveName } from '../../../core/driver/keys.js';
import { FaultChoices } from '../../faults.js';
import type { DeviceModel, FaultKind, ModelDefinition, ModelHost, ModelLayout } from '../../model.js';
import { familyOptions } from '../family.js';
import { curveCapsBit, type OperationOutcome, runOperation } from './engine.js';
import { windowFamily } from './family.js';
import {
  BAR0_SIZE,
  CAPS,
  CTRL_RESET,
  CTRL_START,
  ENGINE,
  ENGINE_REG_BASE,
  ENGINE_REG_STRIDE,
  ERROR,
  engineReg,
  GARBAGE_RESULT_WORDS,
  GARBAGE_STATUS,
  GLOBAL_CTRL_SOFT_RESET,
  GLOBAL_STATUS_READY,
  ID_MAGIC,
  MAX_WORDS,
  PCI_CLASS_CODE,
  REG,
  SLOT_BYTES,
  STATUS,
  slotOffset,
  VERSION_1_0,
  WINDOW_BASE,
  WINDOW_DEVICE_ID,
  WINDOW_STRIDE,
  WINDOW_VENDOR_ID,
} from './registers.js';
import { type WindowTiming, windowTiming } from './timing.js';

/** `sim:window?curves=P-256,P-384` narrows the curves ECMUL accepts (default: all three). */
function curveCaps(text: string): number {
  const names = text.split(',').filter((s) => s.length > 0);
  let bits = 0;
  for (const name of names) {
    if (!(name in CURVES)) throw new RangeError(`sim:window option curves: unknown curve "${name}"`);
    bits |= curveCapsBit(name as EcCurveName);
  }
  return bits;
}

export function windowLayout(options: Readonly<Record<string, string>>): ModelLayout {
  const { engines, irq } = familyOptions(windowFamily, options);
  return {
    identity: {
      vendorId: WINDOW_VENDOR_ID,
      deviceId: WINDOW_DEVICE_ID,
      subsystemVendorId: WINDOW_VENDOR_ID,
      subsystemDeviceId: 0x0001,
      classCode: PCI_CLASS_CODE,
      revision: 0x01,
    },
    bars: { 0: { size: BAR0_SIZE, plainRanges: [{ offset: WINDOW_BASE, size: WINDOW_STRIDE * engines }] } },
    irq: irq === 'none' ? { kind: 'none', vectors: 0 } : { kind: 'msi', vectors: 1 },
    dmaArenaBytes: 0,
  };
}

/** Engine state the BAR does not show. */
interface EngineState {
  busy: boolean;
  /** Bumped by every reset, so a completion scheduled before it is dropped. */
  epoch: number;
}

class WindowModel implements DeviceModel {
  readonly layout: ModelLayout;
  readonly #host: ModelHost;
  readonly #bar: DataView;
  readonly #engines: EngineState[];
  readonly #caps: number;
  readonly #timing: WindowTiming;
  readonly #hasIrq: boolean;
  /** Which bit a corrupt fault flips: drawn from the spec's seed. */
  readonly #choices: FaultChoices;
  /** Operations started since the model was created: garbage on an odd one is a bad status, on an even one a bad length. */
  #started = 0;

  constructor(host: ModelHost) {
    this.#host = host;
    const options = familyOptions(windowFamily, host.options);
    this.layout = windowLayout(host.options);
    this.#bar = host.bar(0);
    this.#engines = Array.from({ length: options.engines }, () => ({ busy: false, epoch: 0 }));
    this.#caps = CAPS.MODEXP | CAPS.MODEXP_CRT | CAPS.ECMUL | CAPS.MODINV | curveCaps(options.curves);
    this.#timing = windowTiming(host.options, this.#engines.length);
    this.#hasIrq = this.layout.irq.kind !== 'none';
    this.#choices = FaultChoices.fromOptions(host.options);
  }

  reset(): void {
    const bar = this.#bar;
    for (let off = 0; off < WINDOW_BASE; off += 4) bar.setUint32(off, 0, true);
    bar.setUint32(REG.ID, ID_MAGIC, true);
    bar.setUint32(REG.VERSION, VERSION_1_0, true);
    bar.setUint32(REG.ENGINES, this.#engines.length, true);
    bar.setUint32(REG.CAPS, this.#caps, true);
    bar.setUint32(REG.MAX_WORDS, MAX_WORDS, true);
    bar.setUint32(REG.WINDOW_BASE, WINDOW_BASE, true);
    bar.setUint32(REG.WINDOW_STRIDE, WINDOW_STRIDE, true);
    bar.setUint32(REG.ENGINE_REG_BASE, ENGINE_REG_BASE, true);
    bar.setUint32(REG.IRQ_MASK, 0xffffffff, true);
    for (let i = 0; i < this.#engines.length; i++) this.#resetEngine(i, false);
    bar.setUint32(REG.GLOBAL_STATUS, GLOBAL_STATUS_READY, true);
  }

  onWrite(bar: number, offset: number, width: 1 | 2 | 4 | 8, value: bigint): void {
    // The datasheet defines 32-bit register accesses only; anything else is dropped, as the card does.
    if (bar !== 0 || width !== 4) return;
    const v = Number(value & 0xffffffffn);
    if (offset < ENGINE_REG_BASE) this.#writeGlobal(offset, v);
    else if (offset < ENGINE_REG_BASE + ENGINE_REG_STRIDE * this.#engines.length) {
      const rel = offset - ENGINE_REG_BASE;
      this.#writeEngine(Math.floor(rel / ENGINE_REG_STRIDE), rel % ENGINE_REG_STRIDE, v);
    }
  }

  #writeGlobal(offset: number, v: number): void {
    switch (offset) {
      case REG.GLOBAL_CTRL:
        if (v & GLOBAL_CTRL_SOFT_RESET) this.reset();
        return;
      case REG.IRQ_STATUS:
        this.#setIrqStatus(this.#irqStatus() & ~v);
        return;
      case REG.IRQ_MASK: {
        const before = this.#bar.getUint32(REG.IRQ_MASK, true);
        this.#bar.setUint32(REG.IRQ_MASK, v, true);
        // Unmasking an engine whose status bit is already set sends one message (§9).
        if ((this.#irqStatus() & before & ~v) !== 0) this.#raise();
        return;
      }
      default:
        return; // read-only and reserved registers ignore writes
    }
  }

  #writeEngine(engine: number, reg: number, v: number): void {
    switch (reg) {
      case ENGINE.OPCODE:
      case ENGINE.LEN_A:
      case ENGINE.LEN_B:
        this.#bar.setUint32(engineReg(engine, reg), v, true);
        return;
      case ENGINE.CTRL:
        if (v & CTRL_RESET) this.#resetEngine(engine, true);
        else if (v & CTRL_START) this.#start(engine);
        return;
      default:
        return;
    }
  }

  #irqStatus(): number {
    return this.#bar.getUint32(REG.IRQ_STATUS, true);
  }

  #setIrqStatus(v: number): void {
    this.#bar.setUint32(REG.IRQ_STATUS, v >>> 0, true);
  }

  #raise(): void {
    if (this.#hasIrq) this.#host.raiseIrq(0);
  }

  #resetEngine(engine: number, clearIrq: boolean): void {
    const state = this.#engines[engine]!;
    state.busy = false;
    state.epoch++;
    const bar = this.#bar;
    const base = WINDOW_BASE + WINDOW_STRIDE * engine;
    for (let off = 0; off < WINDOW_STRIDE; off += 4) bar.setUint32(base + off, 0, true);
    bar.setUint32(engineReg(engine, ENGINE.ERROR), 0, true);
    bar.setUint32(engineReg(engine, ENGINE.RESULT_WORDS), 0, true);
    bar.setUint32(engineReg(engine, ENGINE.STATUS), STATUS.IDLE, true);
    if (clearIrq) this.#setIrqStatus(this.#irqStatus() & ~(1 << engine));
  }

  /** Operand `slot` of a window snapshot (§3.1: little-endian words, least significant first). */
  #readOperand(window: Uint8Array, slot: number, words: number): bigint {
    const base = SLOT_BYTES * slot;
    const bytes = Math.min(words * 4, SLOT_BYTES);
    let hex = '';
    for (let i = bytes - 1; i >= 0; i--) hex += window[base + i]!.toString(16).padStart(2, '0');
    return hex.length === 0 ? 0n : BigInt(`0x${hex}`);
  }

  #writeOperand(engine: number, slot: number, words: number, value: bigint): void {
    const base = slotOffset(engine, slot);
    let v = value;
    for (let i = 0; i < Math.min(words * 4, SLOT_BYTES); i++) {
      this.#bar.setUint8(base + i, Number(v & 0xffn));
      v >>= 8n;
    }
  }

  #start(engine: number): void {
    const state = this.#engines[engine]!;
    if (state.busy) return; // START while BUSY is ignored (§6)
    const bar = this.#bar;
    const opcode = bar.getUint32(engineReg(engine, ENGINE.OPCODE), true);
    const lenA = bar.getUint32(engineReg(engine, ENGINE.LEN_A), true);
    const lenB = bar.getUint32(engineReg(engine, ENGINE.LEN_B), true);
    state.busy = true;
    bar.setUint32(engineReg(engine, ENGINE.STATUS), STATUS.BUSY, true);
    const ordinal = ++this.#started;

    const fault: FaultKind | undefined = this.#host.nextFault();
    if (fault === 'surprise-removal') {
      this.#host.remove();
      return;
    }
    if (fault === 'hang') return; // BUSY until reset

    // Latch the operands now (§8: "in" slots are read at START), and compute once this batch of
    // posted writes is applied: the runner acknowledges the batch first, so a host read that flushes
    // the FIFO does not wait for this operation's math. A microtask, not schedule(0): a zero-delay
    // timer costs a millisecond, which is more than a whole P-256 multiplication.
    const start = WINDOW_BASE + WINDOW_STRIDE * engine;
    const window = new Uint8Array(bar.buffer, bar.byteOffset + start, WINDOW_STRIDE).slice();
    const epoch = state.epoch;
    queueMicrotask(() => {
      if (state.epoch !== epoch) {
        window.fill(0); // reset while waiting to run: the result is never written
        return;
      }
      const started = this.#host.now();
      let outcome: OperationOutcome = { ok: false, error: ERROR.INTERNAL };
      try {
        if (fault !== 'error-status') {
          outcome = runOperation(
            { opcode, lenA, lenB, read: (slot, words) => this.#readOperand(window, slot, words) },
            this.#caps,
            {
              corrupt: fault === 'corrupt-result' ? (bits) => this.#choices.below(bits) : undefined,
              echo: this.#timing.mode === 'null',
            },
          );
        }
      } catch {
        // An arithmetic failure the checks above did not foresee is the engine's INTERNAL error.
      }
      window.fill(0); // the snapshot held whatever keys the host wrote
      const serviceMs = this.#timing.serviceMs(this.#host.now() - started);
      const delayMs = serviceMs + (fault === 'delay-completion' ? this.#timing.faultDelayMs : 0);
      const finish = () => {
        if (state.epoch === epoch) this.#complete(engine, outcome, fault, ordinal);
      };
      if (delayMs > 0) this.#host.schedule(delayMs, finish);
      else finish();
    });
  }

  #complete(engine: number, outcome: OperationOutcome, fault: FaultKind | undefined, ordinal: number): void {
    const state = this.#engines[engine]!;
    const bar = this.#bar;
    state.busy = false;
    if (outcome.ok) {
      for (const r of outcome.results) this.#writeOperand(engine, r.slot, outcome.words, r.value);
      bar.setUint32(engineReg(engine, ENGINE.RESULT_WORDS), outcome.words, true);
      bar.setUint32(engineReg(engine, ENGINE.ERROR), 0, true);
      const count = bar.getUint32(engineReg(engine, ENGINE.OP_COUNT), true);
      bar.setUint32(engineReg(engine, ENGINE.OP_COUNT), (count + 1) >>> 0, true);
    } else {
      bar.setUint32(engineReg(engine, ENGINE.ERROR), outcome.error, true);
    }
    let status: number = outcome.ok ? STATUS.DONE : STATUS.ERROR;
    if (fault === 'garbage-completion') {
      if (ordinal % 2 === 1) status = GARBAGE_STATUS;
      else {
        status = STATUS.DONE;
        bar.setUint32(engineReg(engine, ENGINE.RESULT_WORDS), GARBAGE_RESULT_WORDS, true);
      }
    }
    // STATUS last: a host that sees DONE finds the result already in place (§6.1).
    bar.setUint32(engineReg(engine, ENGINE.STATUS), status, true);

    const bit = 1 << engine;
    const before = this.#irqStatus();
    this.#setIrqStatus(before | bit);
    const masked = (bar.getUint32(REG.IRQ_MASK, true) & bit) !== 0;
    if ((before & bit) !== 0 || masked || fault === 'drop-completion') return;
    this.#raise();
    if (fault === 'duplicate-completion') this.#raise();
  }
}

const windowModel: ModelDefinition = {
  name: windowFamily.name,
  layout: windowLayout,
  create: (host) => new WindowModel(host),
};

export default windowModel;
