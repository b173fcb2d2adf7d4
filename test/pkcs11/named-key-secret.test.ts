/**
 * A named key loaded from its file keeps its rejection secret, SHA-256(I2OSP(d, k)),
 * beside it (what CKM_RSA_PKCS decryption with implicit rejection derives from); an
 * EC key has none.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bigintToBytes } from '../../core/encoding/bytes.js';
import { digest } from '../../core/encoding/digest.js';
import { loadNamedKey } from '../../server/named-keys.js';
import { cachedRsaKey, newEcKey } from '../support/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'pkaccel-p11-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadNamedKey and the rejection secret', () => {
  it('an RSA key file (PEM or DER): SHA-256 of d as k big-endian bytes; an EC key: none', () => {
    const rsa = cachedRsaKey(2048);
    const der = join(dir, 'rsa.pk8');
    const pem = join(dir, 'rsa.pem');
    writeFileSync(der, rsa.privateKey.export({ type: 'pkcs8', format: 'der' }));
    writeFileSync(pem, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const want = Buffer.from(digest('SHA-256', bigintToBytes(rsa.material.d, 256))).toString('hex');
    for (const path of [der, pem]) {
      const key = loadNamedKey({ name: 'rsa', path, uids: [], gids: [] });
      expect(Buffer.from(key.rejectionSecret ?? []).toString('hex')).toBe(want);
    }
    const ec = join(dir, 'ec.pk8');
    writeFileSync(ec, newEcKey('P-256').privateKey.export({ type: 'pkcs8', format: 'der' }));
    expect(loadNamedKey({ name: 'ec', path: ec, uids: [], gids: [] }).rejectionSecret).toBeUndefined();
  });
});
