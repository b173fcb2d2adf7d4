/**
 * Signatures whose value starts with zero bytes (issue 11 follow-up: a vfio boot
 * once got a wrong 1024-bit SHA-512 signature from QEMU's device). QEMU 7.2 hands
 * such a signature back truncated (its leading zeros, its last byte lost); the
 * spec allows the minimal encoding. On sim:virtio both profiles do what their
 * device does, and every result is compared with node:crypto at the queue-pair
 * level, below the integrity gate; the keys and messages are the guest's
 * (test/e2e/guest/leading-zero.ts).
 */

import { createHash, createPrivateKey, type KeyObject, sign as nodeSign } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openAccelerator } from '../../../core/api/index.js';
import type { RsaPrivateKeyMaterial } from '../../../core/driver/index.js';
import { emsaPkcs1v15Encode } from '../../../core/encoding/emsa-pkcs1v15.js';
import { paddedSignatureHolds } from '../../../core/integrity/rsa.js';
import { Registry } from '../../../core/registry/registry.js';
import { softwareDriver } from '../../../drivers/software/index.js';
import { virtioCryptoDriver } from '../../../drivers/virtio-crypto/index.js';
import { completeShortOutput } from '../../../drivers/virtio-crypto/short-output.js';
import { LEADING_ZERO_CASES, LEADING_ZERO_KEYS, type LeadingZeroCase } from '../../e2e/guest/leading-zero.js';
import { jwkOf, rsaMaterialFromJwk } from '../../support/keys.js';
import { closeAfterEach, platform } from '../../support/sim.js';
import { openVirtio, runOne } from './helpers.js';

/** Every short output the driver completes, as the device wrote it. */
const shortOutputs: Uint8Array[] = [];
vi.mock('../../../drivers/virtio-crypto/short-output.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../drivers/virtio-crypto/short-output.js')>();
  return {
    ...original,
    completeShortOutput: (...args: Parameters<typeof original.completeShortOutput>) => {
      shortOutputs.push(Uint8Array.from(args[0]));
      return original.completeShortOutput(...args);
    },
  };
});
afterEach(() => {
  shortOutputs.length = 0;
});

interface Fixture {
  readonly key: KeyObject;
  readonly material: RsaPrivateKeyMaterial;
  readonly want: Buffer;
  readonly digest: Uint8Array;
}

function fixture(c: LeadingZeroCase): Fixture {
  const key = createPrivateKey(LEADING_ZERO_KEYS[c.bits]);
  const nodeHash = c.hash.replace('-', '').toLowerCase();
  const want = nodeSign(nodeHash, Buffer.from(c.message), key);
  // The fixture must still give what it promises, or the test would lose its point quietly.
  if (want.subarray(0, c.zeros + 1).filter((b) => b === 0).length !== c.zeros)
    throw new Error(`fixture: "${c.message}" no longer signs with ${c.zeros} leading zero byte(s)`);
  const digest = createHash(nodeHash).update(c.message).digest();
  return { key, material: rsaMaterialFromJwk(jwkOf(key)), want, digest };
}

function signOn(qp: Awaited<ReturnType<typeof openVirtio>>['qp'], c: LeadingZeroCase, f: Fixture) {
  return runOne(qp, {
    op: 'rsa-sign',
    key: f.material,
    padding: { scheme: 'pkcs1-v1_5', hash: c.hash },
    digest: f.digest,
  });
}

const oneZero = LEADING_ZERO_CASES.filter((c) => c.zeros === 1);
const twoZeros = LEADING_ZERO_CASES.find((c) => c.zeros === 2)!;

describe('QEMU 7.2 profile: a signature with a leading zero byte comes back truncated', () => {
  it.each(oneZero.map((c) => [`${c.bits}/${c.hash}`, c] as const))(
    '%s: the lost last byte is found with the public key, and the value equals node',
    async (_, c) => {
      const card = closeAfterEach(await openVirtio('profile=qemu-7.2'));
      const f = fixture(c);
      const done = await signOn(card.qp, c, f);
      // What the model wrote: QEMU's copy of the front of its buffer — the zero, then all but the last byte.
      expect(shortOutputs).toHaveLength(1);
      expect(Buffer.from(shortOutputs[0]!)).toEqual(f.want.subarray(0, f.want.length - 1));
      expect(done.ok && Buffer.from(done.value as Uint8Array)).toEqual(f.want);
    },
  );

  it('two lost bytes are unsupported for this value (a limit, not a fault), never a wrong value', async () => {
    const card = closeAfterEach(await openVirtio('profile=qemu-7.2'));
    const f = fixture(twoZeros);
    const done = await signOn(card.qp, twoZeros, f);
    expect(Buffer.from(shortOutputs[0]!)).toEqual(f.want.subarray(0, f.want.length - 2));
    expect(done).toMatchObject({ ok: false, error: { code: 'unsupported', message: /last 2 bytes lost/ } });
    // Only this value: the capability stays.
    expect(card.device.capabilities.find((x) => x.op === 'rsa-sign')?.hashes).toContain('SHA-512');
  });
});

