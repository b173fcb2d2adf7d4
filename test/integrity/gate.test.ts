/**
 * The integrity gate on its own (core/integrity): every check withholds a wrong
 * value and passes a right one. The same assertions the algorithms layer's
 * RSA-CRT fault-check tests made, now where the check lives.
 */
import { constants, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, bytesToBigint } from '../../core/driver/bytes.js';
import { CURVES } from '../../core/driver/curves.js';
import type { PrimitiveRequest, PrimitiveValue } from '../../core/driver/primitives.js';
import { digest } from '../../core/encoding/digest.js';
import { emsaPkcs1v15Encode } from '../../core/encoding/emsa-pkcs1v15.js';
import { type GateRunner, IntegrityGate, jacobi, xCoordinateHolds } from '../../core/integrity/index.js';
import { ecMultiply } from '../../core/math/ec.js';
import { modPow } from '../../core/math/modular.js';
import { newEcKey, newRsaKey } from '../support/keys.js';

const rsa = newRsaKey(2048);
const ec = newEcKey('P-256');
const job = { deadline: Number.POSITIVE_INFINITY, signal: undefined };

function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** A runner whose re-verification answers with the host's verdict (or a fixed one). */
function runner(verdict?: boolean): GateRunner & { ran: PrimitiveRequest[] } {
  const ran: PrimitiveRequest[] = [];
  return {
    ran,
    covers: () => true,
    runOn: async (_device, request) => {
      ran.push(request);
      if (verdict !== undefined) return verdict;
      const gate = new IntegrityGate(
        { verifyCheck: 'all' },
        { covers: () => false, runOn: async () => false },
      );
      // A verdict the host re-checks: true passes only if it is right.
      return gate.check('host', job, request, true, undefined) === undefined;
    },
  };
}

async function outcome(
  gate: IntegrityGate,
  request: PrimitiveRequest,
  value: PrimitiveValue,
  witness?: never,
) {
  return await gate.check('card', job, request, value, witness);
}

describe('RSA results are opened with the public key', () => {
  const gate = new IntegrityGate(undefined, runner());
  const key = rsa.material;
  const input = new Uint8Array(256).fill(3, 1);
  const s = bigintToBytes(modPow(bytesToBigint(input), key.d, key.n), 256);

  it('a right raw private result passes; a corrupted one is withheld, whatever bit', async () => {
    const request = { op: 'rsa-private', key, input } as const;
    expect(await outcome(gate, request, s)).toBeUndefined();
    for (const bit of [0, 77, 1000, 2047]) {
      const failure = await outcome(gate, request, flip(s, bit));
      expect(failure?.reason).toMatch(/does not open/);
    }
    expect(await outcome(gate, request, s.subarray(1))).toBeDefined();
    expect(await outcome(gate, request, bigintToBytes(key.n, 256))).toBeDefined();
  });

  it('a device-padded PKCS#1 v1.5 or PSS signature must open to the encoding of its digest', async () => {
    const msg = new Uint8Array([42]);
    const mHash = digest('SHA-256', msg);
    for (const padding of [
      { scheme: 'pkcs1-v1_5', hash: 'SHA-256' },
      { scheme: 'pss', hash: 'SHA-256', mgfHash: 'SHA-256', saltLength: 32 },
    ] as const) {
      const signature = new Uint8Array(
        sign('sha256', msg, {
          key: rsa.privateKey,
          ...(padding.scheme === 'pss'
            ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
            : { padding: constants.RSA_PKCS1_PADDING }),
        }),
      );
      const request = { op: 'rsa-sign', key, padding, digest: mHash } as const;
      expect(await outcome(gate, request, signature)).toBeUndefined();
      expect(await outcome(gate, request, flip(signature, 3))).toBeDefined();
      expect(
        await outcome(gate, { ...request, digest: digest('SHA-256', new Uint8Array([43])) }, signature),
      ).toBeDefined();
    }
  });

  it('a device-OAEP plaintext longer than the key allows is withheld', async () => {
    const padding = { scheme: 'oaep', hash: 'SHA-256', mgfHash: 'SHA-256', label: new Uint8Array() } as const;
    const request = { op: 'rsa-decrypt', key, padding, input: new Uint8Array(256) } as const;
    expect(await outcome(gate, request, new Uint8Array(190))).toBeUndefined();
    expect(await outcome(gate, request, new Uint8Array(191))).toBeDefined();
  });

  it('an RSA verdict against its witness, and without one against the host', async () => {
    const mHash = digest('SHA-256', new Uint8Array([1]));
    const padding = { scheme: 'pkcs1-v1_5', hash: 'SHA-256' } as const;
    const em = emsaPkcs1v15Encode('SHA-256', mHash, 256);
    const signature = bigintToBytes(modPow(bytesToBigint(em), key.d, key.n), 256);
    const request = { op: 'rsa-verify', key: key.publicKey, padding, digest: mHash, signature } as const;
    const withWitness = (verdict: boolean, opened: Uint8Array) =>
      gate.check('card', job, request, verdict, { kind: 'rsa-verify', opened });
    expect(withWitness(true, em)).toBeUndefined();
    expect(withWitness(false, em)).toBeDefined();
    expect(withWitness(true, flip(em, 100))).toBeDefined();
    expect(withWitness(false, flip(em, 100))).toBeUndefined();
    expect(gate.check('card', job, request, true, undefined)).toBeUndefined();
    expect(gate.check('card', job, request, false, undefined)).toBeDefined();
    const forged = { ...request, signature: flip(signature, 9) };
    expect(gate.check('card', job, forged, true, undefined)).toBeDefined();
  });
});

