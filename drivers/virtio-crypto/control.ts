/**
 * The control queue: one request at a time (session create and destroy are
 * rare and the device answers them at once), each a two-descriptor chain in one
 * DMA buffer. The buffer is zeroed after every request, since a create carries
 * the private key.
 */

import { type SharedIrq, waitForCompletion } from '../../core/driver/completion-wait.js';
import { DeviceError, throwIfAborted } from '../../core/driver/index.js';
import type { DmaBuffer } from '../../core/platform/index.js';
import { CREATE_SESSION_INPUT_SIZE, Desc, REQUEST_HEADER_SIZE } from './registers.js';
import type { ModernTransport } from './transport.js';
import type { SplitVirtqueue } from './virtqueue.js';
import { UsedRingViolation } from './virtqueue.js';

/** Out part: header plus the largest key (an RSA-4096 private key is about 2.4 KiB of DER). */
export const CONTROL_OUT_BYTES = 4096;
export const CONTROL_BUFFER_BYTES = CONTROL_OUT_BYTES + 64;
const CONTROL_TIMEOUT_MS = 5000;

export interface ControlAnswer {
  /** The device-writable bytes, copied out. */
  readonly input: Uint8Array;
  readonly usedLength: number;
}

export class ControlChannel {
  #tail: Promise<unknown> = Promise.resolve();
  /** Bumped by a device reset: a request of an older epoch is dead. */
  #epoch = 0;

  constructor(
    private readonly transport: ModernTransport,
    private readonly queue: SplitVirtqueue,
    private readonly buffer: DmaBuffer,
    private readonly onViolation: (error: Error) => void,
    /** The device's interrupt, when it has one (wakes the wait for an answer early). */
    private readonly irq: () => SharedIrq | undefined = () => undefined,
  ) {}

  invalidate(): void {
    this.#epoch++;
  }

  /** Queue one request behind the others. `fill` writes the out part and returns its length. */
  request(
    fill: (out: Uint8Array) => number,
    inputLength: number,
    signal?: AbortSignal,
  ): Promise<ControlAnswer> {
    const run = this.#tail.then(() => this.#run(fill, inputLength, signal));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #run(
    fill: (out: Uint8Array) => number,
    inputLength: number,
    signal?: AbortSignal,
  ): Promise<ControlAnswer> {
    throwIfAborted(signal);
    const epoch = this.#epoch;
    const bytes = this.buffer.bytes;
    const inputAt = CONTROL_OUT_BYTES;
    try {
      const outLength = fill(bytes.subarray(0, CONTROL_OUT_BYTES));
      if (outLength < REQUEST_HEADER_SIZE || inputLength > CREATE_SESSION_INPUT_SIZE)
        throw new RangeError('bad control request');
      bytes.fill(0, inputAt, inputAt + inputLength);
      this.queue.setDescriptor(0, this.buffer.busAddress, outLength, Desc.next, 1);
      this.queue.setDescriptor(1, this.buffer.busAddress + BigInt(inputAt), inputLength, Desc.write);
      this.queue.publish([0]);
      this.transport.notify(this.queue.index);
      const deadline = performance.now() + CONTROL_TIMEOUT_MS;
      let used: ReturnType<SplitVirtqueue['takeUsed']>;
      let spin = 0;
      await waitForCompletion(
        {
          check: () => {
            if (epoch !== this.#epoch)
              throw new DeviceError('virtio-crypto: control request lost in a device reset');
            try {
              used = this.queue.takeUsed();
            } catch (error) {
              if (error instanceof UsedRingViolation) this.onViolation(error);
              throw new DeviceError(`virtio-crypto: ${(error as Error).message}`);
            }
            if (used !== undefined) return true;
            if (performance.now() > deadline)
              throw new DeviceError('virtio-crypto: the control queue did not answer');
            return false;
          },
          irq: this.irq(),
          // The device answers at once: look again on the next turns of the event loop, then every ms.
          pollMs: () => (spin++ < 16 ? 0 : 1),
        },
        signal,
      );
      const answer = used!;
      if (answer.id !== 0 || answer.length > inputLength) {
        const violation = new UsedRingViolation(
          `control queue returned chain ${answer.id} with ${answer.length} bytes (expected chain 0, at most ${inputLength})`,
        );
        this.onViolation(violation);
        throw new DeviceError(`virtio-crypto: ${violation.message}`);
      }
      return { input: bytes.slice(inputAt, inputAt + inputLength), usedLength: answer.length };
    } finally {
      bytes.fill(0, 0, CONTROL_BUFFER_BYTES);
    }
  }
}
