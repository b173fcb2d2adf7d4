/**
 * The libuv-pool path (pool=uv): jobs with a node:crypto callback form, carrying
 * their message, cross-checked with node:crypto; exactly-once completion under
 * abandon, reset and close; typed errors; and which jobs stay with the workers.
 */

import { constants, createHash, randomBytes, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Completion,
  DeviceGoneError,
  type HashName,
  InvalidInputError,
  type PrimitiveRequest,
} from '../../../core/driver/index.js';
import type { SoftwareDevice } from '../../../drivers/software/index.js';
import {
  ecKey,
  okpKey,
  openSoftware,
  resultOf,
  rsaKey,
  runAll,
  runOne,
  softwareDevicePerTest,
} from './helpers.js';

const open = softwareDevicePerTest();

const nodeHash = (h: HashName) => h.replace('-', '').toLowerCase();
const digestOf = (h: HashName, data: Uint8Array) =>
  new Uint8Array(createHash(nodeHash(h)).update(data).digest());
const message = new TextEncoder().encode('pkaccel libuv pool path');
const rsa = rsaKey(2048);
const ec = ecKey('P-256');
const ed = okpKey('Ed25519');

/** Wait until every libuv task the device started has ended (abandoned ones included). */
async function settle(device: SoftwareDevice): Promise<void> {
  while (device.uvTasksInFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
}

const edSign = (i: number): PrimitiveRequest => ({
  op: 'eddsa-sign',
  key: ed.material,
  message: Uint8Array.of(i),
});

describe('software provider on the libuv pool', () => {
  it('RSA PKCS#1 v1.5 and PSS sign/verify with the message agree with node:crypto', async () => {
    const device = await open('software?inline=off&pool=uv&workers=1');
    const qp = device.queuePairs[0]!;
    for (const hash of ['SHA-256', 'SHA-384'] as const) {
      const digest = digestOf(hash, message);
      const prehashed = { hash, data: message };
      for (const padding of [
        { scheme: 'pkcs1-v1_5', hash } as const,
        { scheme: 'pss', hash, mgfHash: hash, saltLength: 32 } as const,
      ]) {
        const nodePadding =
          padding.scheme === 'pss'
            ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
            : { padding: constants.RSA_PKCS1_PADDING };
        const ours = resultOf(
          await runOne(qp, { op: 'rsa-sign', key: rsa.material, padding, digest, message: prehashed }),
        ) as Uint8Array;
        expect(verify(nodeHash(hash), message, { key: rsa.publicKey, ...nodePadding }, ours)).toBe(true);
        const theirs = sign(nodeHash(hash), message, { key: rsa.privateKey, ...nodePadding });
        const tampered = Uint8Array.from(theirs);
        tampered[10]! ^= 1;
        const key = rsa.material.publicKey;
        const [good, bad, short] = await runAll(qp, [
          { op: 'rsa-verify', key, padding, digest, signature: theirs, message: prehashed },
          { op: 'rsa-verify', key, padding, digest, signature: tampered, message: prehashed },
          { op: 'rsa-verify', key, padding, digest, signature: theirs.subarray(1), message: prehashed },
        ]);
        expect([resultOf(good!), resultOf(bad!), resultOf(short!)]).toEqual([true, false, false]);
      }
    }
    expect(device.poolJobsPerWorker).toEqual([0]); // every one of them ran on libuv's pool
  });

  it('ECDSA and Ed25519 sign/verify agree with node:crypto', async () => {
    const device = await open('software?inline=off&pool=uv&workers=1');
    const qp = device.queuePairs[0]!;
    const prehashed = { hash: 'SHA-256', data: message } as const;
    const digest = digestOf('SHA-256', message);
    const [ecSig, edSig] = await runAll(qp, [
      { op: 'ecdsa-sign', key: ec.material, digest, message: prehashed },
      { op: 'eddsa-sign', key: ed.material, message },
    ]);
    const ecSignature = resultOf(ecSig!) as Uint8Array;
    expect(ecSignature).toHaveLength(64);
    expect(verify('sha256', message, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, ecSignature)).toBe(
      true,
    );
    const edSignature = resultOf(edSig!) as Uint8Array;
    expect(Buffer.from(edSignature)).toEqual(sign(null, message, ed.privateKey)); // Ed25519 is deterministic
    const theirs = sign('sha256', message, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    const other = Uint8Array.of(1, 2, 3);
    const results = await runAll(qp, [
      { op: 'ecdsa-verify', key: ec.material.publicKey, digest, signature: theirs, message: prehashed },
      {
        op: 'ecdsa-verify',
        key: ec.material.publicKey,
        digest,
        signature: theirs,
        message: { hash: 'SHA-256', data: other },
      },
      {
        op: 'ecdsa-verify',
        key: ec.material.publicKey,
        digest,
        signature: theirs.subarray(2),
        message: prehashed,
      },
      { op: 'eddsa-verify', key: ed.material.publicKey, message, signature: edSignature },
      { op: 'eddsa-verify', key: ed.material.publicKey, message: other, signature: edSignature },
    ]);
    expect(results.map(resultOf)).toEqual([true, false, false, true, false]);
    expect(device.poolJobsPerWorker).toEqual([0]);
  });

  it('jobs without a callback form (no message, ECDH, MGF1 over another hash) go to the workers', async () => {
    const device = await open('software?inline=off&pool=uv&workers=1');
    const qp = device.queuePairs[0]!;
    const digest = digestOf('SHA-256', message);
    const results = await runAll(qp, [
      { op: 'ecdsa-sign', key: ec.material, digest },
      { op: 'ecdh', key: ec.material, peer: ecKey('P-256').material.publicKey },
      {
        op: 'rsa-sign',
        key: rsa.material,
        padding: { scheme: 'pss', hash: 'SHA-256', mgfHash: 'SHA-1', saltLength: 20 },
        digest,
        message: { hash: 'SHA-256', data: message },
      },
    ]);
    expect(results.every((c) => c.ok)).toBe(true);
    expect(device.poolJobsPerWorker).toEqual([3]);
  });

  it('refuses bad inputs with typed errors that carry no key material', async () => {
    const device = await open('software?inline=off&pool=uv');
    const qp = device.queuePairs[0]!;
    const prehashed = { hash: 'SHA-256', data: message } as const;
    const digest = digestOf('SHA-256', message);
    const [shortDigest, negativeSalt, hugeSalt, negativeSaltVerify] = await runAll(qp, [
      {
        op: 'rsa-sign',
        key: rsa.material,
        padding: { scheme: 'pkcs1-v1_5', hash: 'SHA-256' },
        digest: digest.subarray(1),
        message: prehashed,
      },
      {
        op: 'rsa-sign',
        key: rsa.material,
        padding: { scheme: 'pss', hash: 'SHA-256', mgfHash: 'SHA-256', saltLength: -1 },
        digest,
        message: prehashed,
      },
      {
        op: 'rsa-sign',
        key: rsa.material,
        padding: { scheme: 'pss', hash: 'SHA-256', mgfHash: 'SHA-256', saltLength: 300 },
        digest,
        message: prehashed,
      },
      {
        op: 'rsa-verify',
        key: rsa.material.publicKey,
        padding: { scheme: 'pss', hash: 'SHA-256', mgfHash: 'SHA-256', saltLength: -2 },
        digest,
        signature: new Uint8Array(256),
        message: prehashed,
      },
    ]);
    for (const c of [shortDigest!, negativeSalt!, hugeSalt!]) {
      expect(c.ok).toBe(false);
      const error = !c.ok && c.error;
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).not.toContain(rsa.material.d.toString(16).slice(0, 16));
    }
    expect(resultOf(negativeSaltVerify!)).toBe(false);
  });

  it('abandon: tags come back, abandoned jobs never complete, the queue pair still works', async () => {
    const device = await open('software?inline=off&pool=uv');
    const qp = device.queuePairs[0]!;
    expect(qp.submit(Array.from({ length: 16 }, (_, i) => ({ tag: i, request: edSign(i) })))).toBe(16);
    expect(device.uvTasksInFlight).toBe(16);
    const abandoned = await qp.abandon();
    expect([...abandoned].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(qp.inFlight).toBe(0);
    await settle(device);
    expect(qp.harvest(() => {})).toBe(0);
    const again = await runAll(qp, [edSign(1), edSign(2)]);
    expect(again.every((c) => c.ok)).toBe(true);
  });

  it('completes each of many jobs exactly once', async () => {
    const device = await open('software?pool=uv');
    const results: Completion[] = await runAll(
      device.queuePairs[0]!,
      Array.from({ length: 200 }, (_, i) => edSign(i)),
    );
    expect(results.every((c, i) => c.ok && c.tag === i)).toBe(true);
    await settle(device);
    expect(device.queuePairs[0]!.harvest(() => {})).toBe(0);
  });

  it('reset and close drop callbacks that arrive later; close refuses new work', async () => {
    const device = await open('software?inline=off&pool=uv');
    const qp = device.queuePairs[0]!;
    qp.submit(Array.from({ length: 8 }, (_, i) => ({ tag: i, request: edSign(i) })));
    await device.reset();
    expect(qp.inFlight).toBe(0);
    qp.submit(Array.from({ length: 8 }, (_, i) => ({ tag: 100 + i, request: edSign(i) })));
    const waiting = expect(qp.waitForCompletions()).rejects.toBeInstanceOf(DeviceGoneError);
    await device.close();
    await waiting;
    await settle(device);
    expect(qp.harvest(() => {})).toBe(0);
    expect(() => qp.submit([{ tag: 1, request: edSign(1) }])).toThrow(DeviceGoneError);
  });

  it('rejects an unknown pool option', async () => {
    await expect(openSoftware('software?pool=threads')).rejects.toBeInstanceOf(InvalidInputError);
  });
});

it('a lone job with a message runs on the calling thread with pool=uv', async () => {
  const device = await open('software?pool=uv');
  const data = randomBytes(1000);
  const signature = resultOf(
    await runOne(device.queuePairs[0]!, {
      op: 'ecdsa-sign',
      key: ec.material,
      digest: digestOf('SHA-256', data),
      message: { hash: 'SHA-256', data },
    }),
  ) as Uint8Array;
  expect(verify('sha256', data, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  expect(device.uvTasksInFlight).toBe(0);
});
