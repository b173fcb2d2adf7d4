/**
 * Interrupt moderation (core/queue/lane.ts's header): a lane over a queue pair that can moderate
 * waits on a coalesced interrupt while the card is the bound — the lane full after every refill
 * — instead of polling once per event-loop turn, and writes count 1 back when the load drops.
 * The card here is a fake with a fixed rate (jobs per millisecond on a 1 ms clock), its
 * interrupt fired after `count` completions or `us` µs after the first, as the ring card's
 * IRQ_CTRL does (docs/hardware/ring-card.md §8).
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { Completion, Job, QueuePair } from '../../core/driver/index.js';
import type { JobQueue, QueueOptions } from '../../core/queue/index.js';
import { expectedValue, FakeDevice, request } from '../support/fake-device.js';
import { queueOver } from '../support/fake-queue.js';

/** A card doing `perMs` jobs a millisecond, first come first served, with a moderated interrupt. */
class RateCard implements QueuePair {
  readonly index: number;
  readonly depth: number;
  readonly #perMs: number;
  readonly #queued: Job[] = [];
  readonly #done: Completion[] = [];
  readonly #waiters: (() => void)[] = [];
  readonly #clock: ReturnType<typeof setInterval>;
  #count = 1;
  #us = 0;
  #unsignalled = 0;
  #firstAt = 0;
  /** Every `moderate` call, in order. */
  readonly moderations: { count: number; us: number }[] = [];
  /** waitForCompletions calls while moderated / with one interrupt per completion. */
  moderatedWaits = 0;
  plainWaits = 0;

  constructor(index: number, depth: number, perMs: number) {
    this.index = index;
    this.depth = depth;
    this.#perMs = perMs;
    this.#clock = setInterval(() => this.#tick(), 1);
  }

  get inFlight(): number {
    return this.#queued.length + this.#done.length;
  }

  submit(jobs: readonly Job[]): number {
    const taken = Math.min(jobs.length, this.depth - this.inFlight);
    for (let i = 0; i < taken; i++) this.#queued.push(jobs[i]!);
    return taken;
  }

  harvest(sink: (completion: Completion) => void, max = Number.POSITIVE_INFINITY): number {
    const taken = this.#done.splice(0, Math.min(max, this.#done.length));
    for (const completion of taken) sink(completion);
    return taken.length;
  }

  moderate(count: number, us: number): void {
    this.moderations.push({ count, us });
    this.#count = Math.max(1, count);
    this.#us = count <= 1 ? 0 : us;
  }

