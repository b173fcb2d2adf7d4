/**
 * One interrupt source of a device (an MSI-X vector, MSI, or the INTx line),
 * delivered on the event loop (native: uv_poll on an eventfd or a uio fd;
 * simulator: Atomics.waitAsync).
 *
 * @category Platform contracts
 */
export interface Irq {
  /** Which vector of the device this is (0 for INTx). */
  readonly vector: number;
  /**
   * Resolves when the interrupt has fired at least once since the last `wait()`
   * resolved (fired events are counted, not lost, while nobody waits), with the
   * number of events. Rejects with an AbortedError when the signal aborts, and
   * with a DeviceGoneError when the interrupt is closed while waiting.
   * At most one wait may be pending at a time.
   */
  wait(signal?: AbortSignal): Promise<number>;
  /** Let the interrupt fire (the default after opening). */
  enable(): void;
  /** Stop the interrupt from firing; pending events stay counted. */
  disable(): void;
  /**
   * Re-arm a level-triggered interrupt after it was serviced (INTx through UIO or
   * VFIO needs this; a no-op where the platform re-arms by itself).
   */
  unmask(): void;
  /** Release the interrupt; a pending wait rejects. Closing twice is a no-op. */
  close(): void;
}
