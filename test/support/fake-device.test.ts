/**
 * The fake device's own behaviours that other tests rely on: correct answers
 * (checked with node:crypto), the corrupt fault, fakeDriver's log, nullDevice.
 */

import { publicDecrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Completion, PrimitiveRequest } from '../../core/driver/index.js';
import { parseDeviceSpec } from '../../core/platform/index.js';
import { ecKey, rsaKey } from '../drivers/software/helpers.js';
import { correctValue, expectedValue, FakeDevice, fakeDriver, nullDevice, request } from './fake-device.js';

function runNow(device: FakeDevice, requests: readonly PrimitiveRequest[]): Completion[] {
  const qp = device.queuePairs[0]!;
  qp.submit(requests.map((r, tag) => ({ tag, request: r })));
  const out: Completion[] = [];
  qp.harvest((c) => out.push(c));
  return out.sort((a, b) => a.tag - b.tag);
}

const rsa = rsaKey(2048);
const ec = ecKey('P-256');
const digest = new Uint8Array(32).fill(7);
const signRsa: PrimitiveRequest = {
  op: 'rsa-sign',
  key: rsa.material,
  padding: { scheme: 'pkcs1-v1_5', hash: 'SHA-256' },
  digest,
};
const signEc: PrimitiveRequest = { op: 'ecdsa-sign', key: ec.material, digest };

describe('FakeDevice', () => {
  it('answers with correctValue what node:crypto verifies, and corrupts exactly when told', () => {
    const right = new FakeDevice({ compute: correctValue, ops: ['rsa-sign', 'ecdsa-sign'] });
    const wrong = new FakeDevice({ compute: correctValue, qp: { behave: () => 'corrupt' } });
    const [rsaOk, ecOk] = runNow(right, [signRsa, signEc]);
    const [rsaBad, ecBad] = runNow(wrong, [signRsa, signEc]);
    const bytes = (c: Completion | undefined): Uint8Array => {
      if (!c?.ok || !(c.value instanceof Uint8Array)) throw new Error('expected an ok byte result');
      return c.value;
    };
    // RSA: node opens the signature with the public key and finds DigestInfo ‖ digest.
    const opened = (c: Completion | undefined) => publicDecrypt(rsa.publicKey, bytes(c));
    const encoded = Buffer.concat([DIGEST_INFO_SHA256, digest]);
    expect(opened(rsaOk).equals(encoded)).toBe(true);
    const badOpens = (() => {
      try {
        return opened(rsaBad).equals(encoded);
      } catch {
        return false; // the padding check failed
      }
    })();
    expect(badOpens).toBe(false);
    // ECDSA over the digest: verified as a (r, s) pair against the public point.
    const ecVerdict = (c: Completion | undefined) =>
      correctValue({ op: 'ecdsa-verify', key: ec.material.publicKey, digest, signature: bytes(c) });
    expect(ecVerdict(ecOk)).toBe(true);
    expect(ecVerdict(ecBad)).toBe(false);
    expect(right.log.ops).toEqual(['rsa-sign', 'ecdsa-sign']);
  });

  it('defaults to the XOR fake and turns a throw of compute into an error completion', () => {
    const [ok] = runNow(new FakeDevice(), [request(3)]);
    expect(ok).toEqual({ tag: 0, ok: true, value: expectedValue(request(3)) });
    const [failed] = runNow(new FakeDevice(), [signEc]);
    expect(failed?.ok).toBe(false);
    expect(!failed?.ok && failed?.error.code).toBe('device-error');
  });
});

describe('fakeDriver and nullDevice', () => {
  it('opens FakeDevices named by the spec that share one log', async () => {
    const { driver, log } = fakeDriver({
      name: 'acme',
      scheme: 'acme',
      priority: 5,
      capabilities: [{ op: 'rsa-public' }],
      compute: expectedValue,
    });
    const device = (await driver.open(parseDeviceSpec('acme?x=1'))) as FakeDevice;
    expect(device.info).toMatchObject({ id: 'acme?x=1', driver: 'acme', priority: 5 });
    runNow(device, [request(1), request(2)]);
    expect(log.ops).toEqual(['rsa-public', 'rsa-public']);
  });

  it('nullDevice completes every job at once with its value, up to its depth', () => {
    const value = new Uint8Array([1, 2, 3]);
    const device = nullDevice(value, { depth: 4 });
    const qp = device.queuePairs[0]!;
    expect(qp.submit(Array.from({ length: 6 }, (_, tag) => ({ tag, request: request(tag) })))).toBe(4);
    const tags: number[] = [];
    qp.harvest((c) => {
      expect(c.ok && c.value).toBe(value);
      tags.push(c.tag);
    });
    expect(tags).toEqual([0, 1, 2, 3]);
    expect(qp.inFlight).toBe(0);
  });
});

/** DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1), written out so the check is independent of core/encoding. */
const DIGEST_INFO_SHA256 = Buffer.from('3031300d060960864801650304020105000420', 'hex');
