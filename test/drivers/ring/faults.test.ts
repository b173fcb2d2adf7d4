/**
 * One test per injected fault (simulator/faults.ts) through the ring driver:
 * each ends in a typed error, a correct late result, or a device taken out of
 * service — never a hang (every wait has a deadline), never a wrong result
 * released by the algorithms layer.
 */
import { constants, createPublicKey, publicEncrypt, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rsaSign } from '../../../core/algorithms/index.js';
import { type Completion, DeviceGoneError } from '../../../core/driver/index.js';
import { modPow } from '../../../core/math/index.js';
import { JobQueue } from '../../../core/queue/index.js';
import { bytesOf, type Card, card, ecKey, harvestAll, rsaKey } from './harness.js';

function faulty(faults: string, extra = ''): Promise<Card> {
  return card(`mode=inline&depth=8&faults=${faults}${extra}`);
}

const key = rsaKey(2048);
const input = bytesOf(0xabcdefn ** 20n, 256);
const privateJob = (tag: number) => ({ tag, request: { op: 'rsa-private' as const, key, input } });

function isCorrectSignature(value: Uint8Array): boolean {
  const b64 = (v: bigint) => Buffer.from(v.toString(16).padStart(512, '0'), 'hex').toString('base64url');
  const pub = createPublicKey({
    format: 'jwk',
    key: { kty: 'RSA', n: b64(key.n), e: Buffer.from([1, 0, 1]).toString('base64url') },
  });
  return Buffer.from(publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, value)).equals(
    Buffer.from(input),
  );
}

async function expectNoCompletion(card: Card, ms = 150): Promise<void> {
  const qp = card.device.queuePairs[0]!;
  await expect(qp.waitForCompletions(AbortSignal.timeout(ms))).rejects.toMatchObject({ code: 'aborted' });
  expect(qp.harvest(() => {})).toBe(0);
}

