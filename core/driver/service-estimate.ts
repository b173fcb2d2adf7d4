/**
 * Drivers' starting estimates for the job queue's scheduler (Device.serviceEstimate):
 * what a card is declared to do before anything was measured on it. The scheduler
 * replaces them with measured figures as completions come in; an estimate only
 * keeps the first jobs from being placed blind.
 */

import type { ServiceEstimate } from './device.js';

/**
 * The `rate` probe option of a card driver: the card's throughput as its datasheet or
 * the user declares it. A simulated card with timed engines (or real ones on a schedule)
 * runs at the same option's rate (docs/hardware/simulator.md), so one spec describes the
 * card to both.
 */
export const RATE_OPTION = {
  kind: 'int',
  min: 1,
  max: 1_000_000_000,
  doc: "the card's throughput in ops/s as declared (datasheet; a simulated timed card, or a real one on a schedule, runs at it): the scheduler's estimate until it has measured the card",
} as const;

/** What a job costs beyond its engine time (doorbell, transfer, interrupt, harvest), ms: a starting figure. */
export const HOST_ROUND_TRIP_MS = 0.2;

/**
 * The estimate of a card declared to run `rate` jobs per second on `engines` engines working
 * in parallel (each job takes engines / rate seconds on its engine); undefined without a rate.
 */
export function cardRateEstimate(rate: number | undefined, engines: number): ServiceEstimate | undefined {
  if (rate === undefined || !(rate > 0)) return undefined;
  return { opsPerSecond: rate, latencyMs: (Math.max(1, engines) / rate) * 1000 + HOST_ROUND_TRIP_MS };
}
