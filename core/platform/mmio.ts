/**
 * A register window: one BAR (or part of one) of a device. Implemented by
 * `native/` (pcie-mmio: UIO/VFIO/sysfs mappings) and by `simulator/` (a
 * SharedArrayBuffer BAR); a driver cannot tell which.
 *
 * All multi-byte accesses are little-endian, as PCI defines them. Offsets are in
 * bytes from the start of the window; an access must lie inside the window and be
 * naturally aligned, or it throws a RangeError (it never touches memory outside).
 *
 * @category Platform contracts
 */
export interface Mmio {
  /** Size of the window in bytes. */
  readonly size: number;
  /** An unsigned 8-bit value. */
  read8(offset: number): number;
  /** An unsigned 16-bit value. */
  read16(offset: number): number;
  /** An unsigned 32-bit value. */
  read32(offset: number): number;
  /** An unsigned 64-bit value. */
  read64(offset: number): bigint;
  /** `value` is taken modulo 2^8. */
  write8(offset: number, value: number): void;
  /** `value` is taken modulo 2^16. */
  write16(offset: number, value: number): void;
  /** `value` is taken modulo 2^32 (negative numbers are their two's complement). */
  write32(offset: number, value: number): void;
  /** `value` is taken modulo 2^64. */
  write64(offset: number, value: bigint): void;
  /** Copy `target.length` bytes from the window at `offset` into `target`. */
  readBlock(offset: number, target: Uint8Array): void;
  /** Copy `source` into the window at `offset`. */
  writeBlock(offset: number, source: Uint8Array): void;
  /**
   * Order every earlier write (to this window and to DMA memory) before every later
   * one, as a device sees them: call it between filling descriptors and ringing a
   * doorbell.
   */
  barrier(): void;
}
