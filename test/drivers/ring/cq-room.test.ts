/**
 * The CQ head reaches the card with each doorbell, and with a harvest or a wait only when the
 * card could otherwise see its CQ full (drivers/ring/queue-pair.ts #cardMayStall): on a ring of
 * two and of four entries, jobs submitted and harvested in several interleavings — one at a
 * time, as many as fit, harvests of one — all complete, in inline and in worker mode (a card
 * left believing its CQ full would hold completions back and the test would time out).
 */

import { describe, expect, it } from 'vitest';
import type { Completion, PrimitiveRequest } from '../../../core/driver/index.js';
import { card, ecKey } from './harness.js';

const request = (): PrimitiveRequest => ({ op: 'ecdsa-sign', key: ecKey(), digest: new Uint8Array(32) });

describe('ring driver: CQ room', () => {
  for (const mode of ['inline', 'worker'] as const) {
    for (const depth of [2, 4]) {
      it(`${mode}, ring depth ${depth}: every job completes whatever the harvest pattern`, async () => {
        const { device } = await card(`mode=${mode}&depth=${depth}&engine=null`);
        const qp = device.queuePairs[0]!;
        expect(qp.depth).toBe(depth - 1);
        const job = request();
        let tag = 0;
        let done = 0;
        const seen = new Set<number>();
        const sink = (c: Completion) => {
          expect(c.ok).toBe(true);
          expect(seen.has(c.tag)).toBe(false);
          seen.add(c.tag);
          done++;
        };
        const signal = AbortSignal.timeout(10_000);
        for (let round = 0; round < 60; round++) {
          // Fill what is free (or one job, on odd rounds), then harvest one at a time or all.
          const room = qp.depth - qp.inFlight;
          const count = round % 2 === 0 ? room : Math.min(1, room);
          const jobs = Array.from({ length: count }, () => ({ tag: tag++, request: job }));
          expect(qp.submit(jobs)).toBe(count);
          const target = round % 3 === 0 ? done + 1 : tag;
          while (done < Math.min(target, tag)) {
            if (qp.harvest(sink, round % 3 === 1 ? 1 : Number.POSITIVE_INFINITY) === 0)
              await qp.waitForCompletions(signal);
          }
        }
        while (done < tag) if (qp.harvest(sink) === 0) await qp.waitForCompletions(signal);
        expect(done).toBe(tag);
        expect(seen.size).toBe(tag);
      });
    }
  }
});
