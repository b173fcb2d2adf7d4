import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PkaccelError } from '../../core/driver/errors.js';
import type { EcPrivateKeyMaterial, RsaPrivateKeyMaterial } from '../../core/driver/keys.js';
import {
  exportKeyMaterial,
  importKeyMaterial,
  type JsonWebKey,
  type KeySpec,
} from '../../core/key-formats/index.js';
import { threePrimeKey } from './multi-prime.js';

const attrs = { extractable: true, usages: [] as string[] };
const u8 = (b: Buffer | ArrayBuffer | Uint8Array) => new Uint8Array(b as ArrayBuffer);

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (error) {
    return (error as PkaccelError).code;
  }
  return undefined;
}

describe('RSA keys', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spec: KeySpec = { family: 'rsa', name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

  it('imports SPKI and PKCS#8 and exports the same bytes', () => {
    const spki = u8(publicKey.export({ format: 'der', type: 'spki' }));
    const pkcs8 = u8(privateKey.export({ format: 'der', type: 'pkcs8' }));
    const pub = importKeyMaterial('spki', spki, spec, attrs);
    const priv = importKeyMaterial('pkcs8', pkcs8, spec, attrs);
    expect(pub.type).toBe('public');
    expect(priv.type).toBe('private');
    expect(exportKeyMaterial('spki', pub.material, spec, attrs)).toEqual(spki);
    expect(exportKeyMaterial('pkcs8', priv.material, spec, attrs)).toEqual(pkcs8);
    const jwk = privateKey.export({ format: 'jwk' });
    expect((priv.material as RsaPrivateKeyMaterial).bits).toBe(2048);
    const fromJwk = importKeyMaterial('jwk', jwk as JsonWebKey, spec, attrs);
    const back = exportKeyMaterial('jwk', fromJwk.material, spec, attrs) as JsonWebKey;
    expect(back).toMatchObject({ ...jwk, alg: 'RS256', ext: true, key_ops: [] });
  });

  it('round-trips a three-prime key through PKCS#8 and JWK, and OpenSSL agrees with the encoding', () => {
    const key = threePrimeKey(2048);
    const pkcs8 = exportKeyMaterial('pkcs8', key, spec, attrs) as Uint8Array;
    const imported = importKeyMaterial('pkcs8', pkcs8, spec, attrs).material as RsaPrivateKeyMaterial;
    expect(imported.otherPrimes).toHaveLength(1);
    expect(imported.otherPrimes[0]).toEqual(key.otherPrimes[0]);
    expect(imported.d).toBe(key.d);
    // OpenSSL parses our multi-prime PKCS#8 and signs with it; the public half verifies.
    const ko = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
    const signature = nodeSign('sha256', Buffer.from('multi'), ko);
    const spki = exportKeyMaterial('spki', imported.publicKey, spec, attrs) as Uint8Array;
    expect(
      nodeVerify(
        'sha256',
        Buffer.from('multi'),
        createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }),
        signature,
      ),
    ).toBe(true);
    const jwk = exportKeyMaterial('jwk', key, spec, attrs) as JsonWebKey;
    expect(jwk.oth).toHaveLength(1);
    const again = importKeyMaterial('jwk', jwk, spec, attrs).material as RsaPrivateKeyMaterial;
    expect(again.otherPrimes[0]?.t).toBe(key.otherPrimes[0]?.t);
  });

  it('refuses inconsistent private keys and malformed DER', () => {
    const jwk = privateKey.export({ format: 'jwk' }) as JsonWebKey;
    const wrongP = { ...jwk, p: jwk.q };
    expect(codeOf(() => importKeyMaterial('jwk', wrongP, spec, attrs))).toBe('invalid-key');
    const pkcs8 = u8(privateKey.export({ format: 'der', type: 'pkcs8' }));
    expect(codeOf(() => importKeyMaterial('pkcs8', pkcs8.subarray(0, 100), spec, attrs))).toBe('invalid-key');
    const trailing = new Uint8Array([...pkcs8, 0]);
    expect(codeOf(() => importKeyMaterial('pkcs8', trailing, spec, attrs))).toBe('invalid-key');
    const ecSpki = u8(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' }),
    );
    expect(codeOf(() => importKeyMaterial('spki', ecSpki, spec, attrs))).toBe('invalid-key');
    expect(codeOf(() => importKeyMaterial('raw', ecSpki, spec, attrs))).toBe('unsupported');
  });

  it('checks JWK kty, alg, use, key_ops and ext', () => {
    const jwk = publicKey.export({ format: 'jwk' }) as JsonWebKey;
    const verify = { extractable: true, usages: ['verify'] };
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, kty: 'EC' }, spec, verify))).toBe('invalid-key');
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, alg: 'RS384' }, spec, verify))).toBe(
      'invalid-key',
    );
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, alg: 'RS256' }, spec, verify))).toBeUndefined();
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, use: 'enc' }, spec, verify))).toBe('invalid-key');
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, key_ops: ['sign'] }, spec, verify))).toBe(
      'invalid-key',
    );
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, ext: false }, spec, verify))).toBe('invalid-key');
    expect(
      codeOf(() => importKeyMaterial('jwk', { ...jwk, ext: false }, spec, { ...verify, extractable: false })),
    ).toBeUndefined();
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, n: 'not base64url!' }, spec, verify))).toBe(
      'invalid-key',
    );
    const oaep: KeySpec = { family: 'rsa', name: 'RSA-OAEP', hash: 'SHA-1' };
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, alg: 'RSA-OAEP' }, oaep, attrs))).toBeUndefined();
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, alg: 'RSA-OAEP-256' }, oaep, attrs))).toBe(
      'invalid-key',
    );
  });
});

