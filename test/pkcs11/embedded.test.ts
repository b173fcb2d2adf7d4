/**
 * The token started by the embedding `serve({ pkcs11 })` (what `pkaccel serve
 * --pkcs11` calls): the broker's named keys (`--key name=path:uids=…`) are the
 * token's objects with the broker's ACL, a PIN file's first line is the PIN, and
 * closing the broker closes the token's socket. A socket already served is
 * refused without leaving the broker's own socket behind.
 */

import * as nc from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { serve } from '../../server/index.js';
import { CKM, CKR } from '../../server/pkcs11/constants.js';
import { readPinFile } from '../../server/pkcs11/pin.js';
import { CkrError, plainMechanism, RpcClient } from './rpc-client.js';

const dir = mkdtempSync(join(tmpdir(), 'pkaccel-p11-embed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('serve({ pkcs11 }) serves the named keys with the broker ACL and PIN, and closes with the broker', async () => {
  const { privateKey, publicKey } = nc.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(join(dir, 'web.pk8'), privateKey.export({ type: 'pkcs8', format: 'der' }), { mode: 0o600 });
  writeFileSync(join(dir, 'other.pk8'), privateKey.export({ type: 'pkcs8', format: 'der' }), { mode: 0o600 });
  writeFileSync(join(dir, 'pin'), 'correct horse\n', { mode: 0o600 });
  const path = join(dir, 'pkcs11');
  const broker = await serve({
    devices: ['software'],
    socketPath: join(dir, 'broker.sock'),
    // `other` names a uid that is not ours: this process must not see it.
    keys: [`web=${join(dir, 'web.pk8')}`, `other=${join(dir, 'other.pk8')}:uids=4242`],
    pkcs11: { path, pin: readPinFile(join(dir, 'pin')) },
  });
  try {
    expect(broker.pkcs11?.path).toBe(path);
    const c = await RpcClient.connect(path);
    await c.initialize();
    const s = await c.openSession();
    await expect(c.login(s, 'correct horse\n')).rejects.toEqual(new CkrError(CKR.PIN_INCORRECT));
    await c.login(s, 'correct horse');
    expect(await c.find(s, [])).toHaveLength(2); // web's private and public objects, not other's
    const key = await c.privateKey(s, 'web');
    await c.ok(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.ECDSA_SHA256).u64(key));
    const sig = await c.sign(s, Buffer.from('embedded'), 64);
    expect(
      nc.verify('sha256', Buffer.from('embedded'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig.data!),
    ).toBe(true);
    // A second broker on the same PKCS#11 socket is refused, and leaves no broker socket of its own.
    await expect(
      serve({ devices: ['software'], socketPath: join(dir, 'second.sock'), pkcs11: { path } }),
    ).rejects.toThrow(/another broker is listening/);
    expect(existsSync(join(dir, 'second.sock'))).toBe(false);
    await c.close();
  } finally {
    await broker.close({ drainMs: 100 });
  }
  expect(existsSync(path)).toBe(false);
});
