/** The offload job queue (core/queue): scheduling, batching, timeouts, retries, failover, stats. */
export { closeDevices, DEVICE_CLOSE_BOUND_MS, type DeviceCloseOutcome } from './close-devices.js';
export type { DeviceEntry, DeviceFaultKind, RecoveryState } from './device-entry.js';
export type { QueueEvent } from './events.js';
export type { Percentiles } from './histogram.js';
export {
  type AddDeviceOptions,
  type CloseOptions,
  JobQueue,
  type QueueDevice,
} from './job-queue.js';
export type {
  BacklogFullPolicy,
  QueueOptions,
  ResolvedQueueOptions,
  SelfTestRunner,
  SubmitOptions,
} from './options.js';
export type { ProcessOptions } from './process.js';
export type {
  Counters,
  DeviceStats,
  LatencyStats,
  QueuePairStats,
  QueueStats,
} from './stats.js';
