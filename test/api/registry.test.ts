/**
 * Third-party drivers register through the package entry's public API and are
 * matched like built-ins: a device of a higher-priority driver is chosen for
 * what it offers, and the software device for what it lacks.
 */

import { createPublicKey, diffieHellman, generateKeyPairSync, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { PrimitiveRequest, PrimitiveValue } from '../../index.js';
import { openAccelerator, registerDriver, UnsupportedError } from '../../index.js';
import { fakeDriver } from '../support/fake-device.js';
import { x25519ByNode } from '../support/keys.js';

/** The third-party card: X25519 only, computed with OpenSSL from the material it is handed. */
function x25519(request: PrimitiveRequest): PrimitiveValue {
  if (request.op !== 'x25519') throw new UnsupportedError(`acme card cannot do ${request.op}`);
  return x25519ByNode(request.key, request.peer);
}

const unregister: (() => void)[] = [];
afterEach(() => {
  for (const u of unregister.splice(0)) u();
});

async function openWith(priority: number, devices = ['acme', 'software']) {
  const { driver, log } = fakeDriver({
    name: 'acme-x25519',
    scheme: 'acme',
    priority,
    capabilities: [{ op: 'x25519', okpCurves: ['X25519'] }],
    compute: x25519,
  });
  unregister.push(registerDriver(driver));
  const accel = await openAccelerator({ devices });
  return { accel, log };
}

async function agreeAndSign(accel: Awaited<ReturnType<typeof openAccelerator>>) {
  const s = accel.subtle;
  const own = (await s.generateKey('X25519', false, ['deriveBits'])) as {
    privateKey: unknown;
    publicKey: unknown;
  };
  const peer = generateKeyPairSync('x25519');
  const peerKey = await s.importKey(
    'spki',
    peer.publicKey.export({ format: 'der', type: 'spki' }),
    'X25519',
    true,
    [],
  );
  const bits = new Uint8Array(
    await s.deriveBits({ name: 'X25519', public: peerKey }, own.privateKey as never, 256),
  );
  const ownPublic = createPublicKey({
    key: Buffer.from((await s.exportKey('spki', own.publicKey as never)) as ArrayBuffer),
    format: 'der',
    type: 'spki',
  });
  expect(Buffer.from(bits)).toEqual(diffieHellman({ privateKey: peer.privateKey, publicKey: ownPublic }));
  const ed = (await s.generateKey('Ed25519', true, ['sign', 'verify'])) as {
    privateKey: unknown;
    publicKey: unknown;
  };
  const signature = await s.sign('Ed25519', ed.privateKey as never, new Uint8Array([1, 2, 3]));
  const edPublic = Buffer.from((await s.exportKey('spki', ed.publicKey as never)) as ArrayBuffer);
  expect(
    verify(
      null,
      Buffer.from([1, 2, 3]),
      createPublicKey({ key: edPublic, format: 'der', type: 'spki' }),
      Buffer.from(signature),
    ),
  ).toBe(true);
}

describe('third-party driver registration', () => {
  it('a higher-priority third-party device gets what it offers; software does the rest', async () => {
    const { accel, log } = await openWith(1000);
    try {
      expect(accel.devices.map((d) => d.driver)).toEqual(['acme-x25519', 'software']);
      expect(accel.devices[0]).toMatchObject({ id: 'acme', model: 'acme-x25519 test card', state: 'ready' });
      await agreeAndSign(accel);
      // X25519 ran on the card; keygen and Ed25519 (which it lacks) did not reach it.
      expect(log.ops).toEqual(['x25519']);
    } finally {
      await accel.close();
    }
    expect(accel.devices[0]!.state).toBe('closed');
  });

  it('between two third-party devices offering the same operation, the higher priority wins', async () => {
    const low = fakeDriver({
      name: 'lowly-x25519',
      scheme: 'lowly',
      priority: 10,
      capabilities: [{ op: 'x25519', okpCurves: ['X25519'] }],
      compute: x25519,
    });
    unregister.push(registerDriver(low.driver));
    const { accel, log } = await openWith(1000, ['lowly', 'acme', 'software']);
    try {
      await agreeAndSign(accel);
      expect(log.ops).toEqual(['x25519']);
      expect(low.log.ops).toEqual([]);
    } finally {
      await accel.close();
    }
  });

  it('an unregistered driver is no longer found', async () => {
    const { driver } = fakeDriver({
      name: 'gone',
      scheme: 'gone',
      priority: 1,
      capabilities: [],
      compute: x25519,
    });
    registerDriver(driver)();
    await expect(openAccelerator({ devices: ['gone'] })).rejects.toThrow(/no driver or platform handles/);
  });
});
