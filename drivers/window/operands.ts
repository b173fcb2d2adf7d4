/**
 * Operand marshalling (datasheet §3.1): an operand of L words is the integer's
 * little-endian byte string, least significant word first, moved through the
 * BAR with one block copy.
 */

import { DeviceError, InvalidInputError } from '../../core/driver/errors.js';
import type { Mmio } from '../../core/platform/mmio.js';
import { SLOT_BYTES } from './registers.js';

/** Words needed to hold `value` (at least 1). */
export function wordsFor(value: bigint): number {
  return Math.max(1, Math.ceil(value.toString(16).length / 8));
}

/**
 * Moves operands between bigints and a window, through one reusable slot-sized
 * buffer (nothing is allocated per operand).
 */
export class OperandCodec {
  readonly #scratch = new Uint8Array(SLOT_BYTES);

  constructor(private readonly mmio: Mmio) {}

  /** Write `value` as `words` little-endian words at `offset`. */
  write(offset: number, words: number, value: bigint, what: string): void {
    const length = words * 4;
    if (length > SLOT_BYTES)
      throw new InvalidInputError(`${what} needs ${words} words; an operand slot holds ${SLOT_BYTES / 4}`);
    if (value < 0n) throw new InvalidInputError(`${what} is negative`);
    const hex = value.toString(16);
    if (hex.length > length * 2) throw new InvalidInputError(`${what} does not fit in ${words} words`);
    const bytes = this.#scratch.subarray(0, length);
    bytes.fill(0);
    // hex is most significant first; byte k of the slot takes hex digits counted from the end.
    for (let k = 0, end = hex.length; end > 0; k++, end -= 2) {
      bytes[k] = Number.parseInt(hex.slice(Math.max(0, end - 2), end), 16);
    }
    this.mmio.writeBlock(offset, bytes);
    bytes.fill(0);
  }

  /** Read `words` little-endian words at `offset` as an integer. */
  read(offset: number, words: number): bigint {
    const length = words * 4;
    if (length > SLOT_BYTES) throw new DeviceError(`result of ${words} words exceeds an operand slot`);
    const bytes = this.#scratch.subarray(0, length);
    this.mmio.readBlock(offset, bytes);
    let hex = '';
    for (let k = length - 1; k >= 0; k--) {
      const b = bytes[k]!;
      hex += b < 16 ? `0${b.toString(16)}` : b.toString(16);
    }
    bytes.fill(0);
    return BigInt(`0x${hex}`);
  }

  /** Overwrite `words` words at `offset` with zeros (operands that held key material). */
  zero(offset: number, words: number): void {
    const bytes = this.#scratch.subarray(0, Math.min(words * 4, SLOT_BYTES));
    bytes.fill(0);
    this.mmio.writeBlock(offset, bytes);
  }
}
