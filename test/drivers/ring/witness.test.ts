/**
 * The ring card's witnesses (docs/hardware/ring-card.md §4.4) through the driver:
 * every ECDSA verification carries x(u1·G + u2·Q), every RSA verification
 * s^e mod n, every ECDH the shared point's y — each checked against node:crypto
 * and core/math computed here, for valid and invalid inputs.
 */
import { constants, createHash, createPrivateKey, publicEncrypt, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Completion, CURVES, type PrimitiveRequest, type Witness } from '../../../core/driver/index.js';
import { ecMultiply, ecMultiplyDouble, isOnCurve, mod, modInv } from '../../../core/math/index.js';
import { bytesOf, card, ecKey, harvestAll, rsaKeyPair, runOne } from './harness.js';

function witnessOf(c: Completion): Witness | undefined {
  expect(c.ok).toBe(true);
  return c.ok ? c.witness : undefined;
}

function big(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

/** x of u1·G + u2·Q as the datasheet defines it, computed on the host with core/math (null: infinity). */
function expectedEcdsaX(
  curve: (typeof CURVES)['P-256'],
  q: { x: bigint; y: bigint },
  digest: Uint8Array,
  signature: Uint8Array,
): bigint | null {
  const L = curve.bytes;
  const r = big(signature.subarray(0, L));
  const s = big(signature.subarray(L));
  const excess = digest.length * 8 - curve.orderBits;
  const z = excess > 0 ? big(digest) >> BigInt(excess) : big(digest);
  const w = modInv(s, curve.n);
  return ecMultiplyDouble(curve, mod(z * w, curve.n), mod(r * w, curve.n), q)?.x ?? null;
}

/** An RSA key pair of `bits`, the `hash` digest of `message`, and node's signature of the message with a padding. */
function signedByNode(bits: number, hash: 'sha256' | 'sha512', message: string) {
  const { material, privateKey, publicKey } = rsaKeyPair(bits);
  const data = Buffer.from(message);
  return {
    key: material,
    pub: publicKey,
    digest: createHash(hash).update(data).digest(),
    signWith: (padding: number, saltLength?: number) =>
      sign(hash, data, { key: privateKey, padding, ...(saltLength === undefined ? {} : { saltLength }) }),
  };
}

describe('ring card witnesses', () => {
  for (const name of ['P-256', 'P-384'] as const) {
    it(`ECDSA ${name} verify: the witness is x(u1·G + u2·Q), for valid and invalid signatures`, async () => {
      const { device } = await card();
      const qp = device.queuePairs[0]!;
      const curve = CURVES[name];
      const L = curve.bytes;
      const key = ecKey(name);
      const hash = name === 'P-256' ? 'sha256' : 'sha384';
      const message = Buffer.from('witness');
      const digest = createHash(hash).update(message).digest();
      const b64 = (v: bigint) => Buffer.from(bytesOf(v, L)).toString('base64url');
      const jwk = { kty: 'EC', crv: name, x: b64(key.publicKey.x), y: b64(key.publicKey.y), d: b64(key.d) };
      const good = sign(hash, message, {
        key: createPrivateKey({ format: 'jwk', key: jwk }),
        dsaEncoding: 'ieee-p1363',
      });
      const bad = Uint8Array.from(good);
      bad[L + 3]! ^= 0x10; // s changed: R moves, the verdict is false
      for (const [signature, verdict] of [
        [good, true],
        [bad, false],
      ] as const) {
        const request: PrimitiveRequest = { op: 'ecdsa-verify', key: key.publicKey, digest, signature };
        const c = await runOne(qp, request);
        expect(c).toMatchObject({ ok: true, value: verdict });
        const witness = witnessOf(c);
        expect(witness?.kind).toBe('ecdsa-verify');
        const bytes = witness?.kind === 'ecdsa-verify' ? witness.x : undefined;
        expect(bytes?.length).toBe(L);
        const x = bytes ? big(bytes) : bytes;
        expect(x).toBe(expectedEcdsaX(curve, key.publicKey, digest, signature));
        expect(x !== null && x !== undefined && mod(x, curve.n) === big(signature.subarray(0, L))).toBe(
          verdict,
        );
      }
    });
  }

  it('ECDSA verify with r or s out of range: false at once (no descriptor), witness says no point', async () => {
    const { fn, device } = await card();
    const qp = device.queuePairs[0]!;
    const key = ecKey('P-256');
    const n = CURVES['P-256'].n;
    const digest = createHash('sha256').update('x').digest();
    const before = fn.sim.operations;
    for (const [r, s] of [
      [0n, 1n],
      [1n, n],
      [n, 5n],
    ]) {
      const signature = new Uint8Array(64);
      signature.set(bytesOf(r!, 32), 0);
      signature.set(bytesOf(s!, 32), 32);
      const c = await runOne(qp, { op: 'ecdsa-verify', key: key.publicKey, digest, signature });
      expect(c).toMatchObject({ ok: true, value: false, witness: { kind: 'ecdsa-verify', x: null } });
    }
    expect(fn.sim.operations).toBe(before);
  });

  for (const name of ['P-256', 'P-384'] as const) {
    it(`ECDH ${name}: the value is x of d·Q (as node computes it), the witness its y, the point on the curve`, async () => {
      const { device } = await card();
      const qp = device.queuePairs[2]!;
      const curve = CURVES[name];
      const key = ecKey(name);
      const peer = ecKey(name);
      const c = await runOne(qp, { op: 'ecdh', key, peer: peer.publicKey });
      const value = c.ok ? (c.value as Uint8Array) : new Uint8Array();
      expect(value.length).toBe(curve.bytes);
      const expected = ecMultiply(curve, key.d, peer.publicKey)!;
      expect(big(value)).toBe(expected.x);
      const witness = witnessOf(c);
      expect(witness).toEqual({ kind: 'ecdh-point', y: expected.y });
      expect(isOnCurve(curve, { x: expected.x, y: (witness as { y: bigint }).y })).toBe(true);
    });
  }

  for (const scheme of ['pkcs1-v1_5', 'pss'] as const) {
    it(`RSA verify (${scheme}, padding on the card): verdict and the opened signature s^e mod n`, async () => {
      const { device } = await card();
      const qp = device.queuePairs[3]!;
      const { key, pub, digest, signWith } = signedByNode(2048, 'sha256', 'witness for RSA');
      const signature = signWith(
        scheme === 'pss' ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING,
        32,
      );
      const padding =
        scheme === 'pss'
          ? ({ scheme: 'pss', hash: 'SHA-256', mgfHash: 'SHA-256', saltLength: 32 } as const)
          : ({ scheme: 'pkcs1-v1_5', hash: 'SHA-256' } as const);
      const opened = publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, signature);
      const good = await runOne(qp, { op: 'rsa-verify', key: key.publicKey, padding, digest, signature });
      expect(good).toMatchObject({ ok: true, value: true });
      expect(witnessOf(good)).toEqual({ kind: 'rsa-verify', opened: new Uint8Array(opened) });
      const otherDigest = createHash('sha256').update('another message').digest();
      const bad = await runOne(qp, {
        op: 'rsa-verify',
        key: key.publicKey,
        padding,
        digest: otherDigest,
        signature,
      });
      expect(bad).toMatchObject({ ok: true, value: false });
      expect(witnessOf(bad)).toEqual({ kind: 'rsa-verify', opened: new Uint8Array(opened) });
    });
  }

  it('null engine: verdicts come with a consistent witness, ECDH with a point on the curve', async () => {
    const { device } = await card('mode=inline&depth=8&engine=null');
    const qp = device.queuePairs[0]!;
    const key = ecKey('P-256');
    const signature = new Uint8Array(64).fill(7);
    const digest = new Uint8Array(32).fill(1);
    const v = await runOne(qp, { op: 'ecdsa-verify', key: key.publicKey, digest, signature });
    expect(v).toMatchObject({
      ok: true,
      value: true,
      witness: { kind: 'ecdsa-verify', x: signature.slice(0, 32) },
    });
    const e = await runOne(qp, { op: 'ecdh', key, peer: ecKey('P-256').publicKey });
    const curve = CURVES['P-256'];
    expect(e.ok && big(e.value as Uint8Array)).toBe(curve.gx);
    expect(witnessOf(e)).toEqual({ kind: 'ecdh-point', y: curve.gy });
  });

  it('4096-bit RSA verify (SHA-512, PSS salt 0 and PKCS#1) beside raw 4096-bit jobs in one batch: operands and results stay in their areas', async () => {
    const { device } = await card();
    const qp = device.queuePairs[0]!;
    const { key, pub, digest, signWith } = signedByNode(4096, 'sha512', 'a long key');
    const pss = signWith(constants.RSA_PKCS1_PSS_PADDING, 0);
    const pkcs1 = signWith(constants.RSA_PKCS1_PADDING);
    const raw = bytesOf(0xfeedn ** 40n, 512);
    const jobs = [
      {
        tag: 1,
        request: {
          op: 'rsa-verify',
          key: key.publicKey,
          padding: { scheme: 'pss', hash: 'SHA-512', mgfHash: 'SHA-512', saltLength: 0 },
          digest,
          signature: pss,
        },
      },
      { tag: 2, request: { op: 'rsa-public', key: key.publicKey, input: raw } },
      {
        tag: 3,
        request: {
          op: 'rsa-verify',
          key: key.publicKey,
          padding: { scheme: 'pkcs1-v1_5', hash: 'SHA-512' },
          digest,
          signature: pkcs1,
        },
      },
      { tag: 4, request: { op: 'rsa-public', key: key.publicKey, input: raw } },
    ] as const satisfies readonly { tag: number; request: PrimitiveRequest }[];
    expect(qp.submit(jobs)).toBe(4);
    const done = await harvestAll(qp, 4, 30_000);
    const byTag = new Map(done.map((c) => [c.tag, c]));
    const rawExpected = new Uint8Array(publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, raw));
    expect(byTag.get(1)).toMatchObject({ ok: true, value: true });
    expect(byTag.get(3)).toMatchObject({ ok: true, value: true });
    for (const tag of [2, 4]) expect(byTag.get(tag)).toMatchObject({ ok: true, value: rawExpected });
  }, 120_000);
});
