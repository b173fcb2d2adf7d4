/** The events `accel.events$` emits about devices. */

import type { PrimitiveOp } from '../driver/primitives.js';

export type QueueEvent =
  | { readonly type: 'device-added'; readonly device: string; readonly fallback: boolean }
  /** Removed by the application, closed, or gone (surprise removal). */
  | { readonly type: 'device-removed'; readonly device: string; readonly reason: string }
  /** Taken out of service after an error; its jobs were re-routed. */
  | { readonly type: 'device-failed'; readonly device: string; readonly reason: string }
  /** The device, or one queue pair of it (`queuePair`), is being reset; its jobs were re-routed. */
  | {
      readonly type: 'device-reset';
      readonly device: string;
      readonly queuePair?: number;
      readonly reason: string;
    }
  /**
   * A device result failed the integrity gate (core/integrity): it was withheld, the job
   * retried, and the fault counted against the device.
   */
  | {
      readonly type: 'integrity-fault';
      readonly device: string;
      readonly operation: PrimitiveOp;
      readonly reason: string;
    }
  /**
   * Back in service after a reset; `selfTest` is how many known-answer cases it passed
   * first (present when the queue recovered the device after a failure, removal or faults).
   */
  | {
      readonly type: 'device-recovered';
      readonly device: string;
      readonly queuePair?: number;
      readonly selfTest?: number;
    };
