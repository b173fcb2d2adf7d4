import { createECDH, diffieHellman, sign, verify, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ecdhDeriveBits,
  ecdsaSign,
  ecPublicKeyFromPrivate,
  ed25519Sign,
  ed25519Verify,
  generateKeyPair,
  rsaSign,
  validateEcPublicKey,
  x25519DeriveBits,
} from '../../core/algorithms/index.js';
import { bigintToBytes, bytesToBigint } from '../../core/driver/bytes.js';
import { CURVES } from '../../core/driver/curves.js';
import {
  DeviceError,
  InvalidInputError,
  InvalidKeyError,
  UnsupportedError,
} from '../../core/driver/errors.js';
import {
  type EcCurveName,
  EcPrivateKeyMaterial,
  type EcPublicKeyMaterial,
  type OkpPublicKeyMaterial,
  type RsaPrivateKeyMaterial,
} from '../../core/driver/keys.js';
import {
  ecPrivateKeyObject,
  generateEc,
  generateOkp,
  MessageRegistry,
  makeExecutor,
  NODE_CURVE,
  paddingExecutor,
  rawExecutor,
  rawHandlers,
  rsaPrivateKeyObject,
  vectorsDir,
  wycheproofCases,
} from './node-executors.js';

const executors = [rawExecutor(), paddingExecutor(new MessageRegistry())];
const CURVE_NAMES: EcCurveName[] = ['P-256', 'P-384', 'P-521'];

describe.each(executors)('ECDH on $name', (exec) => {
  it.each(CURVE_NAMES)('%s: the secret equals node’s', async (curve) => {
    const a = generateEc(curve);
    const b = generateEc(curve);
    const ours = await ecdhDeriveBits(exec, a.material, b.material.publicKey, null);
    const theirs = diffieHellman({ privateKey: b.privateKey, publicKey: a.publicKey });
    expect(Buffer.from(ours).equals(theirs)).toBe(true);
    expect(ours).toHaveLength(CURVES[curve].bytes);
  });

  it('rejects a peer off the curve, with a coordinate ≥ p, or on another curve', async () => {
    const a = generateEc('P-256');
    const peer = generateEc('P-256').material.publicKey;
    const bad: EcPublicKeyMaterial[] = [
      { ...peer, y: peer.y ^ 1n },
      { ...peer, x: peer.x + CURVES['P-256'].p },
      { ...peer, x: 0n, y: 0n },
      generateEc('P-384').material.publicKey,
    ];
    for (const p of bad)
      await expect(ecdhDeriveBits(exec, a.material, p, null)).rejects.toThrow(InvalidKeyError);
  });

  it('lengthBits behaves as node’s webcrypto deriveBits: truncate, mask trailing bits, refuse too many', async () => {
    const a = generateEc('P-256');
    const b = generateEc('P-256');
    const subtle = webcrypto.subtle;
    const priv = await subtle.importKey(
      'jwk',
      a.privateKey.export({ format: 'jwk' }),
      { name: 'ECDH', namedCurve: 'P-256' },
      false,
      ['deriveBits'],
    );
    const pub = await subtle.importKey(
      'jwk',
      b.publicKey.export({ format: 'jwk' }),
      { name: 'ECDH', namedCurve: 'P-256' },
      false,
      [],
    );
    for (const length of [0, 5, 12, 128, 255, 256]) {
      const theirs = new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: pub }, priv, length));
      expect(
        await ecdhDeriveBits(exec, a.material, b.material.publicKey, length),
        `length ${length}`,
      ).toEqual(theirs);
    }
    await expect(ecdhDeriveBits(exec, a.material, b.material.publicKey, 264)).rejects.toThrow(
      InvalidInputError,
    );
    await expect(ecdhDeriveBits(exec, a.material, b.material.publicKey, -8)).rejects.toThrow(
      InvalidInputError,
    );
  });
});

