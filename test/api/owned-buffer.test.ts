/**
 * subtle returns a device's result bytes as an ArrayBuffer the caller alone holds, exactly the
 * result's length: a buffer a driver handed over (core/encoding handOverCopy) without a copy, any
 * other value copied — a device that answers every job with the same bytes must never see a
 * caller's writes, nor two callers share one buffer.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { nullRegistry } from '../../bench/lib/registries.js';
import { type Accelerator, openAccelerator } from '../../core/api/index.js';
import { handOverCopy } from '../../core/encoding/bytes.js';
import { GATE_OFF_OPTIONS } from '../support/accel.js';
import { FakeDevice, nullDevice } from '../support/fake-device.js';
import { newEcKey } from '../support/keys.js';

describe('subtle.sign results', () => {
  let accel: Accelerator | undefined;
  afterEach(async () => {
    await accel?.close();
    accel = undefined;
  });

  async function signer(compute: () => Uint8Array) {
    const device = new FakeDevice({ id: 'dev', ops: ['ecdsa-sign'], compute });
    accel = await openAccelerator({
      devices: ['null'],
      registry: nullRegistry(() => device),
      queue: { integrity: GATE_OFF_OPTIONS },
    });
    const alg = { name: 'ECDSA', namedCurve: 'P-256' };
    const key = await accel.subtle.importKey('jwk', newEcKey('P-256').jwk, alg, false, ['sign']);
    const a = accel;
    return () => a.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new Uint8Array([1]));
  }

  it('are the buffer a device handed over, when it made a fresh one per job', async () => {
    const made: Uint8Array[] = [];
    const sign = await signer(() => {
      const value = handOverCopy(new Uint8Array(64).fill(made.length + 1), 0, 64);
      made.push(value);
      return value;
    });
    const [a, b] = [await sign(), await sign()];
    expect(a).toBe(made[0]!.buffer);
    expect(b).toBe(made[1]!.buffer);
    expect(a.byteLength).toBe(64);
    expect(new Uint8Array(b)[0]).toBe(2);
  });

  it('are copies of a value the device did not hand over, one per call', async () => {
    const fixed = new Uint8Array(64).fill(1);
    const sign = await signer(() => fixed);
    const a = await sign();
    expect(a).not.toBe(fixed.buffer);
    new Uint8Array(a).fill(0xee); // the caller's to write
    const b = await sign();
    expect(b).not.toBe(a);
    expect(fixed.every((x) => x === 1)).toBe(true);
    expect(new Uint8Array(b).every((x) => x === 1)).toBe(true);
  });

  it('of a null device answering every job with one array stay distinct', async () => {
    accel = await openAccelerator({
      devices: ['null'],
      registry: nullRegistry(() =>
        nullDevice(handOverCopy(new Uint8Array(64).fill(1), 0, 64), { ops: ['ecdsa-sign'] }),
      ),
      queue: { integrity: GATE_OFF_OPTIONS },
    });
    const alg = { name: 'ECDSA', namedCurve: 'P-256' };
    const key = await accel.subtle.importKey('jwk', newEcKey('P-256').jwk, alg, false, ['sign']);
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        accel!.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new Uint8Array([1])),
      ),
    );
    // The mark is taken once: at most the first result is the device's buffer, the rest are copies.
    expect(new Set(results).size).toBe(4);
    for (const r of results) expect(r.byteLength).toBe(64);
  });
});
