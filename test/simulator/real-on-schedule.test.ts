/**
 * Real engines on a modeled schedule (simulator/engines.ts): `engine=real` with
 * `rate`/`service` computes correct results and posts each completion at
 * max(start + service, the computation's end), `engines` at a time. What the
 * option parses to; that a slow declared rate holds the card back measurably
 * (a lower bound on the elapsed time only: a loaded machine can only make it
 * later); and that the results are real (node:crypto verifies every signature).
 */

import { verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type Accelerator, openAccelerator } from '../../index.js';
import { parseEngineConfig, realOnSchedule } from '../../simulator/engines.js';
import { importJwk } from '../support/accel.js';
import { cachedRsaKey, newEcKey } from '../support/keys.js';

const DEFAULTS = { count: 4, serviceMs: 0.1 };

describe('engine options: real engines on a schedule', () => {
  it.each([
    // [spec options, service ms, on a schedule]
    [{}, 0, false], // real, as soon as computed (the default card)
    [{ engine: 'real', rate: '20' }, 200, true], // 4 engines, 20 ops/s for the card: 200 ms each
    [{ rate: '20', engines: '1' }, 50, true],
    [{ engine: 'real', service: '3' }, 3, true],
    [{ engine: 'real', service: '0' }, 0, false],
    [{ engine: 'timed' }, 0.1, false], // timed keeps the model's default service time
    [{ engine: 'timed', rate: '1000' }, 4, false],
    [{ engine: 'null', rate: '20' }, 0, false], // null completes at once whatever the rate
  ] as const)('%j → service %s ms, on a schedule: %s', (options, serviceMs, scheduled) => {
    const config = parseEngineConfig(options, DEFAULTS);
    expect(config.serviceMs).toBeCloseTo(serviceMs, 9);
    expect(realOnSchedule(config)).toBe(scheduled);
  });

  it('refuses a rate of 0', () => {
    expect(() => parseEngineConfig({ engine: 'real', rate: '0' }, DEFAULTS)).toThrow(/rate=0/);
  });
});

describe('simulated cards with engine=real on a schedule', () => {
  let accel: Accelerator | undefined;
  afterEach(async () => {
    await accel?.close();
    accel = undefined;
  });

  it.each([
    // [card, its engines]
    ['sim:ring?engine=real&rate=20&engines=4', 4],
    ['sim:window?engine=real&rate=20&engines=2', 2],
  ] as const)(
    '%s: 10 RSA-2048 signatures take their service times (≥ 70% of nominal), each one real',
    async (spec, engines) => {
      // engines × 50 ms per operation on each engine: the last of 10 completes after ⌈10 / engines⌉ of
      // them (ring: 3 × 200 ms, window: 5 × 100 ms from the first start); unpaced, 10 take ~10–60 ms.
      accel = await openAccelerator({ devices: [spec] });
      const key = cachedRsaKey(2048);
      const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
      const privateKey = await importJwk(accel, key.jwk, algorithm, 'sign');
      const messages = Array.from({ length: 10 }, (_, i) => Buffer.from(`paced message ${i}`));
      const started = performance.now();
      const signatures = await Promise.all(messages.map((m) => accel!.subtle.sign(algorithm, privateKey, m)));
      const elapsedMs = performance.now() - started;
      // A lower bound only (a loaded machine makes it later), with slack for the virtual clock dating
      // a descriptor from its engine's due instant: 70% of the nominal time.
      const nominalMs = Math.ceil(10 / engines) * engines * 50;
      expect(elapsedMs).toBeGreaterThanOrEqual(0.7 * nominalMs);
      signatures.forEach((signature, i) => {
        expect(verify('sha256', messages[i]!, key.publicKey, Buffer.from(signature)), `signature ${i}`).toBe(
          true,
        );
      });
    },
    60_000,
  );

  it('a service shorter than the computation: results still real (the completion waits for them)', async () => {
    // 1 µs of modeled service: every completion is posted when the model thread's computation ends.
    accel = await openAccelerator({ devices: ['sim:ring?engine=real&service=0.001'] });
    const ec = newEcKey('P-256');
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
    const privateKey = await importJwk(accel, ec.jwk, algorithm, 'sign');
    const messages = Array.from({ length: 8 }, (_, i) => Buffer.from(`fast message ${i}`));
    const signatures = await Promise.all(
      messages.map((m) => accel!.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, m)),
    );
    signatures.forEach((signature, i) => {
      const ok = verify(
        'sha256',
        messages[i]!,
        { key: ec.publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature),
      );
      expect(ok, `signature ${i}`).toBe(true);
    });
  }, 60_000);
});
