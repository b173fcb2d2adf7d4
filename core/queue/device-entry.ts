/**
 * The queue's view of one device: its lanes, its capabilities indexed by
 * primitive (so a capability check looks only at the entries for the request's
 * op), whether it is in service, and its fault record.
 *
 * Faults: anything that says the device cannot be trusted right now is reported
 * with `reportFault` (the integrity gate does so for a result that fails its
 * check; the queue for device errors, nonsense or duplicate completions and
 * stalls). Faults within the queue's `faultWindowMs` are counted; at
 * `faultThreshold` the queue takes the device out of service, resets it, runs the
 * known-answer self-test (core/selftest) and returns it only if that passes
 * (see JobQueue, "recovery").
 */

import { type Capability, capabilityCovers } from '../driver/capabilities.js';
import type { Device } from '../driver/device.js';
import type { PrivateKeyMaterial } from '../driver/keys.js';
import type { PrimitiveOp, PrimitiveRequest } from '../driver/primitives.js';
import type { JobRecord } from './job.js';
import { Lane, type LaneOwner } from './lane.js';
import { LatencyModel } from './latency.js';
import { ServiceModel } from './service-time.js';

/** What kind of fault a device showed. */
export type DeviceFaultKind =
  /** A result failed the integrity gate (core/integrity). */
  | 'integrity'
  /** A job completed with a device error (engine error status, DMA fault, …). */
  | 'device-error'
  /** A completion with a tag that is not in flight (duplicate, stale or garbage). */
  | 'bad-completion'
  /** A queue pair stopped completing and was abandoned. */
  | 'stall';

/** Where a DeviceEntry reports its faults (the JobQueue). */
export interface FaultSink {
  deviceFault(entry: DeviceEntry, kind: DeviceFaultKind, reason: string): void;
}

/** Where a device is in the recovery cycle; `none` while in service (or never taken out by a fault). */
export type RecoveryState =
  | 'none'
  /** Being reset by the queue. */
  | 'resetting'
  /** Running the known-answer vectors. */
  | 'self-test'
  /** Waiting (exponential backoff) before the next attempt. */
  | 'backoff'
  /** Gone (surprise removal): waits for the device to report `ready` again. */
  | 'absent'
  /** Out of service for good: recovery attempts ran out, or the device was closed. */
  | 'given-up';

export class DeviceEntry {
  readonly device: Device;
  readonly id: string;
  /** A fallback device (the software provider): scheduled by its measured rate, loses ties (see Scheduler). */
  readonly fallback: boolean;
  readonly lanes: readonly Lane<DeviceEntry>[];
  /** Our view: the device is ready and we have not taken it out of service. */
  inService: boolean;
  /** Removed from the queue (removeDevice or close). */
  removed = false;
  unsubscribe: () => void = () => {};
  /** Service time and unloaded latency per operation class, learned for the scheduler (service-time.ts). */
  readonly service = new ServiceModel();
  /** Completion latency per operation class over all its queue pairs (each lane's model feeds it). */
  readonly latency = new LatencyModel(undefined, this.service);
  /** Set by `laneForNext`: in flight ÷ capacity over the open lanes. */
  load = 0;
  /**
   * Set by `laneForNext`: jobs holding a tag on the device (this tick's batch and in flight),
   * over all its lanes — the scheduler's jobs ahead, counted in the same pass over the lanes.
   */
  held = 0;
  /** Where the device is in recovery (see RecoveryState). */
  recovery: RecoveryState = 'none';
  /** Why the device is out of service, for errors and `devices`; '' while in service. */
  outReason = '';
  /** Recovery attempts since the device left service. */
  recoveryAttempts = 0;
  /** Faults reported over the device's life, by kind. */
  readonly faultCounts: Record<DeviceFaultKind, number> = {
    integrity: 0,
    'device-error': 0,
    'bad-completion': 0,
    stall: 0,
  };
  /** performance.now() of the faults counted towards the threshold (within the window). */
  readonly recentFaults: number[] = [];
  #byOp = new Map<PrimitiveOp, Capability[]>();
  readonly #faults: FaultSink;

