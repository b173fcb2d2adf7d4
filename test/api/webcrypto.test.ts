/**
 * Issue 12's WebCrypto items, each compared with node's own crypto.subtle where
 * node has an answer: the order of checks, WebIDL conversions (detached buffers,
 * deriveBits lengths, iterable usages, SharedArrayBuffer views, throwing getters),
 * the one CryptoKey class, installGlobalCrypto, `accel.crypto` as node's `Crypto`
 * type, the RSA limits and the policy, and generateKey on the simulated ring card.
 */

import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Accelerator,
  CryptoKey,
  type CryptoKeyPair,
  installGlobalCrypto,
  openAccelerator,
} from '../../index.js';

const node = webcrypto.subtle;
let accel: Accelerator;
beforeAll(async () => {
  accel = await openAccelerator({ devices: ['software'] });
});
afterAll(() => accel.close());

/** What a call settled with, comparable across the two implementations. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    const value = await p;
    if (value instanceof ArrayBuffer) return `ok: ${value.byteLength} bytes`;
    if (typeof value === 'boolean') return `ok: ${value}`;
    return 'ok';
  } catch (error) {
    return `${(error as Error).name}`;
  }
}

const RSA_GEN = { modulusLength: 2048, hash: 'SHA-256' } as const;

describe('order of checks (compared with node)', () => {
  it('generateKey: bad public exponent is OperationError before empty usages is SyntaxError', async () => {
    for (const name of ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'RSA-OAEP']) {
      for (const [exponent, usages] of [
        [[1, 0], []],
        [[2], []],
        [[], []],
        [[1, 0, 0, 0, 1], []],
        [
          [1, 0],
          ['encrypt', 'sign', 'verify', 'decrypt'].slice(
            name === 'RSA-OAEP' ? 2 : 0,
            name === 'RSA-OAEP' ? 4 : 1,
          ),
        ],
        [[1, 0, 1], []],
      ] as [number[], string[]][]) {
        const alg = { name, ...RSA_GEN, publicExponent: new Uint8Array(exponent) };
        const theirs = await outcome(node.generateKey(alg, true, usages as webcrypto.KeyUsage[]));
        const ours = await outcome(accel.subtle.generateKey(alg, true, usages));
        expect(ours, `${name} e=${exponent} usages=${usages}`).toBe(theirs);
      }
    }
    // An RSA usage that is not the algorithm's is SyntaxError before the exponent is looked at.
    const bad = { name: 'RSASSA-PKCS1-v1_5', ...RSA_GEN, publicExponent: new Uint8Array([1, 0]) };
    expect(await outcome(accel.subtle.generateKey(bad, true, ['encrypt']))).toBe(
      await outcome(node.generateKey(bad, true, ['encrypt'])),
    );
  });

  it('generateKey and importKey: curve, hash and member errors as node reports them', async () => {
    const cases: [webcrypto.AlgorithmIdentifier, string[]][] = [
      [{ name: 'ECDSA', namedCurve: 'P-192' } as webcrypto.EcKeyGenParams, ['sign']],
      [{ name: 'ECDSA', namedCurve: 'P-192' } as webcrypto.EcKeyGenParams, []],
      [{ name: 'ECDSA' }, ['sign']],
      [{ name: 'ECDH', namedCurve: 'P-256' } as webcrypto.EcKeyGenParams, ['sign']],
      [
        { name: 'RSA-PSS', ...RSA_GEN, hash: 'SHA-3', publicExponent: new Uint8Array([1, 0, 1]) } as never,
        ['sign'],
      ],
      [
        {
          name: 'RSA-PSS',
          ...RSA_GEN,
          modulusLength: '2048',
          publicExponent: new Uint8Array([1, 0, 1]),
        } as never,
        ['sign'],
      ],
      [
        {
          name: 'RSA-PSS',
          ...RSA_GEN,
          modulusLength: 256,
          publicExponent: new Uint8Array([1, 0, 1]),
        } as never,
        ['sign'],
      ],
      ['Ed25519', ['verify']],
      ['NOPE', ['sign']],
    ];
    for (const [alg, usages] of cases) {
      const label = JSON.stringify(alg);
      expect(await outcome(accel.subtle.generateKey(alg as never, true, usages)), label).toBe(
        await outcome(node.generateKey(alg, true, usages as webcrypto.KeyUsage[])),
      );
    }
  });
});

describe('WebIDL conversions (compared with node)', () => {
  let ecdh: CryptoKeyPair;
  let nodeEcdh: webcrypto.CryptoKeyPair;
  beforeAll(async () => {
    ecdh = await accel.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    nodeEcdh = (await node.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, [
      'deriveBits',
    ])) as webcrypto.CryptoKeyPair;
  });

  it('a detached ArrayBuffer (or a view on one) reads as empty', async () => {
    const detached = (): ArrayBuffer => {
      const b = new ArrayBuffer(8);
      structuredClone(b, { transfer: [b] });
      return b;
    };
    const viewBuffer = new ArrayBuffer(8);
    const view = new Uint8Array(viewBuffer);
    structuredClone(viewBuffer, { transfer: [viewBuffer] });
    expect(view.byteLength).toBe(0);
    const empty = Buffer.from(await node.digest('SHA-256', new Uint8Array(0))).toString('hex');
    for (const data of [detached(), view]) {
      expect(Buffer.from(await accel.subtle.digest('SHA-256', data)).toString('hex')).toBe(empty);
      expect(await outcome(accel.subtle.digest('SHA-256', data))).toBe(
        await outcome(node.digest('SHA-256', data)),
      );
    }
    const ecdsa = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ]);
    const alg = { name: 'ECDSA', hash: 'SHA-256' };
    const sig = await accel.subtle.sign(alg, ecdsa.privateKey, detached());
    expect(await accel.subtle.verify(alg, ecdsa.publicKey, sig, new Uint8Array(0))).toBe(true);
  });

  it('deriveBits lengths are converted as WebIDL unsigned long', async () => {
    for (const length of [
      '256',
      256.7,
      '0x100',
      null,
      undefined,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      0,
      128,
      1e10,
    ]) {
      const ours = await outcome(
        accel.subtle.deriveBits({ name: 'ECDH', public: ecdh.publicKey }, ecdh.privateKey, length as number),
      );
      const theirs = await outcome(
        node.deriveBits({ name: 'ECDH', public: nodeEcdh.publicKey }, nodeEcdh.privateKey, length as number),
      );
      expect(ours, `length ${String(length)}`).toBe(theirs);
    }
  });

  it('keyUsages may be any iterable; a string is not a sequence', async () => {
    const alg = { name: 'AES-GCM', length: 128 };
    const ec = { name: 'ECDSA', namedCurve: 'P-256' };
    function* gen(): Generator<string> {
      yield 'sign';
      yield 'verify';
    }
    const sets: [webcrypto.AlgorithmIdentifier, () => Iterable<string>][] = [
      [alg, () => new Set(['encrypt'])],
      [ec, () => new Set(['sign', 'verify'])],
      [ec, gen],
      [ec, () => 'sign'],
      [ec, () => ({ length: 1, 0: 'sign' }) as unknown as Iterable<string>],
    ];
    for (const [a, usages] of sets) {
      expect(await outcome(accel.subtle.generateKey(a as never, true, usages())), String(usages)).toBe(
        await outcome(node.generateKey(a, true, usages() as never)),
      );
    }
    const viaSet = await accel.subtle.generateKey(ec, true, new Set(['sign', 'verify']));
    expect(viaSet.privateKey.usages).toEqual(['sign']);
  });

  it('views on a SharedArrayBuffer, and the buffer itself, are TypeError', async () => {
    for (const data of [new Uint8Array(new SharedArrayBuffer(8)), new SharedArrayBuffer(8)]) {
      const ours = await outcome(accel.subtle.digest('SHA-256', data as never));
      expect(ours).toBe('TypeError');
      expect(ours).toBe(await outcome(node.digest('SHA-256', data as never)));
    }
    const key = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const sab = new Uint8Array(new SharedArrayBuffer(8));
    expect(await outcome(accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, sab))).toBe(
      'TypeError',
    );
  });

  it('a getter that throws inside an algorithm dictionary surfaces its own error', async () => {
    const thrower = (what: string): { name: string; hash: string } => ({
      name: 'ECDSA',
      get hash(): string {
        throw new RangeError(`mine: ${what}`);
      },
    });
    const key = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const nodeKey = (await node.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
    ])) as webcrypto.CryptoKeyPair;
    const ours = accel.subtle.sign(thrower('sign'), key.privateKey, new Uint8Array(1));
    const theirs = node.sign(thrower('sign') as never, nodeKey.privateKey, new Uint8Array(1));
    await expect(ours).rejects.toThrow(RangeError);
    await expect(ours).rejects.toThrow('mine: sign');
    await expect(theirs).rejects.toThrow(RangeError);
    const named = {
      get name(): string {
        throw new RangeError('mine: name');
      },
    };
    await expect(accel.subtle.digest(named as never, new Uint8Array(1))).rejects.toThrow('mine: name');
    await expect(node.digest(named as never, new Uint8Array(1))).rejects.toThrow('mine: name');
    const gen = {
      name: 'RSA-PSS',
      get modulusLength(): number {
        throw new RangeError('mine: modulusLength');
      },
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    };
    await expect(accel.subtle.generateKey(gen as never, true, ['sign'])).rejects.toThrow(
      'mine: modulusLength',
    );
    await expect(node.generateKey(gen as never, true, ['sign'])).rejects.toThrow('mine: modulusLength');
  });
});

describe('the CryptoKey class', () => {
  it('every key subtle returns is an instance, including the keys node makes', async () => {
    const s = accel.subtle;
    const keys = [
      ...Object.values(await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])),
      ...Object.values(await s.generateKey('Ed448' as never, true, ['sign', 'verify'])),
      await s.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']),
      await s.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
      await s.importKey('raw', new Uint8Array(16), 'AES-KW', false, ['wrapKey']),
      await s.importKey('raw', new Uint8Array(16), 'HKDF', false, ['deriveKey']),
    ];
    for (const key of keys) {
      expect(key).toBeInstanceOf(CryptoKey);
      expect(key).toBeInstanceOf(accel.crypto.CryptoKey);
      expect(Object.prototype.toString.call(key)).toBe('[object CryptoKey]');
      expect(() => structuredClone(key)).toThrow(expect.objectContaining({ name: 'DataCloneError' }));
    }
    expect(keys.map((k) => k.type)).toEqual([
      'public',
      'private',
      'public',
      'private',
      'secret',
      'secret',
      'secret',
      'secret',
    ]);
    // The wrapped node keys still work, in and out of node.
    const [, , , , aes, hmac] = keys;
    const iv = new Uint8Array(12);
    const ct = await s.encrypt({ name: 'AES-GCM', iv }, aes!, new Uint8Array([1, 2]));
    expect(new Uint8Array(await s.decrypt({ name: 'AES-GCM', iv }, aes!, ct))).toEqual(
      new Uint8Array([1, 2]),
    );
    const mac = await s.sign('HMAC', hmac!, new Uint8Array([1]));
    expect(await s.verify('HMAC', hmac!, mac, new Uint8Array([1]))).toBe(true);
    expect(hmac!.algorithm).toMatchObject({ name: 'HMAC', hash: { name: 'SHA-256' } });
  });

  it('is not constructible, and is exported at runtime', async () => {
    expect(() => new (CryptoKey as unknown as new () => unknown)()).toThrow(TypeError);
    const entry = await import('../../index.js');
    expect(entry.CryptoKey).toBe(CryptoKey);
    expect(typeof entry.installGlobalCrypto).toBe('function');
  });
});

describe('installGlobalCrypto', () => {
  it('replaces globalThis.crypto until restored; asymmetric on the accelerator, symmetric through node', async () => {
    const before = globalThis.crypto;
    const beforeKey = (globalThis as { CryptoKey?: unknown }).CryptoKey;
    const restore = installGlobalCrypto(accel);
    try {
      expect(globalThis.crypto).toBe(accel.crypto);
      const g = globalThis.crypto.subtle;
      const pair = (await g.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, [
        'sign',
        'verify',
      ])) as unknown as CryptoKeyPair;
      expect(pair.privateKey).toBeInstanceOf(
        (globalThis as unknown as { CryptoKey: typeof CryptoKey }).CryptoKey,
      );
      const sig = await g.sign(
        { name: 'ECDSA', hash: 'SHA-384' },
        pair.privateKey as never,
        new Uint8Array([1]),
      );
      expect(
        await g.verify({ name: 'ECDSA', hash: 'SHA-384' }, pair.publicKey as never, sig, new Uint8Array([1])),
      ).toBe(true);
      const aes = await g.generateKey({ name: 'AES-CBC', length: 128 }, true, ['encrypt', 'decrypt']);
      const iv = globalThis.crypto.getRandomValues(new Uint8Array(16));
      const ct = await g.encrypt({ name: 'AES-CBC', iv }, aes, new Uint8Array(5));
      expect((await g.decrypt({ name: 'AES-CBC', iv }, aes, ct)).byteLength).toBe(5);
      expect(Buffer.from(await g.digest('SHA-1', new Uint8Array(0))).toString('hex')).toBe(
        'da39a3ee5e6b4b0d3255bfef95601890afd80709',
      );
      expect(globalThis.crypto.randomUUID()).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      restore();
    }
    expect(globalThis.crypto).toBe(before);
    expect((globalThis as { CryptoKey?: unknown }).CryptoKey).toBe(beforeKey);
    restore(); // idempotent
    expect(globalThis.crypto).toBe(before);
  });

  it('accel.crypto is node’s Crypto type without a cast', () => {
    // Type-checked by `npm run typecheck`: this assignment needs no cast.
    const asNodeCrypto: webcrypto.Crypto = accel.crypto;
    const asGlobal: typeof globalThis.crypto = accel.crypto;
    expect(asNodeCrypto.subtle).toBe(asGlobal.subtle);
  });
});

describe('RSA limits and policy', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pkcs8 = small.privateKey.export({ format: 'der', type: 'pkcs8' });
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

  it('by default private operations on a 1024-bit key work, as in node', async () => {
    const ours = await accel.subtle.importKey('pkcs8', pkcs8, alg, false, ['sign']);
    const theirs = await node.importKey('pkcs8', pkcs8, alg, false, ['sign']);
    const msg = new Uint8Array([1, 2, 3]);
    expect(Buffer.from(await accel.subtle.sign(alg, ours, msg))).toEqual(
      Buffer.from(await node.sign(alg, theirs, msg)),
    );
  });

  it('a policy refuses small RSA private keys and curves outside its list', async () => {
    const strict = await openAccelerator({
      devices: ['software'],
      policy: { minRsaPrivateBits: 2048, curves: ['P-256', 'Ed25519'] },
    });
    try {
      const s = strict.subtle;
      expect(await outcome(s.importKey('pkcs8', pkcs8, alg, false, ['sign']))).toBe('NotSupportedError');
      // The public half is still usable: the policy bounds private operations.
      const spki = small.publicKey.export({ format: 'der', type: 'spki' });
      expect(await outcome(s.importKey('spki', spki, alg, false, ['verify']))).toBe('ok');
      expect(
        await outcome(
          s.generateKey({ ...alg, modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]) }, false, [
            'sign',
          ]),
        ),
      ).toBe('NotSupportedError');
      expect(await outcome(s.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign']))).toBe(
        'NotSupportedError',
      );
      expect(await outcome(s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']))).toBe(
        'ok',
      );
      expect(await outcome(s.generateKey('X25519', false, ['deriveBits']))).toBe('NotSupportedError');
      // A key made elsewhere is refused when used.
      const elsewhere = await accel.subtle.importKey('pkcs8', pkcs8, alg, false, ['sign']);
      expect(await outcome(s.sign(alg, elsewhere, new Uint8Array(1)))).toBe('NotSupportedError');
    } finally {
      await strict.close();
    }
  });
});