describe('spec profile: the minimal encoding', () => {
  it.each(LEADING_ZERO_CASES.map((c) => [`${c.bits}/${c.hash} ${c.zeros}×00`, c] as const))(
    '%s: left-padded to the modulus, equal to node',
    async (_, c) => {
      const card = closeAfterEach(await openVirtio());
      const f = fixture(c);
      const done = await signOn(card.qp, c, f);
      expect(Buffer.from(shortOutputs[0]!)).toEqual(f.want.subarray(c.zeros));
      expect(done.ok && Buffer.from(done.value as Uint8Array)).toEqual(f.want);
    },
  );
});

describe('completeShortOutput', () => {
  const c = oneZero[0]!;
  const f = fixture(c);
  const k = f.want.length;
  const opening = {
    key: f.material.publicKey,
    expected: () => emsaPkcs1v15Encode(c.hash, f.digest, k),
  };

  it('completes QEMU shape where left-padding (the old decoding) gave the value shifted by a byte', () => {
    const truncated = f.want.subarray(0, k - 1);
    const leftPadded = Buffer.concat([Buffer.alloc(1), truncated]);
    expect(leftPadded).not.toEqual(f.want);
    expect(Buffer.from(completeShortOutput(truncated, k, opening) as Uint8Array)).toEqual(f.want);
  });

  it('the integrity gate withholds both wrong forms the old decoding could release', () => {
    const padding = { scheme: 'pkcs1-v1_5', hash: c.hash } as const;
    const truncated = f.want.subarray(0, k - 1);
    const holds = (s: Uint8Array) => paddedSignatureHolds(f.material.publicKey, padding, f.digest, s);
    expect(holds(f.want)).toBe(true);
    expect(holds(Buffer.concat([Buffer.alloc(1), truncated]))).toBe(false);
    expect(holds(truncated)).toBe(false);
  });

  it('refuses what it cannot prove, and says whether that is a fault', () => {
    const truncated = Uint8Array.from(f.want.subarray(0, k - 1));
    expect(completeShortOutput(truncated, k, undefined)).toEqual({
      fault: false,
      reason: expect.stringMatching(/nothing can check/),
    });
    const wrong = Uint8Array.from(truncated);
    wrong[5]! ^= 1;
    expect(completeShortOutput(wrong, k, opening)).toEqual({
      fault: true,
      reason: expect.stringMatching(/no value of its lost last byte/),
    });
    // One zero byte in front of a value two bytes short: neither shape.
    expect(completeShortOutput(f.want.subarray(0, k - 2), k, opening)).toMatchObject({ fault: true });
    // All zeros: the value 0 where 0 is right, a fault where the request must open to something else.
    expect(completeShortOutput(new Uint8Array(1), k, undefined)).toEqual(new Uint8Array(k));
    expect(completeShortOutput(new Uint8Array(3), k, opening)).toMatchObject({ fault: false });
    expect(completeShortOutput(new Uint8Array(k - 3), k, opening)).toMatchObject({ fault: true });
  });
});

describe('through openAccelerator (the job queue and its integrity gate)', () => {
  const registry = new Registry();
  registry.registerPlatform(platform);
  registry.registerDriver(virtioCryptoDriver);
  registry.registerDriver(softwareDriver);

  async function subtleSign(devices: string[], c: LeadingZeroCase): Promise<Buffer> {
    const accel = closeAfterEach(await openAccelerator({ devices, registry }));
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: c.hash } as const;
    const pkcs8 = createPrivateKey(LEADING_ZERO_KEYS[c.bits]).export({ format: 'der', type: 'pkcs8' });
    const key = await accel.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    return Buffer.from(await accel.subtle.sign(algorithm, key, new TextEncoder().encode(c.message)));
  }

  it('a QEMU 7.2 card alone signs a leading-zero case right (the gate withheld it before: no retry could help)', async () => {
    const c = oneZero[0]!;
    expect(await subtleSign(['sim:virtio?mode=inline&profile=qemu-7.2'], c)).toEqual(fixture(c).want);
    expect(shortOutputs).toHaveLength(1);
  });

  it('two lost bytes: an error on the card alone, the right signature with software beside it', async () => {
    const alone = await subtleSign(['sim:virtio?mode=inline&profile=qemu-7.2'], twoZeros).catch((e) => e);
    expect(alone).toMatchObject({ cause: { code: 'unsupported', message: /last 2 bytes lost/ } });
    const tried = shortOutputs.length;
    const sig = await subtleSign(['sim:virtio?mode=inline&profile=qemu-7.2', 'software'], twoZeros);
    expect(sig).toEqual(fixture(twoZeros).want);
    // The card had it first (its truncated output was seen again); software did it after the retry.
    expect(shortOutputs.length).toBeGreaterThan(tried);
  });
});
