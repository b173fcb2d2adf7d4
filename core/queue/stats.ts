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

export interface LatencyStats {
  /** Submission to doorbell (time in the backlog). */
  readonly queueWait: Percentiles;
  /** Doorbell to harvest (time on the device). */
  readonly service: Percentiles;
  /** Submission to harvest. */
  readonly endToEnd: Percentiles;
}

export interface Counters {
  /** Jobs handed to a queue pair (per device/queue pair), or accepted by submit (queue total). */
  readonly submitted: number;
  readonly completed: number;
  /** Failed with a device's error after retries ran out. */
  readonly failed: number;
  /** Re-run elsewhere after a device failed them. */
  readonly retried: number;
  readonly timedOut: number;
  readonly aborted: number;
  /** Tags out on the device now (including results that will be discarded). */
  readonly inFlight: number;
}

export interface QueuePairStats extends Counters {
  readonly index: number;
  readonly depth: number;
  readonly mode: LaneMode;
  readonly open: boolean;
  /** submit calls (one per tick with work). */
  readonly doorbells: number;
  readonly waits: number;
  readonly polls: number;
  /** Completions with a tag we did not have out (dropped). */
  readonly spurious: number;
  readonly opsPerSecond: number;
  readonly latency: LatencyStats;
}

export interface DeviceStats extends Counters {
  readonly id: string;
  readonly driver: string;
  readonly state: DeviceState;
  readonly inService: boolean;
  readonly fallback: boolean;
  readonly opsPerSecond: number;
  readonly latency: LatencyStats;
  readonly queuePairs: readonly QueuePairStats[];
}

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
  readonly opsPerSecond: number;
  readonly latency: LatencyStats;
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
