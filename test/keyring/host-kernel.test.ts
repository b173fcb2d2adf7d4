/**
 * The keyring device on this machine's kernel, through pcie-mmio's keyctl binding.
 * What this kernel does not allow is skipped with the device's own words (e.g. no
 * PKCS#8 parser: no private keys); public-key operations on X.509 keys and the
 * permission cases run wherever keyctl is allowed. The QEMU guest (npm run
 * test:e2e, keyring boot) runs the private-key cases for real.
 */

import { constants, publicEncrypt, sign } from 'node:crypto';
import { Keyctl } from 'pcie-mmio/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as errors from '../../core/driver/errors.js';
import { type KeyringDevice, keyringDriver } from '../../drivers/keyring/index.js';
import { defaultRegistry, type Job, openAccelerator, parseDeviceSpec } from '../../index.js';
import { cachedRsaKey, newEcKey } from '../support/keys.js';

const keyctl = new Keyctl(errors);
const driver = keyringDriver(() => keyctl);

let device: KeyringDevice | undefined;
let unavailable: string | undefined;
try {
  device = (await driver.open(parseDeviceSpec('keyring:@s'))) as KeyringDevice;
} catch (error) {
  unavailable = (error as Error).message;
}
const privateKeys = device?.capabilities.some((c) => c.op === 'rsa-sign') === true;
const privateLimit = device?.limits.find((l) => l.startsWith('private')) ?? 'private keys unavailable';

afterAll(async () => {
  await device?.close();
});

async function runOne(d: KeyringDevice, request: Job['request']) {
  const qp = d.queuePairs[0]!;
  expect(qp.submit([{ tag: 7, request }])).toBe(1);
  await qp.waitForCompletions();
  let completion: import('../../index.js').Completion | undefined;
  qp.harvest((c) => {
    completion = c;
  });
  return completion!;
}

