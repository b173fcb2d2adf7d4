/**
 * Bellcore (Boneh–DeMillo–Lipton) through every entry point: an RSA-CRT
 * signature with one faulty half gives gcd(s^e − m, n) = a prime factor of n.
 * On cards that corrupt one CRT half of every result (`faults=corrupt:1`) and on
 * half of them (`corrupt:0.5`), nothing wrong is released through `queue.submit`
 * or `subtle`, so no released value factors n. The control runs the same with
 * the gate switched off (an internal option of the benchmark) and does factor n:
 * the test can fail.
 */
import { verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToBigint } from '../../core/driver/bytes.js';
import { digest } from '../../core/encoding/digest.js';
import { emsaPkcs1v15Encode } from '../../core/encoding/emsa-pkcs1v15.js';
import type { IntegrityOptions } from '../../core/integrity/options.js';
import { modPow } from '../../core/math/modular.js';
import { type Accelerator, openAccelerator } from '../../index.js';
import { GATE_OFF_OPTIONS, importJwk } from '../support/accel.js';
import { newRsaKey } from '../support/keys.js';

const { material: key, publicKey, jwk } = newRsaKey(2048);

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** Whether a released s for input m gives away a factor of n. */
function factors(s: Uint8Array, m: Uint8Array): boolean {
  const g = gcd(modPow(bytesToBigint(s), key.e, key.n) - bytesToBigint(m), key.n);
  return g !== 1n && g !== key.n;
}

interface Tally {
  released: number;
  wrong: number;
  factored: number;
  errors: Record<string, number>;
  integrityFaults: number;
  /** Device and operation of each integrity-fault event. */
  faultEvents: Set<string>;
}

async function bellcore(spec: string, jobs: number, integrity?: IntegrityOptions): Promise<Tally> {
  const accel: Accelerator = await openAccelerator({
    devices: [spec],
    queue: { timeoutMs: 10_000, ...(integrity === undefined ? {} : { integrity }) },
  });
  const tally: Tally = {
    released: 0,
    wrong: 0,
    factored: 0,
    errors: {},
    integrityFaults: 0,
    faultEvents: new Set(),
  };
  const sub = accel.events$.subscribe((e) => {
    if (e.type !== 'integrity-fault') return;
    tally.integrityFaults++;
    tally.faultEvents.add(`${e.device} ${e.operation}`);
  });
  const signer = await importJwk(accel, jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, 'sign');
  const fail = (error: unknown) => {
    const name = error instanceof Error ? error.name : 'non-error';
    tally.errors[name] = (tally.errors[name] ?? 0) + 1;
  };
  const work: Promise<void>[] = [];
  for (let i = 0; i < jobs; i++) {
    // queue.submit: raw RSA private operation.
    const m = new Uint8Array(256);
    m[1] = i + 1;
    m.fill(0x33, 2);
    work.push(
      accel.queue.submit({ op: 'rsa-private', key, input: m }).then((s) => {
        tally.released++;
        if (modPow(bytesToBigint(s), key.e, key.n) !== bytesToBigint(m)) tally.wrong++;
        if (factors(s, m)) tally.factored++;
      }, fail),
    );
    // subtle: PKCS#1 v1.5 signature (composed over rsa-private on both cards).
    const msg = new Uint8Array([i, 1, 2, 3]);
    work.push(
      accel.subtle.sign({ name: 'RSASSA-PKCS1-v1_5' }, signer, msg).then((buffer) => {
        const s = new Uint8Array(buffer);
        tally.released++;
        if (!verify('sha256', msg, publicKey, s)) tally.wrong++;
        // What went in was EM = EMSA-PKCS1-v1_5(SHA-256(msg)): gcd(s^e − EM, n) is a factor if one half was wrong.
        if (factors(s, emsaPkcs1v15Encode('SHA-256', digest('SHA-256', msg), 256))) tally.factored++;
      }, fail),
    );
  }
  await Promise.all(work);
  sub.unsubscribe();
  await accel.close();
  return tally;
}

describe('Bellcore: no released RSA result factors n', () => {
  for (const card of ['sim:ring', 'sim:window']) {
    it(`${card}?faults=corrupt:1 releases nothing; corrupt:0.5 only right results`, async () => {
      const all = await bellcore(`${card}?faults=corrupt:1&seed=3`, 8);
      expect(all.released).toBe(0);
      expect(all.wrong).toBe(0);
      expect(all.integrityFaults).toBeGreaterThan(0);
      // Each withheld result was reported with the device and the primitive.
      expect(all.faultEvents.size).toBe(1);
      expect([...all.faultEvents][0]).toMatch(new RegExp(`^${card}#\\d+ rsa-private$`));
      expect(
        Object.keys(all.errors).every((name) =>
          ['DeviceError', 'OperationError', 'DeviceGoneError'].includes(name),
        ),
      ).toBe(true);
      const half = await bellcore(`${card}?faults=corrupt:0.5&seed=7`, 12);
      expect(half.wrong).toBe(0);
      expect(half.factored).toBe(0);
      expect(half.integrityFaults).toBeGreaterThan(0);
    }, 120_000);
  }

  it('(control) with the gate switched off, corrupted results come out and factor n', async () => {
    const off = await bellcore('sim:ring?faults=corrupt:1&seed=3', 6, GATE_OFF_OPTIONS);
    expect(off.wrong).toBeGreaterThan(0);
    expect(off.factored).toBeGreaterThan(0);
  }, 120_000);
});
