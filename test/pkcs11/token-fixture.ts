/**
 * An in-process PKCS#11 token for protocol tests: an accelerator over the given
 * devices, named keys made fresh (RSA-2048 `rsa`, P-256 `ec`, and `shared`, an
 * RSA key whose ACL names uid 4242 and gid 4343 only; the RSA keys with their
 * rejection secrets, as loaded from files), and servePkcs11 on a socket in a
 * temporary folder.
 */

import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rejectionSecret } from '../../core/algorithms/rsaes-pkcs1-implicit.js';
import { type Accelerator, openAccelerator } from '../../index.js';
import type { NamedKey } from '../../server/named-keys.js';
import { type Pkcs11Server, type Pkcs11ServerOptions, servePkcs11 } from '../../server/pkcs11/index.js';
import { cachedRsaKey, newEcKey, newRsaKey } from '../support/keys.js';

export const OTHER_UID = 4242;
export const OTHER_GID = 4343;

export interface TokenFixture {
  readonly dir: string;
  readonly accel: Accelerator;
  readonly keys: readonly NamedKey[];
  /** Node's public keys, by key name: the independent judges of signatures. */
  readonly publicKeys: Readonly<Record<string, KeyObject>>;
  /** Start one more server over the same accelerator and keys (another socket, other options). */
  serve(name: string, options?: Partial<Pkcs11ServerOptions>): Promise<Pkcs11Server>;
  close(): Promise<void>;
}

export async function tokenFixture(devices: readonly string[] = ['software']): Promise<TokenFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'pkaccel-p11-proto-'));
  const accel = await openAccelerator({ devices: [...devices] });
  const rsa = cachedRsaKey(2048);
  const ec = newEcKey('P-256');
  const shared = newRsaKey(2048);
  // As loadNamedKey makes them: an RSA key carries its rejection secret (CKM_RSA_PKCS decryption).
  const named = (
    name: string,
    material: NamedKey['material'],
    uids: number[] = [],
    gids: number[] = [],
  ): NamedKey => ({
    name,
    path: join(dir, `${name}.pk8`),
    uids,
    gids,
    material,
    ...(material.kind === 'rsa-private' ? { rejectionSecret: rejectionSecret(material) } : {}),
  });
  const keys: NamedKey[] = [
    named('rsa', rsa.material),
    named('ec', ec.material),
    named('shared', shared.material, [OTHER_UID], [OTHER_GID]),
  ];
  const servers: Pkcs11Server[] = [];
  return {
    dir,
    accel,
    keys,
    publicKeys: { rsa: rsa.publicKey, ec: ec.publicKey, shared: shared.publicKey },
    async serve(name, options = {}) {
      const server = await servePkcs11({
        path: join(dir, name),
        accelerator: accel,
        namedKeys: keys,
        ...options,
      });
      servers.push(server);
      return server;
    },
    async close() {
      for (const s of servers) await s.close();
      await accel.close({ drain: false });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
