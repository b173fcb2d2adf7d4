/** The events `accel.events$` emits about devices. */

import type { PrimitiveOp } from '../driver/primitives.js';

/**
 * An event of `accel.events$` about a device: added, removed, failed, being
 * reset, recovered, or caught by the integrity gate. `device` is always the
 * device's id (`DeviceInfo.id`); `reason` is a human-readable sentence for logs.
 *
 * @example
 * ```ts
 * accel.events$.subscribe((event) => {
 *   if (event.type === 'device-failed') console.warn(`${event.device} out of service: ${event.reason}`);
 * });
 * ```
 *
 * @category Queue and stats
 */
export type QueueEvent =
  /** A device joined the queue (at open, or added later). */
  | {
      /** Discriminant. */
      readonly type: 'device-added';
      /** The device's id. */
      readonly device: string;
      /** Whether it is the fallback provider: scheduled by its measured rate, loses ties, takes failed devices' jobs. */
      readonly fallback: boolean;
    }
  /** Removed by the application, closed, or gone (surprise removal). */
  | {
      /** Discriminant. */
      readonly type: 'device-removed';
      /** The device's id. */
      readonly device: string;
      /** Why it left (removed, closed, gone). */
      readonly reason: string;
    }
  /** Taken out of service after an error; its jobs were re-routed. */
  | {
      /** Discriminant. */
      readonly type: 'device-failed';
      /** The device's id. */
      readonly device: string;
      /** The error or fault count that took it out of service. */
      readonly reason: string;
    }
  /** The device, or one queue pair of it (`queuePair`), is being reset; its jobs were re-routed. */
  | {
      /** Discriminant. */
      readonly type: 'device-reset';
      /** The device's id. */
      readonly device: string;
      /** The queue pair being reset; absent when the whole device is. */
      readonly queuePair?: number;
      /** What triggered the reset (a timeout, a stall, a device error). */
      readonly reason: string;
    }
  /**
   * A device result failed the integrity gate (core/integrity): it was withheld, the job
   * retried, and the fault counted against the device.
   */
  | {
      /** Discriminant. */
      readonly type: 'integrity-fault';
      /** The device's id. */
      readonly device: string;
      /** The primitive whose result was withheld. */
      readonly operation: PrimitiveOp;
      /** Which check failed (the witness or the re-verification). */
      readonly reason: string;
    }
  /**
   * Back in service after a reset; `selfTest` is how many known-answer cases it passed
   * first (present when the queue recovered the device after a failure, removal or faults).
   */
  | {
      /** Discriminant. */
      readonly type: 'device-recovered';
      /** The device's id. */
      readonly device: string;
      /** The queue pair back in service; absent when the whole device is. */
      readonly queuePair?: number;
      /** Known-answer cases passed before it took jobs again; absent when no self-test ran. */
      readonly selfTest?: number;
    };
