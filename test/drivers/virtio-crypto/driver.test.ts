/**
 * The virtio-crypto driver against sim:virtio: bring-up and capabilities,
 * every primitive against node:crypto, verify failure as `false`, run-time
 * capability refinement on the QEMU 7.2 profile, sessions, several queues,
 * interrupts vs polling, faults, reset and recovery.
 */

import {
  constants,
  createHash,
  createPublicKey,
  sign as nodeSign,
  privateDecrypt,
  publicEncrypt,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Completion, DeviceEvent, PrimitiveRequest } from '../../../core/driver/index.js';
import * as sim from '../../support/sim.js';
import { collect, type OpenedVirtio, openVirtio, rsaKey, runOne, sha256 } from './helpers.js';

async function open(query = ''): Promise<OpenedVirtio> {
  return sim.closeAfterEach(await openVirtio(query));
}

function signRequest(
  hash: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' = 'SHA-256',
  message = 'm',
): PrimitiveRequest {
  const { material } = rsaKey(2048);
  const digest = digestOf(hash, message);
  return { op: 'rsa-sign', key: material, padding: { scheme: 'pkcs1-v1_5', hash }, digest };
}

/** A PKCS#1 v1.5 / SHA-256 verify of `signature` over `message` with the 2048-bit test key. */
function verifyRequest(signature: Uint8Array, message = 'x') {
  return {
    op: 'rsa-verify',
    key: rsaKey(2048).material.publicKey,
    padding: { scheme: 'pkcs1-v1_5', hash: 'SHA-256' },
    digest: sha256(message),
    signature,
  } as const;
}

/** Open with `query`, run one signature: it must fail with `code` and leave the device `state`. */
async function firstJobFails(query: string, code: string, state: string): Promise<OpenedVirtio> {
  const card = await open(query);
  expect(await runOne(card.qp, signRequest())).toMatchObject({ ok: false, error: { code } });
  expect(card.device.state).toBe(state);
  return card;
}

function digestOf(hash: string, message: string): Uint8Array {
  return createHash(hash.replace('-', '').toLowerCase()).update(message).digest();
}

function value(c: Completion): unknown {
  if (!c.ok) throw c.error;
  return c.value;
}

describe('bring-up and capabilities', () => {
  it('reads the device config into RSA capabilities and one queue pair per data queue', async () => {
    const card = await open('queues=3');
    expect(card.device.info).toMatchObject({ driver: 'virtio-crypto', priority: 50 });
    expect(card.device.queuePairs).toHaveLength(3);
    expect(card.device.interruptMode).toBe('msix');
    const ops = card.device.capabilities.map((c) => c.op);
    expect(ops).toEqual(['rsa-sign', 'rsa-verify', 'rsa-public', 'rsa-private']);
    expect(card.device.capabilities[0]).toMatchObject({
      paddings: ['pkcs1-v1_5'],
      hashes: ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'],
    });
    expect(card.qp.depth).toBeGreaterThan(8);
  });

  it('refuses a function that is not virtio-crypto', async () => {
    const card = await open();
    const { virtioCryptoDriver } = await import('../../../drivers/virtio-crypto/index.js');
    const fake = { ...card.fn, info: { ...card.fn.info, deviceId: 0x1041 } } as typeof card.fn;
    await expect(virtioCryptoDriver.probe(fake, {})).rejects.toMatchObject({ code: 'unsupported' });
  });
});

