/**
 * Choosing a queue pair for a job. Among the devices in service whose
 * capabilities cover the job (any of its alternatives, for runFirst), and that
 * have room, the best is, in order of importance:
 *  1. not the device that last failed this job (retries go elsewhere first);
 *  2. not a fallback device (software runs only what the cards have no room for);
 *  3. of higher priority (the driver's);
 *  4. holding the job's private key in a key slot (affinity);
 *  5. least loaded (in flight ÷ capacity).
 * Within the device, see DeviceEntry.laneForNext.
 */

import { privateKeyOf } from '../driver/primitives.js';
import type { DeviceEntry } from './device-entry.js';
import type { JobRecord } from './job.js';
import type { Lane } from './lane.js';

/** Why `pick` found no lane. */
export type NoLane =
  /** A capable device exists but is full or resetting: keep the job in the backlog. */
  | 'wait'
  /** No device in service (or coming back) can do the job. */
  | 'none';

export class Scheduler {
  readonly #devices: readonly DeviceEntry[];
  /** Set when `pick` returns null. */
  reason: NoLane = 'none';

  constructor(devices: readonly DeviceEntry[]) {
    this.#devices = devices;
  }

  /** The lane for the job, with `record.altIndex` set to the alternative it will run; or null and `reason`. */
  pick(record: JobRecord): Lane<DeviceEntry> | null {
    const devices = this.#devices;
    let best: Lane<DeviceEntry> | null = null;
    let bestEntry: DeviceEntry | null = null;
    let bestAlt = 0;
    let bestAffinity = false;
    let capable = false;
    let key: ReturnType<typeof privateKeyOf> | null = null;
    for (let i = 0; i < devices.length; i++) {
      const entry = devices[i]!;
      if (record.pinned !== null && entry.id !== record.pinned) continue;
      if (record.excluded?.includes(entry.id)) continue;
      // The device's own state is read too: its state event reaches the queue a microtask later.
      const state = entry.device.state;
      if (!entry.inService || state !== 'ready') {
        // A device resetting by itself comes back soon: wait for it. One the queue is recovering
        // (reset, self-test, backoff) may stay out long: the job fails with DeviceGoneError instead.
        if (
          !entry.removed &&
          state === 'resetting' &&
          entry.recovery === 'none' &&
          entry.firstCovered(record) >= 0
        )
          capable = true;
        continue;
      }
      const alt = entry.firstCovered(record);
      if (alt < 0) continue;
      capable = true;
      const lane = entry.laneForNext();
      if (lane === undefined) continue;
      let affinity = false;
      if (entry.device.keySlots !== undefined) {
        if (key === null) key = privateKeyOf(record.probeOf(alt));
        affinity = key !== undefined && entry.holds(key);
      }
      if (bestEntry === null || better(entry, affinity, bestEntry, bestAffinity, record.avoid)) {
        best = lane;
        bestEntry = entry;
        bestAlt = alt;
        bestAffinity = affinity;
      }
    }
    if (best !== null) {
      record.altIndex = bestAlt;
      return best;
    }
    this.reason = capable ? 'wait' : 'none';
    return null;
  }
}

function better(
  a: DeviceEntry,
  aAffinity: boolean,
  b: DeviceEntry,
  bAffinity: boolean,
  avoid: string | null,
): boolean {
  if (avoid !== null) {
    const aAvoided = a.id === avoid;
    if (aAvoided !== (b.id === avoid)) return !aAvoided;
  }
  if (a.fallback !== b.fallback) return !a.fallback;
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (aAffinity !== bAffinity) return aAffinity;
  return a.load < b.load;
}