describe('EC keys', () => {
  for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const spec: KeySpec = { family: 'ec', name: 'ECDSA', curve };

    it(`${curve}: SPKI, PKCS#8, JWK and raw (uncompressed and compressed) agree with node`, () => {
      const spki = u8(publicKey.export({ format: 'der', type: 'spki' }));
      const jwk = privateKey.export({ format: 'jwk' }) as JsonWebKey;
      const pub = importKeyMaterial('spki', spki, spec, attrs);
      expect(exportKeyMaterial('spki', pub.material, spec, attrs)).toEqual(spki);
      const raw = exportKeyMaterial('raw', pub.material, spec, attrs) as Uint8Array;
      expect(raw[0]).toBe(4);
      const compressed = u8(
        createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({
          format: 'der',
          type: 'spki',
        }),
      );
      expect(compressed).toEqual(spki);
      const size = (raw.length - 1) / 2;
      const comp = new Uint8Array(size + 1);
      comp[0] = 2 + (raw[raw.length - 1]! & 1);
      comp.set(raw.subarray(1, 1 + size), 1);
      expect(importKeyMaterial('raw', comp, spec, attrs).material).toEqual(pub.material);
      const priv = importKeyMaterial(
        'pkcs8',
        u8(privateKey.export({ format: 'der', type: 'pkcs8' })),
        spec,
        attrs,
      );
      expect((priv.material as EcPrivateKeyMaterial).publicKey).toEqual(pub.material);
      const out = exportKeyMaterial('jwk', priv.material, spec, attrs) as JsonWebKey;
      expect(out).toMatchObject(jwk);
      expect(out.alg).toBeUndefined();
      const pkcs8 = exportKeyMaterial('pkcs8', priv.material, spec, attrs) as Uint8Array;
      expect(
        createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }),
      ).toEqual(jwk);
    });
  }

  it('refuses points off the curve, the wrong curve, wrong sizes and mismatched crv', () => {
    const spec: KeySpec = { family: 'ec', name: 'ECDH', curve: 'P-256' };
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'jwk',
    }) as JsonWebKey;
    const raw = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from(jwk.y!, 'base64url'),
    ]);
    const off = Uint8Array.from(raw);
    off[64] = off[64]! ^ 1;
    expect(codeOf(() => importKeyMaterial('raw', off, spec, attrs))).toBe('invalid-key');
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, y: jwk.x }, spec, attrs))).toBe('invalid-key');
    expect(codeOf(() => importKeyMaterial('raw', raw.subarray(0, 40), spec, attrs))).toBe('invalid-key');
    expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, crv: 'P-384' }, spec, attrs))).toBe('invalid-key');
    const p384 = u8(
      generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'der', type: 'spki' }),
    );
    expect(codeOf(() => importKeyMaterial('spki', p384, spec, attrs))).toBe('invalid-key');
    const priv = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      format: 'jwk',
    }) as JsonWebKey;
    expect(codeOf(() => importKeyMaterial('raw', raw, spec, attrs))).toBeUndefined();
    expect(
      codeOf(() =>
        exportKeyMaterial('raw', importKeyMaterial('jwk', priv, spec, attrs).material, spec, attrs),
      ),
    ).toBe('unsupported');
  });
});

describe('OKP keys', () => {
  for (const curve of ['Ed25519', 'X25519'] as const) {
    it(`${curve}: SPKI, PKCS#8, JWK and raw agree with node`, () => {
      const { publicKey, privateKey } = generateKeyPairSync(curve.toLowerCase() as 'ed25519', {});
      const spec: KeySpec = { family: 'okp', name: curve };
      const spki = u8(publicKey.export({ format: 'der', type: 'spki' }));
      const pkcs8 = u8(privateKey.export({ format: 'der', type: 'pkcs8' }));
      const pub = importKeyMaterial('spki', spki, spec, attrs);
      expect(exportKeyMaterial('spki', pub.material, spec, attrs)).toEqual(spki);
      expect(importKeyMaterial('raw', spki.subarray(12), spec, attrs).material).toEqual(pub.material);
      const priv = importKeyMaterial('pkcs8', pkcs8, spec, attrs);
      expect(exportKeyMaterial('pkcs8', priv.material, spec, attrs)).toEqual(pkcs8);
      const jwk = privateKey.export({ format: 'jwk' }) as JsonWebKey;
      expect(
        exportKeyMaterial('jwk', importKeyMaterial('jwk', jwk, spec, attrs).material, spec, attrs),
      ).toMatchObject(jwk);
      const other = generateKeyPairSync(curve.toLowerCase() as 'ed25519', {}).publicKey.export({
        format: 'jwk',
      });
      expect(codeOf(() => importKeyMaterial('jwk', { ...jwk, x: other.x }, spec, attrs))).toBe('invalid-key');
      expect(codeOf(() => importKeyMaterial('raw', spki.subarray(13), spec, attrs))).toBe('invalid-key');
      expect(codeOf(() => importKeyMaterial('spki', pkcs8, spec, attrs))).toBe('invalid-key');
    });
  }
});
