/**
 * The token over a card that only does low-level operations (the simulated
 * window card: modular exponentiation and point multiplication): the padded
 * mechanisms are composed by core/algorithms over them (PKCS#1 and PSS encodings
 * over raw RSA, ECDSA over k·G, OAEP decoding after raw RSA), and node:crypto
 * checks every result. The mechanism list still offers them, as hardware.
 */

import * as nc from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CKM } from '../../server/pkcs11/constants.js';
import type { Pkcs11Server } from '../../server/pkcs11/index.js';
import { oaepMechanism, plainMechanism, pssMechanism, RpcClient } from './rpc-client.js';
import { type TokenFixture, tokenFixture } from './token-fixture.js';

let fx: TokenFixture;
let server: Pkcs11Server;

beforeAll(async () => {
  fx = await tokenFixture(['sim:window']);
  server = await fx.serve('pkcs11');
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

it('signs PKCS#1, PSS and ECDSA and decrypts OAEP on a card that only exponentiates and multiplies points', async () => {
  const ops = fx.accel.devices[0]!.capabilities.map((c) => c.op);
  expect(ops).not.toContain('rsa-sign');
  expect(ops).not.toContain('ecdsa-sign');
  const c = await RpcClient.connect(server.path);
  await c.initialize();
  const s = await c.openSession();
  const mechanisms = (await c.ok(7, 'ufu', (w) => w.u64(1).u32(64))).ulongArray() as number[];
  expect(mechanisms).toEqual(
    expect.arrayContaining([CKM.RSA_PKCS, CKM.RSA_PKCS_PSS, CKM.ECDSA, CKM.RSA_PKCS_OAEP]),
  );
  const rsa = await c.privateKey(s, 'rsa');
  const ec = await c.privateKey(s, 'ec');
  const message = Buffer.from('composed on the window card');
  const hash = nc.createHash('sha256').update(message).digest();
  const before = fx.accel.queue.snapshot().devices[0]!.completed;

  await c.ok(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.RSA_PKCS).u64(rsa));
  const info = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), hash]);
  const pkcs1 = await c.sign(s, info, 256);
  expect(nc.verify('sha256', message, fx.publicKeys.rsa!, pkcs1.data!)).toBe(true);

  await c.ok(42, 'uMu', (w) => pssMechanism(w.u64(s), CKM.RSA_PKCS_PSS, CKM.SHA256, 2, 32).u64(rsa));
  const pss = await c.sign(s, hash, 256);
  const pssKey = { key: fx.publicKeys.rsa!, padding: nc.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  expect(nc.verify('sha256', message, pssKey, pss.data!)).toBe(true);

  await c.ok(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.ECDSA).u64(ec));
  const ecdsa = await c.sign(s, hash, 64);
  expect(
    nc.verify('sha256', message, { key: fx.publicKeys.ec!, dsaEncoding: 'ieee-p1363' }, ecdsa.data!),
  ).toBe(true);

  const ct = nc.publicEncrypt(
    { key: fx.publicKeys.rsa!, padding: nc.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from('unwrap me'),
  );
  await c.ok(33, 'uMu', (w) => oaepMechanism(w.u64(s), CKM.SHA256, 2, null).u64(rsa));
  const plain = (await c.ok(34, 'uayfy', (w) => w.u64(s).presentBytes({ data: ct }).u32(256))).presentBytes();
  expect(Buffer.from(plain.data!).toString()).toBe('unwrap me');

  // Four operations, each at least one job on the card (the only device).
  expect(fx.accel.queue.snapshot().devices[0]!.completed).toBeGreaterThanOrEqual(before + 4);
  await c.close();
});
