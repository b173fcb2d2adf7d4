import { sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ecdsaDigest } from '../../core/algorithms/ecdsa.js';
import { encodeDer, encodeP1363 } from '../../core/algorithms/ecdsa-encoding.js';
import { ecdsaSign, ecdsaVerify } from '../../core/algorithms/index.js';
import { randomScalar } from '../../core/algorithms/nonce.js';
import { CURVES } from '../../core/driver/curves.js';
import { InvalidKeyError } from '../../core/driver/errors.js';
import type { EcCurveName, EcPublicKeyMaterial, HashName } from '../../core/driver/keys.js';
import { modSqrt } from '../../core/math/modular.js';
import { decodePoint } from '../../core/math/sec1.js';
import {
  generateEc,
  MessageRegistry,
  makeExecutor,
  NODE_HASH,
  paddingExecutor,
  rawExecutor,
  rawHandlers,
  vectorsDir,
  wycheproofCases,
} from './node-executors.js';

const registry = new MessageRegistry();
const executors = [rawExecutor(), paddingExecutor(registry)];
const CASES: [EcCurveName, HashName][] = [
  ['P-256', 'SHA-256'],
  ['P-256', 'SHA-512'], // digest longer than the order: truncated to the leftmost 256 bits
  ['P-384', 'SHA-384'],
  ['P-384', 'SHA-1'],
  ['P-521', 'SHA-512'],
];
const keys = Object.fromEntries((['P-256', 'P-384', 'P-521'] as const).map((c) => [c, generateEc(c)]));

describe.each(executors)('ECDSA on $name', (exec) => {
  it.each(CASES)(
    '%s with %s: node verifies ours, we verify node’s, in P1363 and DER',
    async (curve, hash) => {
      const key = keys[curve]!;
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 40 }),
          fc.constantFrom('p1363', 'der') as fc.Arbitrary<'p1363' | 'der'>,
          async (msg, format) => {
            registry.know(msg);
            const dsaEncoding = format === 'der' ? 'der' : 'ieee-p1363';
            const ours = await ecdsaSign(exec, key.material, hash, msg, format);
            expect(verify(NODE_HASH[hash], msg, { key: key.publicKey, dsaEncoding }, ours)).toBe(true);
            const theirs = sign(NODE_HASH[hash], msg, { key: key.privateKey, dsaEncoding });
            expect(await ecdsaVerify(exec, key.material.publicKey, hash, msg, theirs, format)).toBe(true);
            const other = registry.know(Uint8Array.from([...msg, 0]));
            expect(await ecdsaVerify(exec, key.material.publicKey, hash, other, theirs, format)).toBe(false);
          },
        ),
        { numRuns: curve === 'P-521' ? 2 : 4 },
      );
    },
  );

  it('took the path it was built for', () => {
    const expected = exec.name === 'raw-card' ? ['ec-mul'] : ['ecdsa-sign', 'ecdsa-verify'];
    for (const op of expected) expect(exec.ran).toContain(op);
    if (exec.name === 'raw-card') expect(exec.ran).not.toContain('ecdsa-sign');
  });

  it('r or s out of [1, n−1], malformed encodings and wrong lengths are false, never an error', async () => {
    const curve = CURVES['P-256'];
    const pub = keys['P-256']!.material.publicKey;
    const msg = registry.know(new Uint8Array([9]));
    const good = await ecdsaSign(exec, keys['P-256']!.material, 'SHA-256', msg, 'p1363');
    const r = BigInt(`0x${Buffer.from(good.subarray(0, 32)).toString('hex')}`);
    const s = BigInt(`0x${Buffer.from(good.subarray(32)).toString('hex')}`);
    expect(await ecdsaVerify(exec, pub, 'SHA-256', msg, good, 'p1363')).toBe(true);
    const bad: [Uint8Array, 'p1363' | 'der'][] = [
      [encodeP1363(0n, s, 32), 'p1363'],
      [encodeP1363(r, 0n, 32), 'p1363'],
      [encodeP1363(r + curve.n, s, 33).subarray(1), 'p1363'],
      [encodeDer(r, s + curve.n), 'der'],
      [encodeDer(r, curve.n), 'der'],
      [good.subarray(1), 'p1363'],
      [new Uint8Array(), 'der'],
      [Uint8Array.from([...encodeDer(r, s), 0]), 'der'],
      [good, 'der'],
    ];
    for (const [signature, format] of bad) {
      expect(await ecdsaVerify(exec, pub, 'SHA-256', msg, signature, format)).toBe(false);
    }
  });

  it('a public key off the curve is InvalidKeyError', async () => {
    const pub = keys['P-256']!.material.publicKey;
    const off: EcPublicKeyMaterial = { ...pub, y: pub.y ^ 1n };
    await expect(
      ecdsaVerify(exec, off, 'SHA-256', new Uint8Array(), new Uint8Array(64), 'p1363'),
    ).rejects.toThrow(InvalidKeyError);
  });
});

