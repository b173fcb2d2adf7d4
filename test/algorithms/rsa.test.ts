import { constants, privateDecrypt, publicEncrypt, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type RsaSignatureParams,
  rsaOaepDecrypt,
  rsaOaepEncrypt,
  rsaRawPrivate,
  rsaRawPublic,
  rsaSign,
  rsaVerify,
} from '../../core/algorithms/index.js';
import { bigintToBytes, bytesToBigint } from '../../core/driver/bytes.js';
import { AbortedError, DeviceError, InvalidInputError, InvalidKeyError } from '../../core/driver/errors.js';
import { type HashName, RSA_MODULUS_BITS } from '../../core/driver/keys.js';
import { rsaCrt } from '../../core/math/rsa.js';
import { threePrimeRsaKey } from '../support/keys.js';
import {
  corrupt,
  generateRsa,
  generateRsaExactBits,
  HASHES,
  MessageRegistry,
  makeExecutor,
  NODE_HASH,
  paddingExecutor,
  rawExecutor,
  rsaPublicKeyObject,
} from './node-executors.js';

// Generated once per file: 2048 bits, and 2049 bits so that the PSS encoding is one byte shorter than the modulus.
const keys = [generateRsa(2048), generateRsaExactBits(2049)];
const small = generateRsa(1024);
const registry = new MessageRegistry();
const executors = [rawExecutor(), paddingExecutor(registry)];

const HASH_BYTES: Record<HashName, number> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

function nodePadding(params: RsaSignatureParams) {
  return params.scheme === 'pss'
    ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength }
    : { padding: constants.RSA_PKCS1_PADDING };
}

const signatureParams = (bits: number) =>
  fc.oneof(
    fc.record({ scheme: fc.constant('pkcs1-v1_5' as const), hash: fc.constantFrom(...HASHES) }),
    fc.constantFrom(...HASHES).chain((hash) =>
      fc.record({
        scheme: fc.constant('pss' as const),
        hash: fc.constant(hash),
        saltLength: fc.integer({ min: 0, max: Math.ceil((bits - 1) / 8) - HASH_BYTES[hash] - 2 }),
      }),
    ),
  );