describe('validateEcPublicKey', () => {
  it('accepts points of the curves and rejects the rest', () => {
    for (const curve of CURVE_NAMES) {
      const pub = generateEc(curve).material.publicKey;
      expect(() => validateEcPublicKey(pub)).not.toThrow();
      expect(() => validateEcPublicKey({ ...pub, y: CURVES[curve].p - pub.y })).not.toThrow();
      expect(() => validateEcPublicKey({ ...pub, y: pub.y + 1n })).toThrow(InvalidKeyError);
      expect(() => validateEcPublicKey({ ...pub, y: pub.y + CURVES[curve].p })).toThrow(InvalidKeyError);
      expect(() => validateEcPublicKey({ ...pub, x: -1n })).toThrow(InvalidKeyError);
    }
    expect(() =>
      validateEcPublicKey({ kind: 'ec-public', curve: 'P-192' as EcCurveName, x: 1n, y: 1n }),
    ).toThrow(InvalidKeyError);
  });
});

interface EcdhWebcryptoFile {
  testGroups: {
    curve: EcCurveName;
    tests: {
      tcId: number;
      public: { x?: string; y?: string; crv?: string };
      private: { d: string; x: string; y: string };
      shared: string;
      result: 'valid' | 'invalid' | 'acceptable';
    }[];
  }[];
}

describe('Wycheproof ecdh_secp256r1_webcrypto_test.json through the composed path', () => {
  let data: EcdhWebcryptoFile | undefined;
  try {
    data = JSON.parse(
      readFileSync(join(vectorsDir(), 'ecdh_secp256r1_webcrypto_test.json'), 'utf8'),
    ) as EcdhWebcryptoFile;
  } catch {
    data = undefined;
  }
  it.skipIf(data === undefined)(
    `valid cases agree; invalid public keys are refused (vectors: ${vectorsDir()})`,
    async () => {
      const exec = rawExecutor();
      const int = (s: string | undefined) => bytesToBigint(Buffer.from(s ?? '', 'base64url'));
      const cases = wycheproofCases();
      for (const group of data!.testGroups) {
        for (const test of group.tests) {
          const curve = group.curve;
          const priv = new EcPrivateKeyMaterial(curve, int(test.private.d), {
            kind: 'ec-public',
            curve,
            x: int(test.private.x),
            y: int(test.private.y),
          });
          const peerCurve = (test.public.crv ?? curve) as EcCurveName;
          const peer: EcPublicKeyMaterial = {
            kind: 'ec-public',
            curve: peerCurve,
            x: int(test.public.x),
            y: int(test.public.y),
          };
          const outcome = await ecdhDeriveBits(exec, priv, peer, null).then(
            (secret) => Buffer.from(secret).toString('hex'),
            (error: unknown) => error,
          );
          cases.check(
            test,
            () => expect(outcome, `tcId ${test.tcId}`).toBe(test.shared),
            () => expect(outcome, `tcId ${test.tcId}`).toBeInstanceOf(InvalidKeyError),
          );
        }
      }
      cases.done();
    },
  );
});

