/**
 * The keyring device against a scripted kernel (KeyctlCalls): what it learns at
 * open, how it narrows its capabilities when the kernel refuses a combination at
 * run time (the 'capabilities' event, as drivers/virtio-crypto does), how errors
 * map (a key problem passes through, a refusal becomes UnsupportedError), and the
 * key store: import (the serial kept, no secret), destroy, open by description
 * (the public key recovered from raw public operations).
 */

import { constants, privateEncrypt, publicEncrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Completion,
  type DeviceEvent,
  InvalidKeyError,
  type PrimitiveRequest,
  type RsaPrivateKeyMaterial,
  UnsupportedError,
} from '../../core/driver/index.js';
import { KeyringDevice } from '../../drivers/keyring/device.js';
import type { KeyctlCalls, PkeyQuery } from '../../drivers/keyring/keyctl.js';
import { cachedRsaKey } from '../support/keys.js';

function typed<E extends Error>(error: E, errno: string): E {
  Object.defineProperty(error, 'errno', { value: errno });
  return error;
}

const { privateKey, material } = cachedRsaKey();

interface FakeOptions {
  pkcs8?: 'ok' | 'EBADMSG';
  capabilities?: 'ok' | 'EPERM';
  /** info strings whose sign the kernel refuses (ENOPKG). */
  refuseSign?: string[];
}

/** A kernel that keeps keys in a table and does raw RSA with node:crypto on `material`'s key. */
function fakeKernel(options: FakeOptions = {}) {
  const keys = new Map<number, { description: string; private: boolean; perm: number; keyring: number }>();
  const calls: string[] = [];
  let next = 100;
  const query: PkeyQuery = {
    supportedOps: 0,
    keySize: 2048,
    maxDataSize: 256,
    maxSigSize: 256,
    maxEncSize: 256,
    maxDecSize: 256,
  };
  const need = (serial: number) => {
    const k = keys.get(serial);
    if (k === undefined) throw typed(new InvalidKeyError(`key ${serial}: no such key (ENOKEY)`), 'ENOKEY');
    if ((k.perm & 0x00080000) === 0)
      throw typed(new InvalidKeyError(`key ${serial}: permission denied (EACCES)`), 'EACCES');
    return k;
  };
  const kc: KeyctlCalls = {
    addKey(_type, description, payload, keyring) {
      const isPrivate = payload[4] === 0x02 && payload[5] === 0x01 && payload[6] === 0x00; // PKCS#8 version 0
      calls.push(`add ${isPrivate ? 'pkcs8' : 'x509'} ${description}`);
      if (isPrivate && options.pkcs8 === 'EBADMSG')
        throw typed(new UnsupportedError('add_key: no parser accepted the payload (EBADMSG)'), 'EBADMSG');
      keys.set(++next, { description, private: isPrivate, perm: 0x3f010000, keyring });
      return next;
    },
    keyringId: (keyring) => keyring,
    search(_keyring, _type, description) {
      for (const [serial, k] of keys) if (k.description === description) return need(serial) && serial;
      throw typed(new InvalidKeyError(`search "${description}": no such key (ENOKEY)`), 'ENOKEY');
    },
    describe: (serial) => ({
      type: 'asymmetric',
      uid: 0,
      gid: 0,
      perm: keys.get(serial)!.perm,
      description: '',
    }),
    setPerm(serial, perm) {
      keys.get(serial)!.perm = perm;
    },
    invalidate(serial) {
      calls.push(`invalidate ${serial}`);
      keys.delete(serial);
    },
    capabilities() {
      if (options.capabilities === 'EPERM')
        throw typed(new UnsupportedError('keyctl capabilities: not permitted (EPERM from keyctl)'), 'EPERM');
      return { publicKey: true };
    },
    query(serial) {
      const k = keys.get(serial)!;
      return { ...query, supportedOps: k.private ? 0x0f : 0x09 };
    },
    async encrypt(serial, _info, input) {
      need(serial);
      return publicEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, input);
    },
    async decrypt(serial, _info, input) {
      need(serial);
      return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, input);
    },
    async sign(serial, info) {
      need(serial);
      calls.push(`sign ${serial} ${info}`);
      if (options.refuseSign?.includes(info))
        throw typed(new UnsupportedError(`sign: the kernel lacks the algorithm (ENOPKG)`), 'ENOPKG');
      return new Uint8Array(256).fill(1);
    },
    async verify(serial) {
      need(serial);
      return true;
    },
  };
  return { kc, keys, calls };
}

async function open(options: FakeOptions = {}) {
  const kernel = fakeKernel(options);
  const device = new KeyringDevice({
    id: 'keyring',
    keyring: '@u',
    importTo: 'process',
    depth: 8,
    keyctl: kernel.kc,
  });
  await device.start();
  return { device, ...kernel };
}

async function run(device: KeyringDevice, request: PrimitiveRequest): Promise<Completion> {
  const qp = device.queuePairs[0]!;
  expect(qp.submit([{ tag: 3, request }])).toBe(1);
  await qp.waitForCompletions(AbortSignal.timeout(5000));
  let out: Completion | undefined;
  qp.harvest((c) => {
    out = c;
  });
  return out!;
}

const sha = (hash: 'SHA-256' | 'SHA-384') =>
  ({
    op: 'rsa-sign',
    key: material,
    padding: { scheme: 'pkcs1-v1_5', hash },
    digest: new Uint8Array(hash === 'SHA-256' ? 32 : 48),
  }) as const;