describe('ring card faults', () => {
  it('error status → a DeviceError completion; the card stays in service', async () => {
    const { device } = await faulty('error@1');
    const qp = device.queuePairs[0]!;
    qp.submit([privateJob(1)]);
    const [c] = await harvestAll(qp, 1);
    expect(c).toMatchObject({ tag: 1, ok: false, error: { code: 'device-error' } });
    qp.submit([privateJob(2)]);
    const [d] = await harvestAll(qp, 1);
    expect(d!.ok && isCorrectSignature(d!.value as Uint8Array)).toBe(true);
    expect(device.state).toBe('ready');
  });

  it('dropped completion → nothing arrives; the owner times out and abandons; the queue works on', async () => {
    const c = await faulty('drop@1');
    const qp = c.device.queuePairs[0]!;
    qp.submit([privateJob(7)]);
    await expectNoCompletion(c);
    expect(await qp.abandon()).toEqual([7]);
    qp.submit([privateJob(8)]);
    const [d] = await harvestAll(qp, 1);
    expect(d).toMatchObject({ tag: 8, ok: true });
  });

  it('hang → no completion ever, the queue stops; abandon (queue reset) recovers it', async () => {
    const c = await faulty('hang@1');
    const qp = c.device.queuePairs[0]!;
    qp.submit([privateJob(1), privateJob(2)]);
    await expectNoCompletion(c);
    expect([...(await qp.abandon())].sort()).toEqual([1, 2]);
    qp.submit([privateJob(3)]);
    const [d] = await harvestAll(qp, 1);
    expect(d).toMatchObject({ tag: 3, ok: true });
  });

  it('delayed completion → the right result, late', async () => {
    const { device } = await faulty('delay@1', '&delayms=60');
    const qp = device.queuePairs[0]!;
    qp.submit([privateJob(1)]);
    await expect(qp.waitForCompletions(AbortSignal.timeout(20))).rejects.toMatchObject({ code: 'aborted' });
    const [c] = await harvestAll(qp, 1);
    expect(c!.ok && isCorrectSignature(c!.value as Uint8Array)).toBe(true);
  });

  it('duplicated completion → the first result is released, the duplicate (a tag no longer issued) fails the card; reset recovers', async () => {
    const { device } = await faulty('duplicate@1');
    const qp = device.queuePairs[0]!;
    const events: string[] = [];
    device.subscribe((e) => {
      if (e.type === 'state') events.push(e.state);
    });
    qp.submit([privateJob(1)]);
    const [c] = await harvestAll(qp, 1);
    expect(c!.ok && isCorrectSignature(c!.value as Uint8Array)).toBe(true);
    await expect(qp.waitForCompletions(AbortSignal.timeout(1000))).rejects.toBeInstanceOf(DeviceGoneError);
    expect(device.state).toBe('failed');
    expect(events).toEqual(['failed']);
    expect(() => qp.submit([privateJob(2)])).toThrow(DeviceGoneError);
    await device.reset();
    qp.submit([privateJob(3)]);
    const [d] = await harvestAll(qp, 1);
    expect(d).toMatchObject({ tag: 3, ok: true });
  });

  it('corrupted result (bit flip in one RSA-CRT half) → never released: the integrity gate catches it, the retry is right', async () => {
    const { fn, device } = await faulty('corrupt@1');
    const exec = new JobQueue();
    exec.addDevice(device);
    try {
      const message = new TextEncoder().encode('pay 10 EUR');
      const opsBefore = fn.sim.operations;
      const signature = await rsaSign(exec, key, { scheme: 'pkcs1-v1_5', hash: 'SHA-256' }, message);
      const pub = createPublicKey({
        format: 'jwk',
        key: {
          kty: 'RSA',
          n: Buffer.from(key.n.toString(16).padStart(512, '0'), 'hex').toString('base64url'),
          e: 'AQAB',
        },
      });
      expect(verify('sha256', message, pub, signature)).toBe(true);
      // The faulted operation and its retry both reached the card.
      expect(fn.sim.operations - opsBefore).toBeGreaterThanOrEqual(2);
    } finally {
      await exec.close();
    }
  });

  it('corrupted result as the driver sees it: a wrong value (the driver cannot know; the core check must)', async () => {
    const { device } = await faulty('corrupt@1');
    const qp = device.queuePairs[0]!;
    qp.submit([privateJob(1)]);
    const [c] = await harvestAll(qp, 1);
    if (!c!.ok) throw new Error('expected a (corrupted) value');
    expect(isCorrectSignature(c!.value as Uint8Array)).toBe(false);
  });

  it('surprise removal → jobs in flight complete with DeviceGoneError, state gone, submit throws', async () => {
    const c = await faulty('remove@2');
    const qp = c.device.queuePairs[0]!;
    qp.submit([privateJob(1), privateJob(2)]);
    const got: Completion[] = [];
    const signal = AbortSignal.timeout(3000);
    while (got.length < 2) {
      qp.harvest((x) => got.push(x));
      if (got.length < 2) await qp.waitForCompletions(signal).catch(() => {});
    }
    await c.fn.removed;
    expect(c.device.state).toBe('gone');
    const gone = got.filter((x) => !x.ok);
    expect(gone.length).toBeGreaterThanOrEqual(1);
    expect(gone.every((x) => !x.ok && x.error.code === 'device-gone')).toBe(true);
    expect(() => qp.submit([privateJob(3)])).toThrow(DeviceGoneError);
    await expect(qp.waitForCompletions()).rejects.toBeInstanceOf(DeviceGoneError);
    await expect(c.device.reset()).rejects.toBeInstanceOf(DeviceGoneError);
  });

  it('probabilistic rules: every job settles exactly once, and every released result is right', async () => {
    const { device } = await faulty('error:0.2,delay:0.2,corrupt:0.1', '&delayms=5&seed=7');
    const qp = device.queuePairs[0]!;
    const settled = new Map<number, Completion>();
    let next = 0;
    const total = 30;
    const signal = AbortSignal.timeout(20_000);
    while (settled.size < total) {
      while (next < total && qp.submit([privateJob(next)]) === 1) next++;
      await qp.waitForCompletions(signal);
      qp.harvest((c) => {
        expect(settled.has(c.tag)).toBe(false);
        settled.set(c.tag, c);
      });
    }
    const outcomes = [...settled.values()];
    expect(outcomes.some((c) => !c.ok)).toBe(true);
    // The driver passes corrupted values up (the core check drops them); errors are typed.
    for (const c of outcomes) if (!c.ok) expect(c.error.code).toBe('device-error');
  });

  it('seeded faults replay: the same spec and seed give the same faulted jobs and the same flipped bits', async () => {
    const publicKey = key.publicKey;
    /** For each of 24 raw RSA public jobs, run one at a time: -1 when right, else the flipped bit. */
    async function run(seed: number): Promise<number[]> {
      const { device } = await faulty('corrupt:0.4', `&seed=${seed}`);
      const qp = device.queuePairs[0]!;
      const trace: number[] = [];
      for (let i = 0; i < 24; i++) {
        const x = 0x1234567n * BigInt(i + 1) + 99n;
        qp.submit([{ tag: i, request: { op: 'rsa-public', key: publicKey, input: bytesOf(x, 256) } }]);
        const [done] = await harvestAll(qp, 1);
        if (!done!.ok) throw new Error('no completion value');
        const got = done!.value as Uint8Array;
        const want = bytesOf(modPow(x, publicKey.e, publicKey.n), 256);
        let bit = -1;
        for (let j = 0; j < 256; j++) {
          const diff = got[j]! ^ want[j]!;
          if (diff !== 0) bit = j * 8 + Math.clz32(diff) - 24; // bit index from the most significant end
        }
        trace.push(bit);
      }
      return trace;
    }
    const first = await run(7);
    const again = await run(7);
    const other = await run(8);
    expect(first.filter((b) => b >= 0).length).toBeGreaterThan(2);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('corrupted ECDSA verdicts are seeded too: the same seed flips the same verdicts and witness bits', async () => {
    const ec = ecKey('P-256');
    const digest = new Uint8Array(32).fill(3);
    async function run(seed: number): Promise<string[]> {
      const { device } = await faulty('corrupt:1', `&seed=${seed}`);
      const qp = device.queuePairs[0]!;
      const out: string[] = [];
      for (let i = 0; i < 16; i++) {
        const signature = new Uint8Array(64).fill(i + 1); // r, s in range; not a valid signature
        qp.submit([{ tag: i, request: { op: 'ecdsa-verify', key: ec.publicKey, digest, signature } }]);
        const [done] = await harvestAll(qp, 1);
        if (!done!.ok || done!.witness?.kind !== 'ecdsa-verify')
          throw new Error('expected a witnessed verdict');
        out.push(`${done!.value}:${done!.witness.x && Buffer.from(done!.witness.x).toString('hex')}`);
      }
      return out;
    }
    const first = await run(3);
    expect(await run(3)).toEqual(first);
    // Random signatures do not verify: a `true` is a flipped verdict (the forged-signature case).
    expect(first.some((v) => v.startsWith('true:'))).toBe(true);
    expect(first.some((v) => v.startsWith('false:'))).toBe(true);
  });
});
