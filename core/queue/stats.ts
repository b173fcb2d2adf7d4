/**
 * Stats snapshots. The hot path only bumps counters (and, while someone
 * observes `stats$`, records latencies into histograms); a snapshot reads them
 * and closes the sampling window: rates and percentiles cover the time since
 * the previous snapshot, counts are totals since the queue opened.
 */

import type { DeviceState } from '../driver/device.js';
import type { DeviceEntry } from './device-entry.js';
import { LatencyHistogram, type Percentiles } from './histogram.js';
import type { Lane, LaneMode } from './lane.js';

/**
 * Latency percentiles of the jobs completed in the sampling window, split at the
 * doorbell: time waiting in the backlog, time on the device, and the sum.
 * Each is in milliseconds; see {@link Percentiles}.
 *
 * @category Queue and stats
 */
export interface LatencyStats {
  /** Submission to doorbell (time in the backlog). */
  readonly queueWait: Percentiles;
  /** Doorbell to harvest (time on the device). */
  readonly service: Percentiles;
  /** Submission to harvest. */
  readonly endToEnd: Percentiles;
}

/**
 * Job counts shared by every level of a stats snapshot (queue, device, queue pair).
 * All but `inFlight` are totals since the queue opened, never reset by a snapshot;
 * `inFlight` is the count at the snapshot.
 *
 * @category Queue and stats
 */
export interface Counters {
  /** Jobs handed to a queue pair (per device/queue pair), or accepted by submit (queue total). */
  readonly submitted: number;
  /** Jobs that finished with a result (a value or a verdict, including `false` verdicts). */
  readonly completed: number;
  /** Failed with a device's error after retries ran out. */
  readonly failed: number;
  /** Re-run elsewhere after a device failed them. */
  readonly retried: number;
  /** Jobs rejected with a TimeoutError because they did not complete before their deadline. */
  readonly timedOut: number;
  /** Jobs ended by their caller's AbortSignal (or by closing without drain) before they completed. */
  readonly aborted: number;
  /** Tags out on the device now (including results that will be discarded). */
  readonly inFlight: number;
}

/**
 * One queue pair of a device in a stats snapshot: its counters, how it is being
 * harvested, and its rate and latencies over the sampling window.
 *
 * @category Queue and stats
 */
export interface QueuePairStats extends Counters {
  /** The queue pair's index on its device (`QueuePair.index`). */
  readonly index: number;
  /** The most jobs it can hold in flight at once. */
  readonly depth: number;
  /** How completions are collected now: waiting for the interrupt, or busy polling under load. */
  readonly mode: LaneMode;
  /** Whether it takes new jobs (false while being reset, out of service, or closed). */
  readonly open: boolean;
  /** submit calls (one per tick with work). */
  readonly doorbells: number;
  /** Times the interrupt was armed and waited for (total since open). */
  readonly waits: number;
  /** Busy-poll rounds run in poll mode (total since open). */
  readonly polls: number;
  /** Completions with a tag we did not have out (dropped). */
  readonly spurious: number;
  /** Jobs completed per second over the sampling window. */
  readonly opsPerSecond: number;
  /** Latencies of the jobs completed on this queue pair in the sampling window. */
  readonly latency: LatencyStats;
}

/**
 * One device in a stats snapshot: the sums over its queue pairs, its state, and each queue pair.
 *
 * @category Queue and stats
 */
export interface DeviceStats extends Counters {
  /** The device's id (`DeviceInfo.id`: the spec or PCI address it was opened from). */
  readonly id: string;
  /** The name of the driver that runs it. */
  readonly driver: string;
  /** The device's own state at the snapshot. */
  readonly state: DeviceState;
  /** Whether the queue gives it jobs: ready, and not taken out of service after faults or a stall. */
  readonly inService: boolean;
  /** Whether it is the fallback provider (the software device): scheduled by its measured rate, loses ties, takes failed devices' jobs. */
  readonly fallback: boolean;
  /** Jobs completed per second over the sampling window (the sum of its queue pairs). */
  readonly opsPerSecond: number;
  /** Latencies of the jobs it completed in the sampling window. */
  readonly latency: LatencyStats;
  /** Per queue pair figures, by index. */
  readonly queuePairs: readonly QueuePairStats[];
}

/**
 * A snapshot of the whole queue, as `accel.stats$` emits and `accel.queue.snapshot()`
 * returns it: totals since the queue opened, rates and percentiles since the
 * previous snapshot, and the same per device.
 *
 * @example
 * ```ts
 * const s = accel.queue.snapshot();
 * console.log(`${s.opsPerSecond.toFixed(0)} ops/s, p99 ${s.latency.endToEnd.p99} ms, backlog ${s.backlog}`);
 * for (const d of s.devices) console.log(d.id, d.state, d.completed);
 * ```
 *
 * @category Queue and stats
 */