describe('ECDSA details', () => {
  it('the digest is the leftmost orderBits bits of the hash', () => {
    const msg = new Uint8Array([1, 2, 3]);
    const full = ecdsaDigest(CURVES['P-521'], 'SHA-512', msg);
    expect(full).toHaveLength(64);
    expect(Buffer.from(ecdsaDigest(CURVES['P-256'], 'SHA-512', msg))).toEqual(
      Buffer.from(full.subarray(0, 32)),
    );
    expect(ecdsaDigest(CURVES['P-384'], 'SHA-256', msg)).toHaveLength(32);
  });

  it('nonces are fresh: two signatures of one message differ, and both verify', async () => {
    const exec = rawExecutor();
    const key = keys['P-256']!;
    const msg = new Uint8Array([1]);
    const a = await ecdsaSign(exec, key.material, 'SHA-256', msg, 'p1363');
    const b = await ecdsaSign(exec, key.material, 'SHA-256', msg, 'p1363');
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a.subarray(0, 32)).equals(Buffer.from(b.subarray(0, 32)))).toBe(false);
  });

  it('random scalars stay in [1, n−1] and use the top bits of the order', () => {
    for (const curve of Object.values(CURVES)) {
      let topBitSeen = false;
      for (let i = 0; i < 200; i++) {
        const k = randomScalar(curve);
        expect(k >= 1n && k < curve.n).toBe(true);
        if (k >> BigInt(curve.orderBits - 1) === 1n) topBitSeen = true;
      }
      expect(topBitSeen).toBe(true);
    }
  });

  // A point multiplier that returns a point off the curve: the integrity gate the job queue
  // runs withholds it (test/integrity/gate.test.ts); the algorithms layer does not check again.

  it('retries with a fresh nonce when k·G has x ≡ 0 (mod n), so r would be 0', async () => {
    // (0, √b) is on P-256; a device returning it makes r = 0, which must not become a signature.
    const curve = CURVES['P-256'];
    const zeroX = { x: 0n, y: modSqrt(curve.b, curve.p)! };
    const scalars: bigint[] = [];
    const flaky = makeExecutor('flaky', {
      'ec-mul': (r) => {
        scalars.push(r.scalar as bigint);
        return scalars.length === 1 ? zeroX : rawHandlers['ec-mul']!(r);
      },
    });
    const sig = await ecdsaSign(flaky, keys['P-256']!.material, 'SHA-256', new Uint8Array(), 'p1363');
    expect(scalars).toHaveLength(2);
    expect(scalars[0]).not.toBe(scalars[1]);
    expect(
      verify('sha256', new Uint8Array(), { key: keys['P-256']!.publicKey, dsaEncoding: 'ieee-p1363' }, sig),
    ).toBe(true);
  });
});

interface WycheproofEcdsa {
  testGroups: {
    publicKey: { uncompressed: string };
    sha: HashName;
    tests: { tcId: number; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable' }[];
  }[];
}

const WYCHEPROOF: [string, EcCurveName, 'p1363' | 'der'][] = [
  ['ecdsa_secp256r1_sha256_test.json', 'P-256', 'der'],
  ['ecdsa_secp256r1_sha256_p1363_test.json', 'P-256', 'p1363'],
];

describe.each(WYCHEPROOF)('Wycheproof %s through the composed path', (file, curveName, format) => {
  let data: WycheproofEcdsa | undefined;
  try {
    data = JSON.parse(readFileSync(join(vectorsDir(), file), 'utf8')) as WycheproofEcdsa;
  } catch {
    data = undefined;
  }
  it.skipIf(data === undefined)(
    `every valid case verifies and every invalid one does not (vectors: ${vectorsDir()})`,
    async () => {
      const exec = rawExecutor();
      const curve = CURVES[curveName];
      const cases = wycheproofCases();
      for (const group of data!.testGroups) {
        const point = decodePoint(curve, Buffer.from(group.publicKey.uncompressed, 'hex'));
        const key: EcPublicKeyMaterial = { kind: 'ec-public', curve: curveName, ...point };
        for (const test of group.tests) {
          const ok = await ecdsaVerify(
            exec,
            key,
            group.sha,
            Buffer.from(test.msg, 'hex'),
            Buffer.from(test.sig, 'hex'),
            format,
          );
          cases.check(
            test,
            () => expect(ok, `tcId ${test.tcId}`).toBe(true),
            () => expect(ok, `tcId ${test.tcId}`).toBe(false),
          );
        }
      }
      cases.done();
    },
  );
});
