/**
 * Job-queue fixtures for the queue tests over the fake devices of ./fake-device.ts
 * (a test-only module: it asserts with vitest, which the benches importing
 * fake-device.ts must not load).
 */

import { expect } from 'vitest';
import type { Device, PrimitiveRequest } from '../../core/driver/index.js';
import { JobQueue, type QueueOptions } from '../../core/queue/index.js';
import { expectedValue } from './fake-device.js';

/** A job queue with `device` added. */
export function queueOver(device: Device, options?: QueueOptions): JobQueue {
  const q = new JobQueue(options);
  q.addDevice(device);
  return q;
}

/** Each result is the fake devices' correct answer to the request at its index. */
export function expectAnswers(results: readonly unknown[], requests: readonly PrimitiveRequest[]): void {
  expect(results).toHaveLength(requests.length);
  results.forEach((value, i) => {
    expect(value).toEqual(expectedValue(requests[i]!));
  });
}
