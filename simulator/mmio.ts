/**
 * The host's view of a simulated BAR: reads come from BAR memory after earlier
 * posted writes are applied; writes to register ranges are posted to the model
 * (through the FIFO, or straight into the model in inline mode); writes to the
 * model's plain ranges land in BAR memory. A removed card reads all-ones.
 */

import type { Mmio } from '../core/platform/mmio.js';

/** How register writes reach the model. */
export interface WritePort {
  post(bar: number, offset: number, width: 1 | 2 | 4 | 8, value: bigint): void;
  /** The same for a 32-bit write given as a number (doorbells, CQ heads: no bigint per write). */
  post32(bar: number, offset: number, value: number): void;
  /** Return once every write posted so far has been applied. */
  flush(): void;
  readonly removed: boolean;
  /** An acquire/release point: order the host's memory accesses against the model's. */
  fence(): void;
}

export class SimMmio implements Mmio {
  readonly size: number;
  readonly #index: number;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #plain: readonly { readonly offset: number; readonly size: number }[];
  readonly #port: WritePort;

  constructor(
    index: number,
    memory: SharedArrayBuffer,
    plainRanges: readonly { readonly offset: number; readonly size: number }[],
    port: WritePort,
  ) {
    this.#index = index;
    this.size = memory.byteLength;
    this.#view = new DataView(memory);
    this.#bytes = new Uint8Array(memory);
    this.#plain = plainRanges;
    this.#port = port;
  }

  #check(offset: number, width: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + width > this.size) {
      throw new RangeError(
        `BAR${this.#index} access of ${width} bytes at 0x${offset.toString(16)} is outside the ${this.size}-byte window`,
      );
    }
    if (offset % width !== 0) {
      throw new RangeError(
        `BAR${this.#index} access of ${width} bytes at 0x${offset.toString(16)} is not naturally aligned`,
      );
    }
  }

  #isPlain(offset: number, length: number): boolean {
    return this.#plain.some((r) => offset >= r.offset && offset + length <= r.offset + r.size);
  }

  #beforeRead(offset: number, width: number): boolean {
    this.#check(offset, width);
    this.#port.flush();
    return !this.#port.removed;
  }

  read8(offset: number): number {
    return this.#beforeRead(offset, 1) ? this.#view.getUint8(offset) : 0xff;
  }
  read16(offset: number): number {
    return this.#beforeRead(offset, 2) ? this.#view.getUint16(offset, true) : 0xffff;
  }
  read32(offset: number): number {
    return this.#beforeRead(offset, 4) ? this.#view.getUint32(offset, true) : 0xffffffff;
  }
  read64(offset: number): bigint {
    return this.#beforeRead(offset, 8) ? this.#view.getBigUint64(offset, true) : 0xffffffffffffffffn;
  }

  #write(offset: number, width: 1 | 2 | 4 | 8, value: bigint): void {
    this.#check(offset, width);
    if (this.#port.removed) return;
    if (this.#isPlain(offset, width)) {
      const masked = BigInt.asUintN(width * 8, value);
      if (width === 8) this.#view.setBigUint64(offset, masked, true);
      else if (width === 4) this.#view.setUint32(offset, Number(masked), true);
      else if (width === 2) this.#view.setUint16(offset, Number(masked), true);
      else this.#view.setUint8(offset, Number(masked));
      return;
    }
    this.#port.post(this.#index, offset, width, BigInt.asUintN(width * 8, value));
  }

  write8(offset: number, value: number): void {
    this.#write(offset, 1, BigInt(value & 0xff));
  }
  write16(offset: number, value: number): void {
    this.#write(offset, 2, BigInt(value & 0xffff));
  }
  write32(offset: number, value: number): void {
    // The hot path (doorbells, CQ heads): straight to the port as a number when it is a register.
    if (this.#plain.length === 0 && (offset & 3) === 0 && offset >= 0 && offset + 4 <= this.size) {
      if (!this.#port.removed) this.#port.post32(this.#index, offset, value >>> 0);
      return;
    }
    this.#write(offset, 4, BigInt(value >>> 0));
  }
  write64(offset: number, value: bigint): void {
    this.#write(offset, 8, value);
  }

  readBlock(offset: number, target: Uint8Array): void {
    if (target.length === 0) return;
    if (!Number.isInteger(offset) || offset < 0 || offset + target.length > this.size) {
      throw new RangeError(
        `BAR${this.#index} block read of ${target.length} bytes at 0x${offset.toString(16)} is outside the window`,
      );
    }
    this.#port.flush();
    if (this.#port.removed) target.fill(0xff);
    else target.set(this.#bytes.subarray(offset, offset + target.length));
  }

  writeBlock(offset: number, source: Uint8Array): void {
    if (source.length === 0) return;
    if (!Number.isInteger(offset) || offset < 0 || offset + source.length > this.size) {
      throw new RangeError(
        `BAR${this.#index} block write of ${source.length} bytes at 0x${offset.toString(16)} is outside the window`,
      );
    }
    if (this.#port.removed) return;
    if (this.#isPlain(offset, source.length)) {
      this.#bytes.set(source, offset);
      return;
    }
    // A block into register space is a sequence of posted writes, 32 bits where aligned.
    const wide = offset % 4 === 0 && source.length % 4 === 0;
    const step = wide ? 4 : 1;
    const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
    for (let i = 0; i < source.length; i += step) {
      const value = wide ? view.getUint32(i, true) : view.getUint8(i);
      this.#port.post(this.#index, offset + i, step, BigInt(value));
    }
  }

  barrier(): void {
    this.#port.fence();
  }
}