describe('primitives against node:crypto', () => {
  it('signs PKCS#1 v1.5 with every hash byte-for-byte like node', async () => {
    const card = await open();
    const { key } = rsaKey(2048);
    for (const hash of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const) {
      const c = await runOne(card.qp, signRequest(hash, `msg ${hash}`));
      const expected = nodeSign(hash.replace('-', '').toLowerCase(), Buffer.from(`msg ${hash}`), key);
      expect(Buffer.from(value(c) as Uint8Array)).toEqual(expected);
    }
  });

  it('verifies a good signature as true and a bad one as false (not an error)', async () => {
    const card = await open();
    const signature = nodeSign('sha256', Buffer.from('x'), rsaKey(2048).key);
    const base = verifyRequest(signature);
    expect(value(await runOne(card.qp, { ...base, signature }))).toBe(true);
    const bad = Uint8Array.from(signature);
    bad[10]! ^= 1;
    expect(value(await runOne(card.qp, { ...base, signature: bad }))).toBe(false);
    expect(value(await runOne(card.qp, { ...base, digest: sha256('y'), signature }))).toBe(false);
    // Wrong length: answered without the device.
    expect(value(await runOne(card.qp, { ...base, signature: signature.subarray(1) }))).toBe(false);
  });

  it('does raw RSA public and private operations', async () => {
    const card = await open();
    const { material, key } = rsaKey(2048);
    const input = new Uint8Array(256);
    input[5] = 7;
    input[255] = 3;
    const enc = value(
      await runOne(card.qp, { op: 'rsa-public', key: material.publicKey, input }),
    ) as Uint8Array;
    const pub = createPublicKey(key);
    expect(Buffer.from(enc)).toEqual(publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, input));
    const dec = value(await runOne(card.qp, { op: 'rsa-private', key: material, input: enc })) as Uint8Array;
    expect(Buffer.from(dec)).toEqual(Buffer.from(input));
    expect(Buffer.from(dec)).toEqual(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, enc));
  });

  it('rejects requests it cannot express, locally and with typed errors', async () => {
    const card = await open();
    const { material } = rsaKey(2048);
    const pss = await runOne(card.qp, {
      op: 'rsa-sign',
      key: material,
      padding: { scheme: 'pss', hash: 'SHA-256', mgfHash: 'SHA-256', saltLength: 32 },
      digest: sha256('a'),
    });
    expect(pss).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    const shortDigest = await runOne(card.qp, {
      ...signRequest(),
      digest: new Uint8Array(31),
    } as PrimitiveRequest);
    expect(shortDigest).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    const ecdh = await runOne(card.qp, { op: 'keygen', spec: { kind: 'ec', curve: 'P-256' } });
    expect(ecdh).toMatchObject({ ok: false, error: { code: 'unsupported' } });
  });

  it('keeps many jobs in flight in one batch and completes each exactly once', async () => {
    const card = await open();
    const { key } = rsaKey(2048);
    const jobs = Array.from({ length: 20 }, (_, i) => ({
      tag: 100 + i,
      request: signRequest('SHA-256', `m${i}`),
    }));
    expect(card.qp.submit(jobs)).toBe(20);
    const done = await collect(card.qp, 20);
    expect(done.map((c) => c.tag).sort()).toEqual(jobs.map((j) => j.tag).sort());
    for (const c of done) {
      const i = c.tag - 100;
      expect(Buffer.from(value(c) as Uint8Array)).toEqual(nodeSign('sha256', Buffer.from(`m${i}`), key));
    }
    expect(card.qp.inFlight).toBe(0);
  });

  it('takes only what fits: depth bounds the jobs in flight', async () => {
    const card = await open();
    const jobs = Array.from({ length: card.qp.depth + 5 }, (_, i) => ({
      tag: i,
      request: signRequest('SHA-256', `d${i}`),
    }));
    expect(card.qp.submit(jobs)).toBe(card.qp.depth);
    await collect(card.qp, card.qp.depth);
  });
});

describe('sessions', () => {
  it('creates one session per key and parameters and reuses it', async () => {
    const card = await open();
    expect(card.device.sessions.size).toBe(0);
    await runOne(card.qp, signRequest('SHA-256', 'a'));
    await runOne(card.qp, signRequest('SHA-256', 'b'));
    expect(card.device.sessions.size).toBe(1);
    await runOne(card.qp, signRequest('SHA-512', 'c'));
    expect(card.device.sessions.size).toBe(2);
  });
});

describe('QEMU 7.2 profile: capabilities refined by refusals', () => {
  it('drops SHA-384 after a refused session, emits an event, and fails the job as unsupported', async () => {
    const card = await open('profile=qemu-7.2');
    expect(card.device.queuePairs).toHaveLength(1);
    const events: DeviceEvent[] = [];
    card.device.subscribe((e) => events.push(e));
    const c = await runOne(card.qp, signRequest('SHA-384'));
    expect(c).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect(events).toContainEqual({ type: 'capabilities' });
    const sign = card.device.capabilities.find((cap) => cap.op === 'rsa-sign');
    expect(sign?.hashes).toEqual(['SHA-1', 'SHA-256', 'SHA-512']);
    // The next SHA-384 job is refused before the ring; SHA-256 still works.
    expect(await runOne(card.qp, signRequest('SHA-384'))).toMatchObject({
      ok: false,
      error: { code: 'unsupported' },
    });
    expect((await runOne(card.qp, signRequest('SHA-256'))).ok).toBe(true);
  });

  it('drops raw RSA after the device fails its first raw operation', async () => {
    const card = await open('profile=qemu-7.2');
    const { material } = rsaKey(2048);
    const input = new Uint8Array(256);
    input[255] = 2;
    const c = await runOne(card.qp, { op: 'rsa-public', key: material.publicKey, input });
    expect(c).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect(card.device.capabilities.map((x) => x.op)).not.toContain('rsa-public');
    expect(card.device.capabilities.map((x) => x.op)).toContain('rsa-private');
  });

  it('reports a failed verify as false (KEY_REJECTED)', async () => {
    const card = await open('profile=qemu-7.2');
    const c = await runOne(card.qp, verifyRequest(new Uint8Array(256).fill(3)));
    expect(value(c)).toBe(false);
  });
});

