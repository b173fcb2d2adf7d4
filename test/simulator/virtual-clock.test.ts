/**
 * The worker's virtual clock (simulator/runner.ts, clock 'virtual'): scheduled work runs in due
 * order when runDue() finds it due, and work scheduled by due work is timed from that work's due
 * instant — so a late pass catches a chain up instead of losing the card's throughput.
 */

import { describe, expect, it } from 'vitest';
import { createSharedCard } from '../../simulator/control.js';
import type { DeviceModel, ModelDefinition, ModelHost, ModelLayout } from '../../simulator/model.js';
import { ModelRunner } from '../../simulator/runner.js';

const layout: ModelLayout = {
  identity: {
    vendorId: 0x1ded,
    deviceId: 0xffff,
    subsystemVendorId: 0x1ded,
    subsystemDeviceId: 0,
    classCode: 0,
    revision: 0,
  },
  bars: { 0: { size: 4096 } },
  irq: { kind: 'none', vectors: 0 },
  dmaArenaBytes: 4096,
};

/** A model that does nothing but hand its ModelHost to the test. */
function runnerWithHost(): { runner: ModelRunner; host: ModelHost } {
  let captured: ModelHost | undefined;
  const definition: ModelDefinition = {
    name: 'probe',
    layout: () => layout,
    create(host): DeviceModel {
      captured = host;
      return { layout, reset() {}, onWrite() {} };
    },
  };
  const runner = new ModelRunner(definition, createSharedCard({ 0: 4096 }, 4096), {}, 'virtual');
  return { runner, host: captured! };
}

function busyWaitMs(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: the point is that wall time passes without a pass
  }
}

describe('virtual clock', () => {
  it('runs nothing before it is due, then everything due in due order', () => {
    const { runner, host } = runnerWithHost();
    const ran: string[] = [];
    // Offsets of tens of ms, not tenths: a loaded machine can take this thread away for more
    // than 0.1 ms between the schedule calls and the first look (seen in CI).
    host.schedule(60, () => ran.push('late'));
    host.schedule(20, () => ran.push('early'));
    host.schedule(20, () => ran.push('early, scheduled second'));
    host.schedule(100_000, () => ran.push('far'));
    expect(runner.msUntilNextDue()).toBeGreaterThan(0);
    expect(runner.runDue()).toBe(0);
    busyWaitMs(70);
    expect(runner.runDue()).toBe(3);
    expect(ran).toEqual(['early', 'early, scheduled second', 'late']);
    expect(runner.msUntilNextDue()).toBeGreaterThan(90_000);
    runner.stop();
    expect(runner.msUntilNextDue()).toBe(Number.POSITIVE_INFINITY);
  });

  it('times chained work from the due instant of the work that scheduled it', () => {
    const { runner, host } = runnerWithHost();
    let links = 0;
    // An engine of 0.05 ms service time with 10 operations waiting: a chain of 10 links.
    const link = () => {
      links++;
      if (links < 10) host.schedule(0.05, link);
    };
    host.schedule(0.05, link);
    busyWaitMs(2); // the thread comes round late: all 10 links were due by now (0.5 ms)
    expect(runner.runDue()).toBe(10);
    expect(links).toBe(10);
    expect(runner.msUntilNextDue()).toBe(Number.POSITIVE_INFINITY);
  });

  it('drops scheduled work when stopped', () => {
    const { runner, host } = runnerWithHost();
    let ran = false;
    host.schedule(0, () => {
      ran = true;
    });
    runner.stop();
    busyWaitMs(0.2);
    expect(runner.runDue()).toBe(0);
    expect(ran).toBe(false);
  });
});