describe('keyring device on a scripted kernel', () => {
  it('open: probes with the probe key, invalidates it, offers private operations when PKCS#8 is parsed', async () => {
    const { device, calls, keys } = await open();
    expect(calls.filter((c) => c.startsWith('add'))).toEqual([
      expect.stringMatching(/^add x509 pkaccel:\d+:probe:/),
      expect.stringMatching(/^add pkcs8 pkaccel:\d+:probe:/),
    ]);
    expect(keys.size).toBe(0); // both probe keys invalidated
    expect(device.limits).toEqual([]);
    const ops = device.capabilities.map((c) => c.op);
    expect(ops).toEqual(expect.arrayContaining(['rsa-public', 'rsa-verify', 'rsa-private', 'rsa-sign']));
    const signCap = device.capabilities.find((c) => c.op === 'rsa-sign')!;
    expect(signCap.keyStorage).toEqual(['inline', 'held']);
  });

  it('a kernel without the PKCS#8 parser: says so, offers public-key operations only', async () => {
    const { device } = await open({ pkcs8: 'EBADMSG' });
    expect(device.limits.join()).toMatch(/no PKCS#8 private-key parser.*EBADMSG/);
    expect(device.info.model).toContain('public-key operations only');
    expect(device.capabilities.map((c) => c.op).sort()).toEqual(['ecdsa-verify', 'rsa-public', 'rsa-verify']);
    const c = await run(device, sha('SHA-256'));
    expect(c.ok).toBe(false);
  });

  it('keyctl forbidden (seccomp EPERM): open fails naming it', async () => {
    await expect(open({ capabilities: 'EPERM' })).rejects.toThrow(/keyring: .*EPERM/);
  });

  it('a combination the kernel refuses at run time is dropped, with one capabilities event', async () => {
    const { device } = await open({ refuseSign: ['enc=pkcs1 hash=sha384'] });
    const events: DeviceEvent[] = [];
    device.subscribe((e) => events.push(e));
    expect((await run(device, sha('SHA-256'))).ok).toBe(true);
    const refused = await run(device, sha('SHA-384'));
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error).toBeInstanceOf(UnsupportedError);
    expect(events).toEqual([{ type: 'capabilities' }]);
    expect(device.capabilities.find((c) => c.op === 'rsa-sign')!.hashes).toEqual([
      'SHA-1',
      'SHA-256',
      'SHA-512',
    ]);
    expect(device.refused.get('rsa-sign SHA-384')).toMatch(/ENOPKG/);
    // Asked again, it refuses at once without a kernel call, and no second event.
    expect((await run(device, sha('SHA-384'))).ok).toBe(false);
    expect(events.length).toBe(1);
  });

  it('an inline private key is added once (use-only permissions) and invalidated on close', async () => {
    const { device, calls, keys } = await open();
    await run(device, sha('SHA-256'));
    await run(device, sha('SHA-256'));
    const added = calls.filter((c) => /^add pkcs8 pkaccel:\d+:key:/.test(c));
    expect(added.length).toBe(1);
    const [serial, k] = [...keys.entries()][0]!;
    expect(k.perm & 0x06060606).toBe(0); // nobody may read or write it
    await device.close();
    expect(calls).toContain(`invalidate ${serial}`);
    expect(keys.size).toBe(0);
  });

  it('a permission error passes through as InvalidKeyError, the capabilities unchanged', async () => {
    const { device, keys } = await open();
    const held = await device.keyStore.importKey(material);
    keys.get(Number(held.held!.handle))!.perm = 0x01010000; // view only
    const before = device.capabilities;
    const c = await run(device, { ...sha('SHA-256'), key: held as RsaPrivateKeyMaterial });
    expect(c.ok).toBe(false);
    if (!c.ok) {
      expect(c.error).toBeInstanceOf(InvalidKeyError);
      expect(c.error.message).toMatch(/EACCES/);
    }
    expect(device.capabilities).toBe(before);
  });

  it('key store: import keeps the serial and no secret; destroy invalidates; open by description recovers n and e', async () => {
    const { device, keys, calls } = await open();
    const held = (await device.keyStore.importKey(material)) as RsaPrivateKeyMaterial;
    expect(held.held).toEqual({ device: 'keyring', handle: expect.stringMatching(/^\d+$/) });
    expect([held.d, held.p, held.q, held.dp, held.dq, held.qi]).toEqual([0n, 0n, 0n, 0n, 0n, 0n]);
    expect(held.publicKey.n).toBe(material.n);
    const signed = await run(device, { ...sha('SHA-256'), key: held });
    expect(signed.ok).toBe(true);
    expect(calls).toContain(`sign ${held.held!.handle} enc=pkcs1 hash=sha256`);

    const description = keys.get(Number(held.held!.handle))!.description;
    const opened = (await device.keyStore.openKey(description)) as RsaPrivateKeyMaterial;
    expect(opened.publicKey.n).toBe(material.n);
    expect(opened.publicKey.e).toBe(material.e);
    expect(opened.d).toBe(0n);

    await device.keyStore.destroyKey(held);
    expect(held.held!.destroyed).toBe(true);
    expect(keys.has(Number(held.held!.handle))).toBe(false);
    const after = await run(device, { ...sha('SHA-256'), key: held });
    expect(after.ok).toBe(false);
    if (!after.ok) expect(after.error).toBeInstanceOf(InvalidKeyError);
    await expect(device.keyStore.openKey('no such key')).rejects.toBeInstanceOf(InvalidKeyError);
  });
});