describe.each(executors)('RSA signatures on $name', (exec) => {
  for (const key of keys) {
    it(`${key.material.bits}-bit: what we sign node verifies, what node signs we verify, tampering fails`, async () => {
      await fc.assert(
        fc.asyncProperty(
          signatureParams(key.material.bits),
          fc.uint8Array({ maxLength: 64 }),
          async (params, msg) => {
            registry.know(msg);
            const signature = await rsaSign(exec, key.material, params, msg);
            expect(
              verify(NODE_HASH[params.hash], msg, { key: key.publicKey, ...nodePadding(params) }, signature),
            ).toBe(true);
            const nodeSignature = sign(NODE_HASH[params.hash], msg, {
              key: key.privateKey,
              ...nodePadding(params),
            });
            expect(await rsaVerify(exec, key.material.publicKey, params, msg, nodeSignature)).toBe(true);
            expect(
              await rsaVerify(exec, key.material.publicKey, params, msg, corrupt(nodeSignature, 9)),
            ).toBe(false);
            const other = registry.know(Uint8Array.from([...msg, 1]));
            expect(await rsaVerify(exec, key.material.publicKey, params, other, nodeSignature)).toBe(false);
          },
        ),
        { numRuns: 12 },
      );
    });
  }

  it('took the path it was built for', () => {
    const expected = exec.name === 'raw-card' ? ['rsa-private', 'rsa-public'] : ['rsa-sign', 'rsa-verify'];
    for (const op of expected) expect(exec.ran).toContain(op);
  });

  it('verify is false (never an error) for signatures of the wrong length or ≥ n', async () => {
    const pub = keys[0]!.material.publicKey;
    const msg = registry.know(new Uint8Array([1, 2, 3]));
    const params = { scheme: 'pkcs1-v1_5', hash: 'SHA-256' } as const;
    expect(await rsaVerify(exec, pub, params, msg, new Uint8Array(255))).toBe(false);
    expect(await rsaVerify(exec, pub, params, msg, new Uint8Array(257))).toBe(false);
    expect(await rsaVerify(exec, pub, params, msg, bigintToBytes(pub.n, 256))).toBe(false);
    expect(
      await rsaVerify(
        exec,
        pub,
        { scheme: 'pss', hash: 'SHA-256', saltLength: 300 },
        msg,
        new Uint8Array(256),
      ),
    ).toBe(false);
  });

  it('RSA-OAEP: ours decrypts node’s, node decrypts ours, with and without labels and for every hash', async () => {
    const key = keys[0]!;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...HASHES),
        fc.option(fc.uint8Array({ maxLength: 16 }), { nil: undefined }),
        fc.uint8Array({ maxLength: 62 }),
        async (hash, label, plaintext) => {
          const params = label === undefined ? { hash } : { hash, label };
          const nodeOptions = {
            padding: constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: NODE_HASH[hash],
            oaepLabel: label,
          };
          const ours = await rsaOaepEncrypt(exec, key.material.publicKey, params, plaintext);
          expect(new Uint8Array(privateDecrypt({ key: key.privateKey, ...nodeOptions }, ours))).toEqual(
            plaintext,
          );
          const theirs = publicEncrypt({ key: key.publicKey, ...nodeOptions }, plaintext);
          expect(await rsaOaepDecrypt(exec, key.material, params, theirs)).toEqual(plaintext);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('RSA-OAEP: the longest plaintext fits, one byte more is InvalidInputError', async () => {
    const pub = keys[0]!.material.publicKey;
    const max = 256 - 2 * 32 - 2;
    await expect(rsaOaepEncrypt(exec, pub, { hash: 'SHA-256' }, new Uint8Array(max))).resolves.toHaveLength(
      256,
    );
    await expect(rsaOaepEncrypt(exec, pub, { hash: 'SHA-256' }, new Uint8Array(max + 1))).rejects.toThrow(
      InvalidInputError,
    );
  });

  it('RSA-OAEP: a wrong label, a tampered ciphertext or one ≥ n fail with one and the same error', async () => {
    const key = keys[0]!;
    const ct = await rsaOaepEncrypt(
      exec,
      key.material.publicKey,
      { hash: 'SHA-256', label: new Uint8Array([7]) },
      new Uint8Array([1, 2]),
    );
    const messages = new Set<string>();
    for (const attempt of [
      () => rsaOaepDecrypt(exec, key.material, { hash: 'SHA-256' }, ct),
      () =>
        rsaOaepDecrypt(exec, key.material, { hash: 'SHA-256', label: new Uint8Array([7]) }, corrupt(ct, 100)),
      () => rsaOaepDecrypt(exec, key.material, { hash: 'SHA-256' }, bigintToBytes(key.material.n, 256)),
      () => rsaOaepDecrypt(exec, key.material, { hash: 'SHA-256' }, ct.subarray(1)),
    ]) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      // The device-level path reports node's own decoding error; the composed path our single one.
      if (exec.name === 'raw-card' || error instanceof InvalidInputError) {
        expect(error).toBeInstanceOf(InvalidInputError);
        messages.add((error as Error).message);
      } else expect(error).toBeInstanceOf(Error);
    }
    expect(messages.size).toBe(1);
  });
});

describe('raw RSA', () => {
  const exec = rawExecutor();
  const key = keys[0]!.material;

  it('private then public is the identity; inputs ≥ n or of the wrong length are InvalidInputError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 0n, max: key.n - 1n }), async (m) => {
        const input = bigintToBytes(m, 256);
        const s = await rsaRawPrivate(exec, key, input);
        expect(await rsaRawPublic(exec, key.publicKey, s)).toEqual(input);
      }),
      { numRuns: 10 },
    );
    await expect(rsaRawPrivate(exec, key, bigintToBytes(key.n, 256))).rejects.toThrow(InvalidInputError);
    await expect(rsaRawPublic(exec, key.publicKey, bigintToBytes(key.n, 256))).rejects.toThrow(
      InvalidInputError,
    );
    await expect(rsaRawPublic(exec, key.publicKey, new Uint8Array(255))).rejects.toThrow(InvalidInputError);
  });

  it('key sizes: RSA_MODULUS_BITS (512–16384, as node) for public and private operations alike', async () => {
    expect(RSA_MODULUS_BITS).toEqual({ min: 512, max: 16384 });
    const msg = new Uint8Array([5]);
    const sig = sign('sha256', msg, small.privateKey);
    const params = { scheme: 'pkcs1-v1_5', hash: 'SHA-256' } as const;
    expect(await rsaVerify(exec, small.material.publicKey, params, msg, sig)).toBe(true);
    // A 1024-bit key signs (node's subtle does too); a deployment raises the floor with core/api's policy.
    const ours = await rsaSign(exec, small.material, params, msg);
    expect(verify('sha256', msg, small.publicKey, ours)).toBe(true);
    const tiny = { kind: 'rsa-public', n: (1n << 510n) + 1n, e: 65537n, bits: 511 } as const;
    await expect(rsaVerify(exec, tiny, params, msg, new Uint8Array(64))).rejects.toThrow(InvalidKeyError);
    const huge = { kind: 'rsa-public', n: (1n << 16384n) + 1n, e: 65537n, bits: 16385 } as const;
    await expect(rsaRawPublic(exec, huge, new Uint8Array(2049))).rejects.toThrow(InvalidKeyError);
  });

  it('rejects an impossible PSS salt length when signing', async () => {
    await expect(
      rsaSign(exec, key, { scheme: 'pss', hash: 'SHA-512', saltLength: 256 - 64 - 1 }, new Uint8Array()),
    ).rejects.toThrow(InvalidInputError);
    await expect(
      rsaSign(exec, key, { scheme: 'pss', hash: 'SHA-256', saltLength: -1 }, new Uint8Array()),
    ).rejects.toThrow(InvalidInputError);
  });

  it('an aborted signal stops the operation before it starts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      rsaSign(exec, key, { scheme: 'pkcs1-v1_5', hash: 'SHA-256' }, new Uint8Array(), {
        signal: controller.signal,
      }),
    ).rejects.toThrow(AbortedError);
    expect(exec.ran).not.toContain('rsa-sign');
  });
});

