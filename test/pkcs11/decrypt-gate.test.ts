/**
 * CKM_RSA_PKCS decryption goes through the integrity gate: on a card that
 * corrupts every result (`sim:ring?faults=corrupt:1`, the only device) a valid
 * ciphertext gets an error, never CKR_OK. That matters more here than anywhere:
 * implicit rejection turns a wrong raw result into a plausible synthetic message,
 * so without the gate a faulty card would hand out wrong plaintexts silently. The
 * control runs the same with the gate off (the benchmark's internal option) and
 * does get CKR_OK with a wrong message: the test can fail.
 */

import * as nc from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejectionSecret } from '../../core/algorithms/rsaes-pkcs1-implicit.js';
import type { IntegrityOptions } from '../../core/integrity/options.js';
import { openAccelerator } from '../../index.js';
import { CKM, CKR } from '../../server/pkcs11/constants.js';
import { servePkcs11 } from '../../server/pkcs11/index.js';
import { GATE_OFF_OPTIONS } from '../support/accel.js';
import { cachedRsaKey } from '../support/keys.js';
import { plainMechanism, RpcClient } from './rpc-client.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Decrypt `ct` with CKM_RSA_PKCS on a token whose only device corrupts every result. */
async function onCorruptingCard(ct: Uint8Array, integrity?: IntegrityOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'pkaccel-p11-gate-'));
  dirs.push(dir);
  const accel = await openAccelerator({
    devices: ['sim:ring?faults=corrupt:1&seed=3'],
    queue: { timeoutMs: 10_000, ...(integrity === undefined ? {} : { integrity }) },
  });
  const { material } = cachedRsaKey(2048);
  const key = { name: 'rsa', path: join(dir, 'rsa.pk8'), uids: [], gids: [], material };
  const server = await servePkcs11({
    path: join(dir, 'pkcs11'),
    accelerator: accel,
    namedKeys: [{ ...key, rejectionSecret: rejectionSecret(material) }],
  });
  const c = await RpcClient.connect(server.path);
  try {
    await c.initialize();
    const s = await c.openSession();
    const rsa = await c.privateKey(s, 'rsa');
    await c.ok(33, 'uMu', (w) => plainMechanism(w.u64(s), CKM.RSA_PKCS).u64(rsa));
    const reply = await c.call(34, 'uayfy', (w) => w.u64(s).presentBytes({ data: ct }).u32(256));
    return { rv: reply.rv, data: reply.rv === CKR.OK ? reply.reader.presentBytes().data : null };
  } finally {
    c.socket.destroy();
    await server.close();
    await accel.close({ drain: false });
  }
}

describe('CKM_RSA_PKCS decryption and the integrity gate', () => {
  const secret = nc.randomBytes(48);
  const ct = nc.publicEncrypt(
    { key: cachedRsaKey(2048).publicKey, padding: nc.constants.RSA_PKCS1_PADDING },
    secret,
  );

  it('a card corrupting every raw result: CKR_DEVICE_ERROR, never a message', async () => {
    const { rv } = await onCorruptingCard(ct);
    expect(rv).toBe(CKR.DEVICE_ERROR);
  }, 60_000);

  it('control, gate off: CKR_OK with a wrong (synthetic) message — what the gate stops', async () => {
    const { rv, data } = await onCorruptingCard(ct, GATE_OFF_OPTIONS);
    expect(rv).toBe(CKR.OK);
    expect(data).not.toBeNull();
    expect(Buffer.from(data!).equals(secret)).toBe(false);
  }, 60_000);
});
