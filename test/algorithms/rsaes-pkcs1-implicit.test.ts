/**
 * RSAES-PKCS1-v1_5 decryption with implicit rejection (core/algorithms/rsaes-pkcs1-implicit):
 * the draft's own known-answer vectors (valid and synthetic results), encodings built
 * here with each kind of padding fault, and Wycheproof's RSAES-PKCS1-v1_5 decrypt file.
 * The raw private operation runs on `rawExecutor` (node's RSA), as a card would do it.
 */

import { constants, createPrivateKey, createPublicKey, type KeyObject, publicEncrypt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  emePkcs1DecodeImplicit,
  rejectionSecret,
  rsaPkcs1DecryptImplicit,
} from '../../core/algorithms/rsaes-pkcs1-implicit.js';
import { bigintToBytes } from '../../core/driver/bytes.js';
import { InvalidInputError } from '../../core/driver/errors.js';
import type { RsaPrivateKeyMaterial } from '../../core/driver/keys.js';
import { digest } from '../../core/encoding/digest.js';
import { cachedRsaKey, rsaMaterial } from '../support/keys.js';
import { rawExecutor, vectorsDir, wycheproofCases } from './node-executors.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** Raw RSA with the public key (node, no padding): a ciphertext for any encoded message. */
function rawEncrypt(publicKey: KeyObject, em: Uint8Array): Uint8Array {
  return new Uint8Array(publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, em));
}

/** Whether `em` is a valid EME-PKCS1-v1_5 encoding (the plain, branching check: for classifying). */
function validEncoding(em: Uint8Array): boolean {
  if (em[0] !== 0 || em[1] !== 2) return false;
  const zero = em.indexOf(0, 2);
  return zero >= 10;
}

/** The raw private result for a ciphertext (what the card hands back), through the raw executor. */
async function rawPrivate(key: RsaPrivateKeyMaterial, c: Uint8Array): Promise<Uint8Array> {
  const { rsaRawPrivate } = await import('../../core/algorithms/rsa-raw.js');
  return rsaRawPrivate(rawExecutor(), key, c);
}

describe('draft-irtf-cfrg-rsa-guidance appendix B vectors', () => {
  const file = JSON.parse(readFileSync(join(FIXTURES, 'rsa-guidance-vectors.json'), 'utf8')) as {
    sections: { key: string; cases: { id: string; ct: string; ascii?: string; hex?: string }[] }[];
  };
  for (const section of file.sections) {
    it(`${section.key}: every case gives the draft's output (valid and synthetic both seen)`, async () => {
      const key = rsaMaterial(createPrivateKey(readFileSync(join(FIXTURES, section.key))));
      const secret = rejectionSecret(key);
      const k = Math.ceil(key.bits / 8);
      let valid = 0;
      let synthetic = 0;
      for (const c of section.cases) {
        const ct = fromHex(c.ct);
        const want = c.ascii !== undefined ? Buffer.from(c.ascii, 'latin1') : fromHex(c.hex ?? '');
        const exec = rawExecutor();
        const got = await rsaPkcs1DecryptImplicit(exec, key, secret, ct);
        expect(hex(got), c.id).toBe(hex(want));
        expect(exec.ran).toEqual(['rsa-private']);
        if (validEncoding(await rawPrivate(key, ct))) valid++;
        else {
          synthetic++;
          expect(got.length, c.id).toBeLessThanOrEqual(k - 11);
        }
      }
      expect(valid).toBeGreaterThan(0);
      expect(synthetic).toBeGreaterThan(0);
    });
  }
});

describe('the rejection secret', () => {
  it('is SHA-256 of d as a k-byte big-endian string', () => {
    const key = cachedRsaKey(2048).material;
    expect(hex(rejectionSecret(key))).toBe(hex(digest('SHA-256', bigintToBytes(key.d, 256))));
  });
});