describe('Ed25519 and X25519 on the device-level executor', () => {
  const exec = executors[1]!;

  it('Ed25519: node verifies ours, we verify node’s, tampering fails', async () => {
    const key = generateOkp('Ed25519');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (msg) => {
        const ours = await ed25519Sign(exec, key.material, msg);
        expect(verify(null, msg, key.publicKey, ours)).toBe(true);
        const theirs = new Uint8Array(sign(null, msg, key.privateKey));
        expect(await ed25519Verify(exec, key.material.publicKey, msg, theirs)).toBe(true);
        theirs[5]! ^= 0x10;
        expect(await ed25519Verify(exec, key.material.publicKey, msg, theirs)).toBe(false);
        expect(await ed25519Verify(exec, key.material.publicKey, msg, theirs.subarray(1))).toBe(false);
      }),
      { numRuns: 10 },
    );
  });

  it('X25519 agrees with node and applies lengthBits', async () => {
    const a = generateOkp('X25519');
    const b = generateOkp('X25519');
    const theirs = new Uint8Array(diffieHellman({ privateKey: b.privateKey, publicKey: a.publicKey }));
    expect(await x25519DeriveBits(exec, a.material, b.material.publicKey, null)).toEqual(theirs);
    const first12 = await x25519DeriveBits(exec, a.material, b.material.publicKey, 12);
    expect(first12).toEqual(Uint8Array.of(theirs[0]!, theirs[1]! & 0xf0));
    await expect(x25519DeriveBits(exec, a.material, b.material.publicKey, 257)).rejects.toThrow(
      InvalidInputError,
    );
  });

  it('X25519: an all-zero shared secret (small-order peer) is InvalidInputError', async () => {
    const zeroing = makeExecutor('zeroing', { x25519: () => new Uint8Array(32) });
    const a = generateOkp('X25519');
    const peer: OkpPublicKeyMaterial = { kind: 'okp-public', curve: 'X25519', x: new Uint8Array(32) };
    await expect(x25519DeriveBits(zeroing, a.material, peer, null)).rejects.toThrow(InvalidInputError);
  });

  it('wrong curves and sizes are InvalidKeyError', async () => {
    const ed = generateOkp('Ed25519');
    const x = generateOkp('X25519');
    await expect(x25519DeriveBits(exec, ed.material, x.material.publicKey, null)).rejects.toThrow(
      InvalidKeyError,
    );
    await expect(ed25519Sign(exec, x.material, new Uint8Array())).rejects.toThrow(InvalidKeyError);
    const short: OkpPublicKeyMaterial = { kind: 'okp-public', curve: 'Ed25519', x: new Uint8Array(31) };
    await expect(ed25519Verify(exec, short, new Uint8Array(), new Uint8Array(64))).rejects.toThrow(
      InvalidKeyError,
    );
  });
});

