/**
 * RemovalWatch (core/driver/removal-watch.ts): a device hears of a removal once
 * per `removed` promise, and only of the newest promise it watches.
 */

import { describe, expect, it } from 'vitest';
import { RemovalWatch } from '../../core/driver/removal-watch.js';

function removal(): { promise: Promise<void>; remove: () => void } {
  let remove!: () => void;
  const promise = new Promise<void>((resolve) => {
    remove = resolve;
  });
  return { promise, remove };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RemovalWatch', () => {
  it('calls back once when the watched promise settles, however often the same promise is watched', async () => {
    let calls = 0;
    const watch = new RemovalWatch(() => calls++);
    const first = removal();
    watch.watch(first.promise);
    watch.watch(first.promise);
    await settle();
    expect(calls).toBe(0);
    first.remove();
    await settle();
    expect(calls).toBe(1);
  });

  it('ignores an older promise that settles after a newer one is watched (the card was re-inserted)', async () => {
    let calls = 0;
    const watch = new RemovalWatch(() => calls++);
    const old = removal();
    const renewed = removal();
    watch.watch(old.promise);
    watch.watch(renewed.promise);
    old.remove();
    await settle();
    expect(calls).toBe(0);
    renewed.remove();
    await settle();
    expect(calls).toBe(1);
  });
});