describe('encodings built here', () => {
  const { material: key, publicKey } = cachedRsaKey(2048);
  const k = 256;
  const secret = rejectionSecret(key);
  const message = Uint8Array.from(Buffer.from('premaster secret, 48 bytes long, for a TLS 1.2!!'));

  /** 00 02 PS 00 M with PS nonzero of `psLength`, then each fault applied. */
  function encode(psLength: number, m: Uint8Array): Uint8Array {
    const em = new Uint8Array(k);
    em[1] = 2;
    for (let i = 2; i < 2 + psLength; i++) em[i] = 1 + (i % 251);
    em[2 + psLength] = 0;
    em.set(m, 3 + psLength);
    return em;
  }
  const decrypt = (c: Uint8Array) => rsaPkcs1DecryptImplicit(rawExecutor(), key, secret, c);

  it('valid encodings: node-encrypted messages of 0, 1, 48 and k−11 bytes; PS of exactly 8 bytes', async () => {
    for (const length of [0, 1, 48, k - 11]) {
      const m = Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);
      const c = new Uint8Array(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, m));
      expect(hex(await decrypt(c))).toBe(hex(m));
    }
    // PS of exactly 8 bytes: the longest message, k − 11 bytes.
    const longest = Uint8Array.from({ length: k - 11 }, (_, i) => 0xff - (i & 0x7f));
    expect(hex(await decrypt(rawEncrypt(publicKey, encode(8, longest))))).toBe(hex(longest));
  });

  const faults: [string, (em: Uint8Array) => void][] = [
    [
      'first byte 01',
      (em) => {
        em[0] = 1;
      },
    ],
    [
      'second byte 01 (a signature block)',
      (em) => {
        em[1] = 1;
      },
    ],
    [
      'second byte 00',
      (em) => {
        em[1] = 0;
      },
    ],
    ['no zero separator', (em) => em.fill(0x55, 2)],
    ['PS of 7 bytes', (em) => em.set(encode(7, new Uint8Array(k - 10).fill(0x42)))],
    [
      'separator right after 00 02',
      (em) => {
        em[2] = 0;
      },
    ],
  ];
  it('each padding fault gives a synthetic message: no error, ≤ k−11 bytes, stable per ciphertext, differing across ciphertexts', async () => {
    const seen = new Set<string>();
    for (const [name, fault] of faults) {
      const em = encode(200, message);
      fault(em);
      expect(validEncoding(em), name).toBe(false);
      const c = rawEncrypt(publicKey, em);
      const first = await decrypt(c);
      const again = await decrypt(c);
      expect(hex(again), name).toBe(hex(first));
      expect(first.length, name).toBeLessThanOrEqual(k - 11);
      expect(hex(first), name).not.toBe(hex(message));
      seen.add(hex(first));
    }
    expect(seen.size).toBe(faults.length);
  });

  it('the synthetic message depends on the key: another secret, another message', () => {
    const em = encode(200, message);
    em[0] = 1;
    const c = new Uint8Array(k).fill(7);
    const other = digest('SHA-256', secret);
    expect(hex(emePkcs1DecodeImplicit(em, c, secret))).not.toBe(hex(emePkcs1DecodeImplicit(em, c, other)));
  });

  it('synthetic lengths spread over 0..k−11 (64 bad ciphertexts, not one length)', () => {
    const lengths = new Set<number>();
    const em = new Uint8Array(k); // all zero: first byte fine, second wrong
    for (let i = 0; i < 64; i++) {
      const c = new Uint8Array(k).fill(i + 1);
      const out = emePkcs1DecodeImplicit(em, c, secret);
      expect(out.length).toBeLessThanOrEqual(k - 11);
      lengths.add(out.length);
    }
    expect(lengths.size).toBeGreaterThan(32);
  });

  it('public faults throw: a ciphertext not k bytes, or not below n', async () => {
    await expect(decrypt(new Uint8Array(k - 1))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(decrypt(new Uint8Array(k).fill(0xff))).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('Wycheproof RSAES-PKCS1-v1_5 decrypt (rsa_pkcs1_2048_test.json)', () => {
  const path = join(vectorsDir(), 'rsa_pkcs1_2048_test.json');
  it.skipIf(!existsSync(path))(
    `valid cases decrypt to msg; bad paddings give a synthetic message, bad ciphertext formats throw${
      existsSync(path) ? '' : ` (skipped: no ${path}; set PKACCEL_VECTORS)`
    }`,
    async () => {
      const doc = JSON.parse(readFileSync(path, 'utf8')) as {
        testGroups: {
          privateKeyPem?: string;
          tests: { tcId: number; msg: string; ct: string; result: string; flags: string[] }[];
        }[];
      };
      const cases = wycheproofCases();
      let padding = 0;
      for (const group of doc.testGroups) {
        const pem = group.privateKeyPem;
        expect(pem).toBeDefined();
        const key = rsaMaterial(createPrivateKey(pem!));
        const k = Math.ceil(key.bits / 8);
        const secret = rejectionSecret(key);
        expect(createPublicKey(createPrivateKey(pem!)).asymmetricKeyDetails?.modulusLength).toBe(key.bits);
        for (const t of group.tests) {
          const ct = fromHex(t.ct);
          const outcome = await rsaPkcs1DecryptImplicit(rawExecutor(), key, secret, ct).then(
            (out) => ({ out, again: undefined as Uint8Array | undefined }),
            (error: unknown) => ({ error }),
          );
          const synthetic = ct.length === k && t.flags.includes('InvalidPkcs1Padding');
          const again =
            synthetic && 'out' in outcome
              ? await rsaPkcs1DecryptImplicit(rawExecutor(), key, secret, ct)
              : undefined;
          cases.check(
            t,
            () => expect('out' in outcome ? hex(outcome.out) : outcome, `tc ${t.tcId}`).toBe(t.msg),
            () => {
              if (!synthetic) {
                // Wrong length or not below n: public facts, so an error is no oracle.
                expect('error' in outcome && outcome.error, `tc ${t.tcId}`).toBeInstanceOf(InvalidInputError);
                return;
              }
              padding++;
              expect('out' in outcome, `tc ${t.tcId}: no error for a bad padding`).toBe(true);
              const out = (outcome as { out: Uint8Array }).out;
              expect(out.length, `tc ${t.tcId}`).toBeLessThanOrEqual(k - 11);
              expect(hex(again ?? new Uint8Array(0)), `tc ${t.tcId}`).toBe(hex(out));
            },
          );
        }
      }
      cases.done();
      expect(padding).toBeGreaterThan(0);
    },
  );
});