describe.skipIf(device === undefined)(
  `keyring on this kernel${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    const { privateKey, publicKey, material } = cachedRsaKey();
    const key = material.publicKey;

    it('reports what this kernel withholds, in its own words', () => {
      const d = device!;
      if (privateKeys) expect(d.limits.filter((l) => l.startsWith('private'))).toEqual([]);
      else {
        expect(d.limits.join('\n')).toMatch(/PKCS#8|private keys/);
        expect(d.info.model).toContain('public-key operations only');
        console.log(`keyring: ${d.limits.join('; ')}`);
      }
      expect(d.capabilities.map((c) => c.op)).toContain('rsa-verify');
    });

    it('raw RSA public operation (enc=raw) matches node:crypto', async () => {
      const input = new Uint8Array(256);
      input.set([1, 2, 3, 4, 5], 100);
      const c = await runOne(device!, { op: 'rsa-public', key, input });
      expect(c.ok).toBe(true);
      const expected = publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, input);
      expect(Buffer.from((c as { value: Uint8Array }).value).equals(expected)).toBe(true);
    });

    it('PKCS#1 v1.5 verify: a good signature true, a changed one false', async () => {
      const message = Buffer.from('keyring verify');
      const signature = sign('sha256', message, privateKey);
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', message));
      const padding = { scheme: 'pkcs1-v1_5', hash: 'SHA-256' } as const;
      const good = await runOne(device!, { op: 'rsa-verify', key, padding, digest, signature });
      expect(good).toMatchObject({ ok: true, value: true });
      signature[10]! ^= 1;
      const bad = await runOne(device!, { op: 'rsa-verify', key, padding, digest, signature });
      expect(bad).toMatchObject({ ok: true, value: false });
    });

    it('through openAccelerator: RSA verify and OAEP encrypt run on the keyring device (PSS, OAEP composed over raw)', async () => {
      // The keyring alone: with the software device beside it the completion-time scheduler may place a job there.
      const accel = await openAccelerator({ devices: ['keyring:@s'] });
      try {
        const subtle = accel.subtle;
        const spki = publicKey.export({ format: 'der', type: 'spki' });
        const message = Buffer.from('routed to the kernel');
        // The one public key, imported for each RSA algorithm it is checked with.
        const publicFor = (name: string, usage: 'verify' | 'encrypt') =>
          subtle.importKey('spki', spki, { name, hash: 'SHA-256' }, true, [usage]);
        const vk = await publicFor('RSASSA-PKCS1-v1_5', 'verify');
        expect(
          await subtle.verify('RSASSA-PKCS1-v1_5', vk, sign('sha256', message, privateKey), message),
        ).toBe(true);
        const pk = await publicFor('RSA-PSS', 'verify');
        const pss = sign('sha256', message, {
          key: privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: 32,
        });
        expect(await subtle.verify({ name: 'RSA-PSS', saltLength: 32 }, pk, pss, message)).toBe(true);
        const ek = await publicFor('RSA-OAEP', 'encrypt');
        const ct = await subtle.encrypt('RSA-OAEP', ek, message);
        const { privateDecrypt } = await import('node:crypto');
        expect(privateDecrypt({ key: privateKey, oaepHash: 'sha256' }, Buffer.from(ct)).equals(message)).toBe(
          true,
        );
        const kernel = accel.queue.snapshot().devices.find((d) => d.driver === 'keyring')!;
        expect(kernel.completed).toBeGreaterThanOrEqual(3);
      } finally {
        await accel.close();
      }
    });

    it('ECDSA P-256 verify (enc=x962)', async () => {
      const ec = newEcKey('P-256');
      const message = Buffer.from('ecdsa');
      const signature = sign('sha256', message, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', message));
      const ecKey = ec.material.publicKey;
      const c = await runOne(device!, { op: 'ecdsa-verify', key: ecKey, digest, signature });
      if (!c.ok) {
        // A kernel without ECDSA verify says so and stops offering it.
        expect(c.error.code).toBe('unsupported');
        expect(
          device!.capabilities.some((cap) => cap.op === 'ecdsa-verify' && cap.curves?.includes('P-256')),
        ).toBe(false);
        return;
      }
      expect(c.value).toBe(true);
    });

    describe('permissions', () => {
      const description = `pkaccel-test-${process.pid}`;
      let serial = 0;
      beforeAll(async () => {
        // A public key loaded the way an administrator would (X.509 in the session keyring).
        const { publicKeyCertificate } = await import('../../drivers/keyring/der.js');
        serial = keyctl.addKey('asymmetric', description, publicKeyCertificate(key), -3);
      });
      afterAll(() => {
        try {
          keyctl.invalidate(serial);
        } catch {}
      });

      it('keys the device adds may be used (search) but not read or written by anyone', async () => {
        const ring = keyctl.keyringId(-2, true);
        // An invalidated key (the driver's probe keys, a closed device's keys) stays linked
        // until the kernel's key collector runs, and describing it gives ENOKEY: skip those.
        const described = keyctl.keyringKeys(ring).flatMap((s) => {
          try {
            return [keyctl.describe(s)];
          } catch {
            return [];
          }
        });
        const mine = described.filter((k) => k.description.startsWith(`pkaccel:${process.pid}:pub:`));
        expect(mine.length).toBeGreaterThan(0); // the earlier cases added public keys
        for (const k of mine) {
          expect(k.perm & 0x06060606).toBe(0); // no read, no write for possessor, user, group, other
          expect(k.perm & 0x00080000).not.toBe(0); // user search: what the PKEY operations check
        }
      });

      it('a key this process may not use (no search permission): a clear InvalidKeyError naming EACCES', async () => {
        keyctl.setPerm(serial, 0x21210000); // view + setattr, no search, for possessor and user
        const digest = new Uint8Array(32);
        const err = await keyctl
          .verify(serial, 'enc=pkcs1 hash=sha256', digest, new Uint8Array(256))
          .catch((e) => e);
        expect(err).toBeInstanceOf(errors.InvalidKeyError);
        expect(String(err.message)).toMatch(/permission denied.*EACCES/);
      });

      it('opening a name that is not there, or not searchable, says which name and keyring', async () => {
        const err = await device!.keyStore.openKey(`${description}-absent`).catch((e) => e);
        expect(err).toBeInstanceOf(errors.InvalidKeyError);
        expect(err.message).toContain(`${description}-absent`);
        const hidden = await device!.keyStore.openKey(description).catch((e) => e);
        expect(hidden).toBeInstanceOf(errors.InvalidKeyError);
      });

      it('opening a key that holds only a public key is refused as such', async () => {
        keyctl.setPerm(serial, 0x3f3f0000);
        const err = await device!.keyStore.openKey(description).catch((e) => e);
        expect(err).toBeInstanceOf(errors.InvalidKeyError);
        expect(err.message).toMatch(/holds no private key/);
      });
    });

    it.skipIf(!privateKeys)(`private keys (${privateLimit})`, async () => {
      const digest = new Uint8Array(32).fill(7);
      const c = await runOne(device!, {
        op: 'rsa-sign',
        key: material,
        padding: { scheme: 'pkcs1-v1_5', hash: 'SHA-256' },
        digest,
      });
      expect(c.ok).toBe(true);
    });
  },
);

it('a registered keyring driver is listed by the default registry', () => {
  expect(defaultRegistry.virtualDriverFor('keyring')?.name).toBe('keyring');
});