  constructor(device: Device, fallback: boolean, owner: LaneOwner<DeviceEntry> & FaultSink) {
    this.device = device;
    this.id = device.info.id;
    this.fallback = fallback;
    this.#faults = owner;
    this.lanes = device.queuePairs.map((qp) => new Lane(qp, this, owner, this.latency));
    this.inService = device.state === 'ready';
    this.refreshCapabilities();
  }

  /**
   * Count a fault against the device (the integrity gate calls this for a result that
   * failed its check). At the queue's `faultThreshold` within `faultWindowMs` the device
   * leaves service for reset and self-test. The caller still decides what happens to
   * the job (retry elsewhere, or fail it).
   */
  reportFault(kind: DeviceFaultKind, reason: string): void {
    this.#faults.deviceFault(this, kind, reason);
  }

  /** Record a fault at `now`; returns how many fall within the last `windowMs`. */
  countFault(kind: DeviceFaultKind, now: number, windowMs: number): number {
    this.faultCounts[kind]++;
    const recent = this.recentFaults;
    recent.push(now);
    let drop = 0;
    while (drop < recent.length && recent[drop]! <= now - windowMs) drop++;
    if (drop > 0) recent.splice(0, drop);
    return recent.length;
  }

  get priority(): number {
    return this.device.info.priority;
  }

  /** Re-read the device's capability list (it may shrink at run time). */
  refreshCapabilities(): void {
    const byOp = new Map<PrimitiveOp, Capability[]>();
    for (const cap of this.device.capabilities) {
      const list = byOp.get(cap.op);
      if (list) list.push(cap);
      else byOp.set(cap.op, [cap]);
    }
    this.#byOp = byOp;
  }

  /** Whether the device's capabilities cover the request's parameters. */
  covers(request: PrimitiveRequest): boolean {
    const caps = this.#byOp.get(request.op);
    if (caps === undefined) return false;
    for (let i = 0; i < caps.length; i++) if (capabilityCovers(caps[i]!, request)) return true;
    return false;
  }

  /** The first alternative of the job this device can do (0 for a plain request it covers), or -1. */
  firstCovered(record: JobRecord): number {
    const alternatives = record.alternatives;
    if (alternatives === null) return this.covers(record.request) ? 0 : -1;
    for (let i = 0; i < alternatives.length; i++) if (this.covers(record.probeOf(i))) return i;
    return -1;
  }

  /** Whether the key is loaded in one of the device's key slots. */
  holds(key: PrivateKeyMaterial): boolean {
    const slots = this.device.keySlots;
    return slots?.holds(key) === true;
  }

  /**
   * The lane for the next job, or undefined when every lane is full; sets `load` and `held`.
   * A lane that already has jobs for this tick's doorbell is kept while it has room
   * (one doorbell per tick rather than one per queue pair: each costs a register
   * write and, later, an interrupt); otherwise the lane with the most room.
   */
  laneForNext(): Lane<DeviceEntry> | undefined {
    const lanes = this.lanes;
    let best: Lane<DeviceEntry> | undefined;
    let bestRoom = 0;
    let batching: Lane<DeviceEntry> | undefined;
    let occupied = 0;
    let held = 0;
    let capacity = 0;
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i]!;
      held += lane.occupied;
      if (!lane.open) continue;
      occupied += lane.occupied;
      capacity += lane.depth;
      const room = lane.room;
      if (room <= 0) continue;
      if (batching === undefined && lane.pending.length > 0) batching = lane;
      if (room > bestRoom) {
        bestRoom = room;
        best = lane;
      }
    }
    this.load = capacity === 0 ? 1 : occupied / capacity;
    this.held = held;
    return batching ?? best;
  }

  /** Whether any open lane has room. */
  hasRoom(): boolean {
    for (const lane of this.lanes) if (lane.room > 0) return true;
    return false;
  }
}