describe('elliptic-curve results', () => {
  const curve = CURVES['P-256'];
  const gate = new IntegrityGate(undefined, runner());

  it('an ec-mul point off the curve is withheld; k·G passes', async () => {
    const request = { op: 'ec-mul', curve: 'P-256', scalar: 5n } as const;
    const P = ecMultiply(curve, 5n)!;
    expect(await outcome(gate, request, P)).toBeUndefined();
    expect(await outcome(gate, request, { x: 1n, y: 1n })).toBeDefined();
    expect(await outcome(gate, request, { x: P.x ^ 1n, y: P.y })).toBeDefined();
    expect(await outcome(gate, request, { x: P.x + curve.p, y: P.y })).toBeDefined();
  });

  it('ECDH: with the y witness the point must be on the curve; x only, x must be that of a point', () => {
    const request = { op: 'ecdh', key: ec.material, peer: ec.material.publicKey } as const;
    const S = ecMultiply(curve, ec.material.d, { x: ec.material.publicKey.x, y: ec.material.publicKey.y })!;
    const x = bigintToBytes(S.x, 32);
    expect(gate.check('card', job, request, x, { kind: 'ecdh-point', y: S.y })).toBeUndefined();
    expect(gate.check('card', job, request, flip(x, 200), { kind: 'ecdh-point', y: S.y })).toBeDefined();
    expect(gate.check('card', job, request, x, { kind: 'ecdh-point', y: S.y ^ 4n })).toBeDefined();
    expect(gate.check('card', job, request, x, undefined)).toBeUndefined();
    // x only: about half of all x values have no point; those are caught.
    let caught = 0;
    for (let bit = 0; bit < 64; bit++)
      if (gate.check('card', job, request, flip(x, bit), undefined)) caught++;
    expect(caught).toBeGreaterThan(10);
    expect(caught).toBeLessThan(54);
  });

  it('the Jacobi symbol agrees with Euler’s criterion', () => {
    for (let i = 1n; i < 200n; i++) {
      const euler = modPow(i, (curve.p - 1n) / 2n, curve.p);
      expect(jacobi(i, curve.p)).toBe(euler === 1n ? 1 : -1);
    }
    expect(xCoordinateHolds(curve, curve.gx)).toBe(true);
    expect(xCoordinateHolds(curve, curve.p)).toBe(false);
  });

  const msg = new Uint8Array([7, 7]);
  const e = digest('SHA-256', msg);
  const good = new Uint8Array(sign('sha256', msg, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }));
  const signRequest = {
    op: 'ecdsa-sign',
    key: ec.material,
    digest: e,
    message: { hash: 'SHA-256', data: msg },
  } as const;

  it('ECDSA signatures: signCheck all verifies on the host (with and without the message)', async () => {
    const all = new IntegrityGate({ signCheck: 'all' }, runner());
    expect(await outcome(all, signRequest, good)).toBeUndefined();
    for (const bit of [0, 255, 256, 511])
      expect(await outcome(all, signRequest, flip(good, bit))).toBeDefined();
    const { message: _, ...bare } = signRequest;
    expect(await outcome(all, bare, good)).toBeUndefined();
    expect(await outcome(all, bare, flip(good, 300))).toBeDefined();
    expect(await outcome(all, signRequest, new Uint8Array(64))).toBeDefined();
  });

  it('ECDSA signatures: signCheck device re-verifies on the signing device', async () => {
    const r = runner();
    const device = new IntegrityGate(undefined, r);
    expect(await outcome(device, signRequest, good)).toBeUndefined();
    expect(r.ran).toHaveLength(1);
    expect(r.ran[0]!.op).toBe('ecdsa-verify');
    expect(await outcome(device, signRequest, flip(good, 77))).toBeDefined();
    // A device whose verification says false for its own signature: withheld.
    expect(await outcome(new IntegrityGate(undefined, runner(false)), signRequest, good)).toBeDefined();
    // A device that cannot verify: the host verifies instead.
    const none = new IntegrityGate(undefined, { covers: () => false, runOn: async () => true });
    expect(await outcome(none, signRequest, flip(good, 77))).toBeDefined();
  });

  it('ECDSA signatures of a reference device are not redone, but must be in range', async () => {
    const reference = new IntegrityGate({ signCheck: 'all' }, runner());
    reference.addDevice('card', true);
    expect(await outcome(reference, signRequest, flip(good, 300))).toBeUndefined();
    expect(await outcome(reference, signRequest, new Uint8Array(64))).toBeDefined();
  });

  it('ECDSA verdicts: a witness decides; a forged signature never passes as true', async () => {
    const request = { op: 'ecdsa-verify', key: ec.material.publicKey, digest: e, signature: good } as const;
    const r = bytesToBigint(good.subarray(0, 32));
    const check = (verdict: boolean, x: bigint | null) =>
      gate.check('card', job, request, verdict, {
        kind: 'ecdsa-verify',
        x: x === null ? null : bigintToBytes(x, 32),
      });
    expect(check(true, r)).toBeUndefined();
    expect(check(false, r)).toBeDefined();
    expect(check(true, r + 1n)).toBeDefined();
    expect(check(true, null)).toBeDefined();
    expect(check(false, r + 1n)).toBeUndefined();
    // Without a witness the host decides (the default verifyCheck for a verdict-only device).
    const plain = new IntegrityGate(undefined, runner());
    for (let i = 0; i < 20; i++) {
      const forged = new Uint8Array(64);
      forged.set(bigintToBytes(BigInt(i + 1) * 0x1234567n, 32), 0);
      forged.set(bigintToBytes(BigInt(i + 7) * 0x7654321n, 32), 32);
      expect(plain.check('card', job, { ...request, signature: forged }, true, undefined)).toBeDefined();
      expect(plain.check('card', job, { ...request, signature: forged }, false, undefined)).toBeUndefined();
    }
    expect(
      new IntegrityGate({ verifyCheck: 'trust' }, runner()).check('card', job, request, false, undefined),
    ).toBeUndefined();
  });

  it('verifyCheck sample: a mismatch asks for the device to leave service', () => {
    const sampling = new IntegrityGate({ verifyCheck: 'sample', sampleRate: 1 }, runner());
    const request = { op: 'ecdsa-verify', key: ec.material.publicKey, digest: e, signature: good } as const;
    const failure = sampling.check('card', job, request, false, undefined);
    expect(failure).toMatchObject({ outOfService: true });
  });
});

describe('signCheck sample', () => {
  it('a wrong sampled signature asks for the device to leave service; unsampled ones pass unchecked', async () => {
    const msg = new Uint8Array([1, 2]);
    const request = { op: 'ecdsa-sign', key: ec.material, digest: digest('SHA-256', msg) } as const;
    const good = new Uint8Array(sign('sha256', msg, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }));
    const bad = Uint8Array.from(good);
    bad[40]! ^= 1;
    const always = new IntegrityGate({ signCheck: 'sample', sampleRate: 1 }, runner());
    expect(await outcome(always, request, good)).toBeUndefined();
    expect(await outcome(always, request, bad)).toMatchObject({ outOfService: true });
    // A tiny rate with no fault yet: almost nothing is checked (the documented weakness of sample).
    const rarely = new IntegrityGate({ signCheck: 'sample', sampleRate: 1e-9, suspectWindow: 4 }, runner());
    expect(await outcome(rarely, request, bad)).toBeUndefined();
    // After a fault on the device, its next suspectWindow results are all checked.
    rarely.noteFault('card');
    expect(await outcome(rarely, request, bad)).toBeDefined();
  });
});