export interface QueueStats extends Counters {
  /** performance.now() of the snapshot. */
  readonly time: number;
  /** The sampling window the rates and percentiles cover, in ms. */
  readonly windowMs: number;
  /** Jobs waiting for a queue pair. */
  readonly backlog: number;
  /** Of those, jobs beyond the backlog bound (policy `wait`). */
  readonly waiting: number;
  /** Submissions refused because the backlog was full (policy `reject`). */
  readonly rejected: number;
  /** Jobs completed per second over the sampling window, all devices together. */
  readonly opsPerSecond: number;
  /** Latencies of every job completed in the sampling window. */
  readonly latency: LatencyStats;
  /** One entry per device in the queue (including ones out of service), in the order they were added. */
  readonly devices: readonly DeviceStats[];
}

/** Queue-wide counters kept by the queue itself. */
export interface QueueTotals {
  submitted: number;
  completed: number;
  failed: number;
  retried: number;
  timedOut: number;
  aborted: number;
  rejected: number;
}

interface LatencyAccumulator {
  readonly queueWait: LatencyHistogram;
  readonly service: LatencyHistogram;
  readonly endToEnd: LatencyHistogram;
}

function accumulator(): LatencyAccumulator {
  return {
    queueWait: new LatencyHistogram(),
    service: new LatencyHistogram(),
    endToEnd: new LatencyHistogram(),
  };
}

function latencyOf(acc: LatencyAccumulator): LatencyStats {
  return {
    queueWait: acc.queueWait.percentiles(),
    service: acc.service.percentiles(),
    endToEnd: acc.endToEnd.percentiles(),
  };
}

function laneStats(lane: Lane<DeviceEntry>, index: number, seconds: number): QueuePairStats {
  const windowCompleted = lane.completed - lane.windowCompleted;
  lane.windowCompleted = lane.completed;
  const stats: QueuePairStats = {
    index,
    depth: lane.depth,
    mode: lane.mode,
    open: lane.open,
    submitted: lane.submitted,
    completed: lane.completed,
    failed: lane.failed,
    retried: lane.retried,
    timedOut: lane.timedOut,
    aborted: lane.aborted,
    inFlight: lane.occupied,
    doorbells: lane.doorbells,
    waits: lane.waits,
    polls: lane.polls,
    spurious: lane.spurious,
    opsPerSecond: seconds > 0 ? windowCompleted / seconds : 0,
    latency: latencyOf(lane),
  };
  return stats;
}

/** Build a snapshot and start a new window (histograms reset). */
export function snapshotStats(
  devices: readonly DeviceEntry[],
  totals: QueueTotals,
  backlog: number,
  maxBacklog: number,
  inFlight: number,
  windowStart: number,
  now: number,
): QueueStats {
  const seconds = (now - windowStart) / 1000;
  const all = accumulator();
  let windowCompleted = 0;
  const deviceStats: DeviceStats[] = [];
  for (const entry of devices) {
    const acc = accumulator();
    const queuePairs: QueuePairStats[] = [];
    let submitted = 0;
    let completed = 0;
    let failed = 0;
    let retried = 0;
    let timedOut = 0;
    let aborted = 0;
    let occupied = 0;
    let ops = 0;
    entry.lanes.forEach((lane, index) => {
      const s = laneStats(lane, index, seconds);
      queuePairs.push(s);
      submitted += s.submitted;
      completed += s.completed;
      failed += s.failed;
      retried += s.retried;
      timedOut += s.timedOut;
      aborted += s.aborted;
      occupied += s.inFlight;
      ops += s.opsPerSecond;
      acc.queueWait.add(lane.queueWait);
      acc.service.add(lane.service);
      acc.endToEnd.add(lane.endToEnd);
      lane.queueWait.reset();
      lane.service.reset();
      lane.endToEnd.reset();
    });
    windowCompleted += ops * seconds;
    all.queueWait.add(acc.queueWait);
    all.service.add(acc.service);
    all.endToEnd.add(acc.endToEnd);
    deviceStats.push({
      id: entry.id,
      driver: entry.device.info.driver,
      state: entry.device.state,
      inService: entry.inService,
      fallback: entry.fallback,
      submitted,
      completed,
      failed,
      retried,
      timedOut,
      aborted,
      inFlight: occupied,
      opsPerSecond: ops,
      latency: latencyOf(acc),
      queuePairs,
    });
  }
  return {
    time: now,
    windowMs: now - windowStart,
    submitted: totals.submitted,
    completed: totals.completed,
    failed: totals.failed,
    retried: totals.retried,
    timedOut: totals.timedOut,
    aborted: totals.aborted,
    rejected: totals.rejected,
    inFlight,
    backlog,
    waiting: Math.max(0, backlog - maxBacklog),
    opsPerSecond: seconds > 0 ? windowCompleted / seconds : 0,
    latency: latencyOf(all),
    devices: deviceStats,
  };
}
