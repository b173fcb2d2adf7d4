/**
 * simulator/idle-linger: the model thread naps (the host's posts need not wake it) only after a
 * heavy stretch, for a bounded number of idle waits; one job at a time never naps.
 */

import { describe, expect, it } from 'vitest';
import { IdleLinger } from '../../simulator/idle-linger.js';

const naps = (linger: IdleLinger, stretches: readonly number[]) =>
  stretches.map((events) => linger.nap(events));

describe('IdleLinger', () => {
  it('a heavy stretch grants its naps, then the thread sleeps until a post', () => {
    expect(naps(new IdleLinger(3, 16), [40, 0, 0, 0, 0])).toEqual([true, true, true, false, false]);
  });

  it('light stretches (one job at a time) never nap, and one ends the naps a heavy one granted', () => {
    expect(naps(new IdleLinger(3, 16), [1, 0, 2, 15, 0])).toEqual([false, false, false, false, false]);
    expect(naps(new IdleLinger(3, 16), [16, 0, 1, 0])).toEqual([true, true, false, false]);
  });

  it('another heavy stretch grants them again; 0 naps never nap', () => {
    expect(naps(new IdleLinger(2, 16), [20, 0, 0, 30, 0, 0])).toEqual([true, true, false, true, true, false]);
    expect(naps(new IdleLinger(0, 16), [100, 0])).toEqual([false, false]);
  });
});
