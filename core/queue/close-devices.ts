/**
 * Closing the devices under an accelerator, bounded: a device whose close does
 * not settle within DEVICE_CLOSE_BOUND_MS (a hung card, a worker that does not
 * answer) is left behind rather than holding `accel.close()` forever. Its close
 * keeps running; nothing of this waits for it, and the timer that bounds it is
 * unref'd, so it keeps no process alive either.
 */

import type { Device } from '../driver/device.js';

/** The longest `accel.close()` waits for any one device's close, in ms (they close in parallel). */
export const DEVICE_CLOSE_BOUND_MS = 2_000;

/** What happened to each device's close. */
export interface DeviceCloseOutcome {
  readonly device: string;
  readonly outcome: 'closed' | 'failed' | 'timed-out';
}

/** Close every device in parallel; settles within `boundMs` (plus a tick) whatever the devices do. */
export async function closeDevices(
  devices: readonly Device[],
  boundMs = DEVICE_CLOSE_BOUND_MS,
): Promise<DeviceCloseOutcome[]> {
  return Promise.all(
    devices.map(async (device): Promise<DeviceCloseOutcome> => {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'timed-out'>((resolve) => {
        timer = setTimeout(() => resolve('timed-out'), boundMs);
        timer.unref();
      });
      let closing: Promise<'closed' | 'failed'>;
      try {
        closing = device.close().then(
          () => 'closed' as const,
          () => 'failed' as const,
        );
      } catch {
        closing = Promise.resolve('failed' as const);
      }
      const outcome = await Promise.race([closing, bound]);
      clearTimeout(timer);
      return { device: device.info.id, outcome };
    }),
  );
}