describe('key generation', () => {
  it.each(executors)('EC keys from $name are usable by node', async (exec) => {
    for (const curve of CURVE_NAMES) {
      const pair = await generateKeyPair(exec, { kind: 'ec', curve });
      if (pair.kind !== 'ec') throw new Error('expected an EC pair');
      const key = pair.privateKey;
      const ecdh = createECDH(NODE_CURVE[curve]);
      ecdh.setPrivateKey(bigintToBytes(key.d, CURVES[curve].bytes));
      const pub = ecdh.getPublicKey();
      expect(bytesToBigint(pub.subarray(1, 1 + CURVES[curve].bytes))).toBe(key.publicKey.x);
      const sig = await ecdsaSign(
        exec.name === 'raw-card' ? exec : rawExecutor(),
        key,
        'SHA-256',
        new Uint8Array([1]),
        'der',
      );
      const nodeKey = ecPrivateKeyObject(key);
      expect(verify('sha256', new Uint8Array([1]), nodeKey, sig)).toBe(true);
    }
  });

  it('the composed EC keygen draws a fresh scalar each time', async () => {
    const exec = rawExecutor();
    const a = await generateKeyPair(exec, { kind: 'ec', curve: 'P-256' });
    const b = await generateKeyPair(exec, { kind: 'ec', curve: 'P-256' });
    expect(exec.ran).toEqual(['ec-mul', 'ec-mul']);
    expect(a.privateKey.id).not.toBe(b.privateKey.id);
    expect((a.privateKey as EcPrivateKeyMaterial).d).not.toBe((b.privateKey as EcPrivateKeyMaterial).d);
  });

  it('RSA keys from a keygen primitive, else generated on the host; OKP keys from a keygen primitive only', async () => {
    const device = executors[1]!;
    const rsa = await generateKeyPair(device, { kind: 'rsa', bits: 2048, publicExponent: 65537n });
    expect(rsa.kind).toBe('rsa');
    const ed = await generateKeyPair(device, { kind: 'okp', curve: 'Ed25519' });
    expect(ed.kind).toBe('okp');
    // A card with raw RSA only: the key is generated on the host, then used on the card.
    const card = rawExecutor();
    const hostMade = await generateKeyPair(card, { kind: 'rsa', bits: 2048, publicExponent: 65537n });
    expect(card.ran).toEqual([]);
    const key = hostMade.privateKey as RsaPrivateKeyMaterial;
    expect([key.bits, key.e]).toEqual([2048, 65537n]);
    const msg = new Uint8Array([3]);
    const sig = await rsaSign(card, key, { scheme: 'pkcs1-v1_5', hash: 'SHA-256' }, msg);
    expect(card.ran).toEqual(['rsa-private']);
    expect(verify('sha256', msg, rsaPrivateKeyObject(key), sig)).toBe(true);
    // Nothing could use the key, or nothing makes the curve: an error that says what to add.
    const ecOnly = makeExecutor('ec-only', { 'ec-mul': rawHandlers['ec-mul']! });
    await expect(
      generateKeyPair(ecOnly, { kind: 'rsa', bits: 2048, publicExponent: 65537n }),
    ).rejects.toThrow(/"software".*softwareFallback: true/);
    await expect(generateKeyPair(rawExecutor(), { kind: 'okp', curve: 'X25519' })).rejects.toThrow(
      UnsupportedError,
    );
    await expect(generateKeyPair(device, { kind: 'rsa', bits: 256, publicExponent: 65537n })).rejects.toThrow(
      InvalidInputError,
    );
    await expect(generateKeyPair(device, { kind: 'rsa', bits: 2048, publicExponent: 4n })).rejects.toThrow(
      InvalidInputError,
    );
  });

  it('EC keys from ECDH with the base point, on a card without keygen or point multiplication', async () => {
    const x = (r: { key: EcPrivateKeyMaterial; peer: EcPublicKeyMaterial }): Uint8Array => {
      const bytes = CURVES[r.key.curve].bytes;
      const ecdh = createECDH(NODE_CURVE[r.key.curve]);
      ecdh.setPrivateKey(bigintToBytes(r.key.d, bytes));
      const peer = Buffer.concat([
        Buffer.of(4),
        bigintToBytes(r.peer.x, bytes),
        bigintToBytes(r.peer.y, bytes),
      ]);
      return new Uint8Array(ecdh.computeSecret(peer));
    };
    for (const curve of CURVE_NAMES) {
      // Enough keys that both square roots of x come up.
      for (let i = 0; i < 6; i++) {
        const card = makeExecutor('ecdh-card', { ecdh: x });
        const pair = await generateKeyPair(card, { kind: 'ec', curve });
        expect(card.ran).toEqual(['ecdh', 'ecdh']);
        const key = pair.privateKey as EcPrivateKeyMaterial;
        const ecdh = createECDH(NODE_CURVE[curve]);
        ecdh.setPrivateKey(bigintToBytes(key.d, CURVES[curve].bytes));
        const pub = ecdh.getPublicKey();
        const bytes = CURVES[curve].bytes;
        expect([key.publicKey.x, key.publicKey.y]).toEqual([
          bytesToBigint(pub.subarray(1, 1 + bytes)),
          bytesToBigint(pub.subarray(1 + bytes)),
        ]);
      }
    }
    // A card whose second answer disagrees with its first is caught.
    let calls = 0;
    const liar = makeExecutor('liar', {
      ecdh: (r) =>
        ++calls === 2 ? x({ ...r, key: new EcPrivateKeyMaterial(r.key.curve, 7n, r.peer) }) : x(r),
    });
    await expect(generateKeyPair(liar, { kind: 'ec', curve: 'P-256' })).rejects.toThrow(DeviceError);
  });

  it('a keygen device that returns the wrong kind of key is a DeviceError', async () => {
    const liar = makeExecutor('liar', {
      keygen: () => ({ kind: 'okp', privateKey: generateOkp('X25519').material }),
    });
    await expect(generateKeyPair(liar, { kind: 'okp', curve: 'Ed25519' })).rejects.toThrow(DeviceError);
  });
});

describe('ecPublicKeyFromPrivate', () => {
  it('computes d·G on a device, or on this thread when no device multiplies points, matching node', async () => {
    const nothing = makeExecutor('nothing', {});
    for (const curve of CURVE_NAMES) {
      const key = generateEc(curve).material;
      for (const exec of [rawExecutor(), nothing]) {
        const pub = await ecPublicKeyFromPrivate(exec, curve, key.d);
        expect(pub).toEqual(key.publicKey);
      }
      await expect(ecPublicKeyFromPrivate(nothing, curve, 0n)).rejects.toThrow(InvalidKeyError);
      await expect(ecPublicKeyFromPrivate(nothing, curve, CURVES[curve].n)).rejects.toThrow(InvalidKeyError);
    }
  });
});
