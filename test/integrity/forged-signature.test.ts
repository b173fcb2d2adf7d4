/**
 * Forged signatures never verify, whatever a faulty card says: random ECDSA and
 * RSA signatures on cards that corrupt their results (the verdict, or what it was
 * computed from) must verify false through `subtle`, every time. The control
 * switches the gate off and sees a corrupted verdict come out as true.
 */
import { generateKeyPairSync, randomBytes, type webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IntegrityOptions } from '../../core/integrity/options.js';
import { openAccelerator } from '../../index.js';
import { GATE_OFF_OPTIONS, importJwk } from '../support/accel.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const { d: _d, ...ecPublic } = ec.privateKey.export({ format: 'jwk' }) as webcrypto.JsonWebKey &
  Record<string, string>;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPublic = rsa.publicKey.export({ format: 'jwk' }) as webcrypto.JsonWebKey;

async function forgeries(spec: string, calls: number, integrity?: IntegrityOptions) {
  const accel = await openAccelerator({
    devices: [spec],
    queue: { timeoutMs: 10_000, ...(integrity === undefined ? {} : { integrity }) },
  });
  const ecdsa = await importJwk(accel, ecPublic, { name: 'ECDSA', namedCurve: 'P-256' }, 'verify');
  const pkcs1 = await importJwk(accel, rsaPublic, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, 'verify');
  const verdicts = { true: 0, false: 0, errors: 0 };
  const count = (p: Promise<boolean>) =>
    p.then(
      (v) => {
        verdicts[v ? 'true' : 'false']++;
      },
      () => {
        verdicts.errors++;
      },
    );
  const work: Promise<void>[] = [];
  for (let i = 0; i < calls; i++) {
    const msg = new Uint8Array([i, 9, 9]);
    const sig = new Uint8Array(randomBytes(64));
    sig[0]! &= 0x7f;
    sig[32]! &= 0x7f;
    work.push(count(accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, ecdsa, sig, msg)));
    const rsaSig = new Uint8Array(randomBytes(256));
    rsaSig[0]! &= 0x3f;
    work.push(count(accel.subtle.verify({ name: 'RSASSA-PKCS1-v1_5' }, pkcs1, rsaSig, msg)));
  }
  await Promise.all(work);
  await accel.close();
  return verdicts;
}

describe('forged signatures on cards with corrupted verdicts', () => {
  for (const spec of [
    'sim:ring?faults=corrupt:1&seed=11',
    'sim:ring?faults=corrupt:0.3&seed=12',
    'sim:window?faults=corrupt:1&seed=13',
  ]) {
    it(`${spec}: 40 random ECDSA and 40 random RSA signatures never verify true`, async () => {
      const verdicts = await forgeries(spec, 40);
      expect(verdicts.true).toBe(0);
      // Not vacuous: verdicts did come back.
      expect(verdicts.false + verdicts.errors).toBe(80);
    }, 120_000);
  }

  it('(control) with the gate off, a corrupted verdict on sim:ring says true', async () => {
    const verdicts = await forgeries('sim:ring?faults=corrupt:1&seed=11', 40, GATE_OFF_OPTIONS);
    expect(verdicts.true).toBeGreaterThan(0);
  }, 120_000);
});