describe('multi-prime keys', () => {
  it('a three-prime 2048-bit key signs through a raw card doing multi-prime CRT, and node verifies', async () => {
    const k3 = threePrimeRsaKey([683, 683, 682], 2048);
    const crtCard = makeExecutor('crt-card', {
      'rsa-private': (req) => bigintToBytes(rsaCrt(req.key, bytesToBigint(req.input)), 256),
    });
    const msg = new Uint8Array([3, 1, 4]);
    for (const params of [
      { scheme: 'pkcs1-v1_5', hash: 'SHA-256' },
      { scheme: 'pss', hash: 'SHA-256', saltLength: 32 },
    ] as const) {
      const signature = await rsaSign(crtCard, k3, params, msg);
      expect(
        verify('sha256', msg, { key: rsaPublicKeyObject(k3.publicKey), ...nodePadding(params) }, signature),
      ).toBe(true);
    }
  });
});

// The RSA-CRT fault check (a corrupted raw private result or device-padded signature is
// a DeviceError, never a value) moved with the check to the integrity gate the job queue
// runs: test/integrity/gate.test.ts. What stays here is the algorithms layer's shape check.
describe('device results of the wrong shape', () => {
  const key = keys[0]!.material;
  const withheld = async (promise: Promise<unknown>, device: string) => {
    const outcome = await promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    expect(outcome).not.toHaveProperty('value');
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(DeviceError);
    expect((error as DeviceError).device).toBe(device);
    expect((error as Error).message).toContain(device);
    expect((error as Error).message).not.toContain(key.d.toString(16).slice(0, 16));
  };

  it('a device result of the wrong length is a DeviceError', async () => {
    const short = makeExecutor('short', { 'rsa-private': () => new Uint8Array(255) });
    await withheld(rsaRawPrivate(short, key, new Uint8Array(256)), 'short');
  });
});
