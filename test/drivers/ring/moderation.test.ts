/**
 * Interrupt moderation on the ring card (drivers/ring/queue-pair.ts `moderate`, the model's
 * IRQ_CTRL coalescing, docs/hardware/ring-card.md §8): the register the driver programs, a
 * moderated wait that sleeps past the first completion until `count` are there, the time limit
 * that ends a wait the count never reaches, the poll safety net when the interrupt is lost, and a
 * job queue at saturation over the card that moderates and completes every job correctly.
 */

import { describe, expect, it } from 'vitest';
import type { PrimitiveRequest } from '../../../core/driver/index.js';
import { JobQueue } from '../../../core/queue/index.js';
import { IRQ_CTRL_MASK, QREG, queueReg } from '../../../drivers/ring/registers.js';
import { correctValue } from '../../support/fake-device.js';
import { card, ecKey, harvestAll, rsaKeyPair } from './harness.js';

const sign = (): PrimitiveRequest => ({ op: 'ecdsa-sign', key: ecKey(), digest: new Uint8Array(32) });
let nextTag = 1;
const jobs = (n: number) => Array.from({ length: n }, () => ({ tag: nextTag++, request: sign() }));

describe('ring driver: interrupt moderation', () => {
  it('programs IRQ_CTRL with the count and time, and writes the probe setting back at count 1', async () => {
    const { device, fn } = await card('depth=64&engine=timed&rate=20000');
    const qp = device.queuePairs[0]!;
    const irqCtrl = () => fn.bar(0).read32(queueReg(0, QREG.IRQ_CTRL));
    const initial = irqCtrl();
    qp.moderate(32, 1500);
    expect(qp.moderation).toEqual({ count: 32, us: 1500 });
    expect(irqCtrl()).toBe(((1500 << 16) | (32 << 8)) >>> 0);
    // Clamped to the register's fields.
    qp.moderate(1000, 100_000);
    expect(irqCtrl()).toBe(((0xffff << 16) | (0xff << 8)) >>> 0);
    const writes = qp.moderations;
    qp.moderate(1000, 100_000);
    expect(qp.moderations).toBe(writes); // unchanged: not written again
    qp.moderate(1, 0);
    expect(irqCtrl()).toBe(initial);
    expect(qp.moderation).toEqual({ count: 1, us: 0 });
  });

  it('a moderated wait sleeps past the first completions until `count` are there', async () => {
    const { device } = await card('depth=64&engine=timed&rate=20000');
    const qp = device.queuePairs[0]!;
    qp.moderate(32, 60_000);
    expect(qp.submit(jobs(63))).toBe(63);
    await qp.waitForCompletions(AbortSignal.timeout(10_000));
    let ok = 0;
    const first = qp.harvest((c) => {
      if (c.ok) ok++;
    });
    expect(first).toBeGreaterThanOrEqual(32);
    expect(ok).toBe(first);
    await harvestAll(qp, 63 - first);
    // Back to one interrupt per completion: the wait ends at the first.
    qp.moderate(1, 0);
    expect(qp.submit(jobs(63))).toBe(63);
    await qp.waitForCompletions(AbortSignal.timeout(10_000));
    expect(qp.harvest(() => {})).toBeGreaterThan(0);
  });

  it('the time limit ends a wait whose count is never reached', async () => {
    const { device } = await card('depth=64&engine=timed&rate=20000&poll=10000');
    const qp = device.queuePairs[0]!;
    qp.moderate(200, 2000);
    expect(qp.submit(jobs(10))).toBe(10);
    const started = performance.now();
    const done = await harvestAll(qp, 10, 10_000);
    expect(done).toHaveLength(10);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(qp.wakesByIrq + qp.wakesByPoll).toBeGreaterThan(0);
  });

  it('a lost interrupt is recovered by the moderated poll period (the safety net)', async () => {
    const { device, fn } = await card('depth=64&engine=timed&rate=20000');
    const qp = device.queuePairs[0]!;
    qp.moderate(32, 1000);
    // The card never interrupts now: only polling can find the completions.
    fn.bar(0).write32(queueReg(0, QREG.IRQ_CTRL), IRQ_CTRL_MASK);
    expect(qp.submit(jobs(40))).toBe(40);
    const done = await harvestAll(qp, 40, 10_000);
    expect(done).toHaveLength(40);
    expect(qp.wakesByPoll).toBeGreaterThan(0);
    expect(qp.wakesByIrq).toBe(0);
  });

  it('a job queue at saturation moderates the card and completes every job with the right result', async () => {
    const { device } = await card('depth=32&engine=real&engines=4');
    const { material } = rsaKeyPair(2048);
    const q = new JobQueue({ moderationMaxUtilization: 1 });
    q.addDevice(device);
    try {
      const request = (i: number): PrimitiveRequest => {
        const input = new Uint8Array(256);
        input[255] = i & 0xff;
        input[254] = (i >> 8) & 0xff;
        input[1] = 1;
        return { op: 'rsa-public', key: material.publicKey, input };
      };
      // Every slot of every queue pair and as many again waiting: each completion submits the next.
      const slots = device.queuePairs.reduce((s, p) => s + p.depth, 0);
      let next = 0;
      const total = 3000;
      const worker = async () => {
        while (next < total) {
          const r = request(next++);
          const value = (await q.submit(r)) as Uint8Array;
          expect(Buffer.from(value).equals(correctValue(r) as Uint8Array)).toBe(true);
        }
      };
      await Promise.all(Array.from({ length: 2 * slots }, worker));
      expect(q.snapshot().completed).toBe(total);
      expect(device.queuePairs.some((p) => p.moderations > 0)).toBe(true);
      // Idle again: every queue pair back to one interrupt per completion.
      for (const p of device.queuePairs) expect(p.moderation.count).toBe(1);
    } finally {
      await q.close();
    }
  });
});