  waitForCompletions(): Promise<void> {
    if (this.#count > 1) this.moderatedWaits++;
    else this.plainWaits++;
    // Completions already there count towards the next interrupt (§8); unmoderated, any one ends the wait.
    if (this.#count === 1 && this.#done.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async abandon(): Promise<readonly number[]> {
    const tags = [...this.#queued, ...this.#done].map((j) => j.tag);
    this.clear();
    return tags;
  }

  clear(): void {
    this.#queued.length = 0;
    this.#done.length = 0;
  }

  dispose(): void {
    clearInterval(this.#clock);
    for (const w of this.#waiters.splice(0)) w();
  }

  #tick(): void {
    const now = performance.now();
    for (let i = 0; i < this.#perMs && this.#queued.length > 0; i++) {
      const job = this.#queued.shift()!;
      this.#done.push({ tag: job.tag, ok: true, value: expectedValue(job.request) });
      if (this.#unsignalled++ === 0) this.#firstAt = now;
    }
    if (this.#unsignalled === 0) return;
    if (this.#unsignalled >= this.#count || (now - this.#firstAt) * 1000 >= this.#us) {
      this.#unsignalled = 0;
      for (const w of this.#waiters.splice(0)) w();
    }
  }
}

const DEPTH = 32;
const open: { q: JobQueue; device: FakeDevice<RateCard> }[] = [];

function rateQueue(options: QueueOptions): { q: JobQueue; device: FakeDevice<RateCard>; card: RateCard } {
  const device = new FakeDevice<RateCard>({}, (_, i) => new RateCard(i, DEPTH, 4));
  const q = queueOver(device, options);
  open.push({ q, device });
  return { q, device, card: device.queuePairs[0]! };
}

afterEach(async () => {
  for (const { q, device } of open.splice(0)) {
    await q.close();
    await device.close();
  }
});

/**
 * Keep 4 × DEPTH jobs outstanding for `ms` (each completion submits the next), then let them
 * drain; every result checked. Returns the lane's modes seen at each completion and the counts.
 */
async function saturate(q: JobQueue, ms: number) {
  const modes = new Set<string>();
  let completed = 0;
  const until = performance.now() + ms;
  const lane = () => q.snapshot().devices[0]!.queuePairs[0]!;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < until; i++) {
      const r = request(w * 100_000 + i);
      expect(await q.submit(r)).toEqual(expectedValue(r));
      completed++;
      if (completed % 16 === 0) modes.add(lane().mode);
    }
  };
  const before = lane();
  await Promise.all(Array.from({ length: 4 * DEPTH }, (_, w) => worker(w)));
  const after = lane();
  return { modes, completed, polls: after.polls - before.polls, waits: after.waits - before.waits };
}

describe('interrupt moderation', () => {
  it('at saturation waits on a moderated interrupt instead of polling, and writes count 1 back when the load drops', async () => {
    const { q, card } = rateQueue({ moderationMaxUtilization: 1 });
    const run = await saturate(q, 400);
    expect(run.completed).toBeGreaterThan(400);
    expect(run.modes.has('moderated')).toBe(true);
    // Programmed: a count between MIN_MODERATED_COUNT and the ring, and a time limit.
    const moderated = card.moderations.filter((m) => m.count > 1);
    expect(moderated.length).toBeGreaterThan(0);
    for (const m of moderated) {
      expect(m.count).toBeGreaterThanOrEqual(8);
      expect(m.count).toBeLessThanOrEqual(DEPTH);
      expect(m.us).toBeGreaterThan(0);
    }
    // Moderated, the lane wakes about once per `count` completions and polls once per wake at most.
    expect(run.polls).toBeLessThan(run.completed / 4);
    expect(card.moderatedWaits).toBeGreaterThan(0);
    // The load is gone: one interrupt per completion again (the lane polls or waits as before).
    expect(card.moderations.at(-1)).toEqual({ count: 1, us: 0 });
    const lane = q.snapshot().devices[0]!.queuePairs[0]!;
    expect(lane.mode).not.toBe('moderated');
    expect(lane.inFlight).toBe(0);
    // Jobs one at a time: never moderated.
    const programmed = card.moderations.length;
    for (let i = 0; i < 40; i++) {
      const r = request(i);
      expect(await q.submit(r)).toEqual(expectedValue(r));
    }
    expect(card.moderations).toHaveLength(programmed);
    expect(q.snapshot().devices[0]!.queuePairs[0]!.mode).toBe('interrupt');
  });

  it('polls as before with moderation turned off (moderationMaxUtilization 0)', async () => {
    const { q, card } = rateQueue({ moderationMaxUtilization: 0 });
    const run = await saturate(q, 200);
    expect(card.moderations).toHaveLength(0);
    expect(run.modes.has('moderated')).toBe(false);
    expect(card.moderatedWaits).toBe(0);
    expect(card.plainWaits).toBeGreaterThan(0);
  });

  it('gives moderation up for polling when the event loop is busier than moderationMaxUtilization', async () => {
    // Any utilization is above 0.001: after its first judgement (100 ms moderated) the lane polls.
    const { q, card } = rateQueue({ moderationMaxUtilization: 0.001 });
    await saturate(q, 600);
    const counts = card.moderations.map((m) => m.count);
    const first = counts.findIndex((c) => c > 1);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(counts.slice(first)).toContain(1);
    expect(q.snapshot().devices[0]!.queuePairs[0]!.polls).toBeGreaterThan(0);
  });

  it('rejects a moderationMaxUtilization outside [0, 1]', () => {
    expect(() => rateQueue({ moderationMaxUtilization: 1.5 })).toThrow(RangeError);
  });
});