describe('several data queues', () => {
  it('runs jobs on every queue pair', async () => {
    const card = await open('queues=2');
    const [a, b] = card.device.queuePairs;
    a!.submit([{ tag: 1, request: signRequest('SHA-256', 'qa') }]);
    b!.submit([{ tag: 2, request: signRequest('SHA-256', 'qb') }]);
    const [ca] = await collect(a!, 1);
    const [cb] = await collect(b!, 1);
    expect(ca).toMatchObject({ tag: 1, ok: true });
    expect(cb).toMatchObject({ tag: 2, ok: true });
  });
});

describe('interrupts and polling', () => {
  it('works in polling mode (irq=poll) and without interrupts on the device', async () => {
    for (const query of ['irq=poll', 'irq=none']) {
      const card = await open(query);
      expect(card.device.interruptMode).toBe('poll');
      expect((await runOne(card.qp, signRequest())).ok).toBe(true);
    }
  });

  it('works with a worker-thread model, where completions arrive asynchronously', async () => {
    const card = await open('mode=worker');
    const { key } = rsaKey(2048);
    const c = await runOne(card.qp, signRequest('SHA-256', 'w'));
    expect(Buffer.from(value(c) as Uint8Array)).toEqual(nodeSign('sha256', Buffer.from('w'), key));
  });

  it('stops waiting when aborted', async () => {
    const card = await open('faults=hang@1');
    card.qp.submit([{ tag: 1, request: signRequest() }]);
    await expect(card.qp.waitForCompletions(AbortSignal.timeout(100))).rejects.toMatchObject({
      code: 'aborted',
    });
  });
});

describe('faults and recovery', () => {
  it('maps an error status to a device error once the combination has worked', async () => {
    const card = await open('faults=error@2');
    expect((await runOne(card.qp, signRequest())).ok).toBe(true);
    expect(await runOne(card.qp, signRequest())).toMatchObject({
      ok: false,
      error: { code: 'device-error' },
    });
    expect((await runOne(card.qp, signRequest())).ok).toBe(true);
  });

  it('abandons a hung queue with a device reset, and works afterwards with new sessions', async () => {
    const card = await open('faults=hang@1');
    const states: string[] = [];
    card.device.subscribe((e) => e.type === 'state' && states.push(e.state));
    card.qp.submit([{ tag: 9, request: signRequest() }]);
    await expect(card.qp.waitForCompletions(AbortSignal.timeout(100))).rejects.toMatchObject({
      code: 'aborted',
    });
    expect(await card.qp.abandon()).toEqual([9]);
    expect(card.qp.inFlight).toBe(0);
    expect(states).toEqual(['resetting', 'ready']);
    expect(card.device.sessions.size).toBe(0);
    expect((await runOne(card.qp, signRequest())).ok).toBe(true);
  });

  it('takes the device out of service on a garbage completion, and reset() brings it back', async () => {
    const card = await firstJobFails('faults=garbage@1', 'device-error', 'failed');
    expect(() => card.qp.submit([{ tag: 2, request: signRequest() }])).toThrow(/out of service/);
    await card.device.reset();
    expect(card.device.state).toBe('ready');
    expect((await runOne(card.qp, signRequest())).ok).toBe(true);
  });

  it('takes the device out of service on a duplicated completion', async () => {
    // Two used entries for one outstanding chain: the used ring is not to be trusted any more.
    await firstJobFails('faults=duplicate@1', 'device-error', 'failed');
  });

  it('fails jobs in flight with device-gone on surprise removal', async () => {
    await firstJobFails('faults=remove@1', 'device-gone', 'gone');
  });

  it('a corrupted output is replayed by its seed, and another seed flips another bit', async () => {
    const right = value(await runOne((await open()).qp, signRequest('SHA-256', 'seeded'))) as Uint8Array;
    const corrupted = async (seed: number): Promise<Uint8Array> =>
      value(
        await runOne((await open(`faults=corrupt@1&seed=${seed}`)).qp, signRequest('SHA-256', 'seeded')),
      ) as Uint8Array;
    await sim.expectSeededCorruption(right, corrupted, [3, 4]);
  });

  it('a removed device comes back through reset() once it is present again, and works', async () => {
    const card = await firstJobFails('faults=remove@1', 'device-gone', 'gone');
    await sim.expectResetAfterReinsert(card);
    const c = await runOne(card.qp, signRequest('SHA-256', 'back'));
    expect(c.ok).toBe(true);
    await sim.expectGoneAfterRemoval(card);
  });

  it('completes a delayed completion late but correctly', async () => {
    const card = await open('faults=delay@1&delayms=30');
    const c = await runOne(card.qp, signRequest('SHA-256', 'late'));
    expect(c.ok).toBe(true);
  });
});
