/**
 * Memory a device reads and writes by DMA. A buffer has a bus address (what the
 * device is told) and a zero-copy byte view (what the host reads and writes).
 * Drivers allocate their rings and operand buffers once, at probe time, and reuse
 * them: nothing on a hot path allocates DMA memory.
 *
 * @category Platform contracts
 */
export interface DmaBuffer {
  /** The address the device uses for byte 0 of the buffer (an IOVA under an IOMMU). */
  readonly busAddress: bigint;
  /** Length in bytes. */
  readonly size: number;
  /** The host's view of the same bytes; invalid (throws or is detached) after `free()`. */
  readonly bytes: Uint8Array;
  /** Overwrite the whole buffer with zeros: required after it held private key material. */
  zero(): void;
  /** Return the buffer to its allocator. Freeing twice throws an Error. */
  free(): void;
}

/**
 * How a DMA buffer is allocated.
 *
 * @category Platform contracts
 */
export interface DmaAllocateOptions {
  /** Alignment of the bus address in bytes (a power of two; default 64). */
  readonly align?: number;
}

/**
 * Hands out DMA buffers for one device.
 *
 * @category Platform contracts
 */
export interface DmaAllocator {
  /** A buffer of at least `size` bytes, zero-filled. Throws a RangeError if it cannot. */
  allocate(size: number, options?: DmaAllocateOptions): DmaBuffer;
  /** Free every buffer still allocated; the allocator is unusable afterwards. */
  close(): void;
}
