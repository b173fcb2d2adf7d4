import {
  constants,
  createHash,
  generateKeyPairSync,
  privateDecrypt,
  publicDecrypt,
  publicEncrypt,
  sign,
} from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { takeBits } from '../../core/algorithms/derive-bits.js';
import { encodeDer, parseDer } from '../../core/algorithms/ecdsa-encoding.js';
import { derToP1363, p1363ToDer } from '../../core/algorithms/index.js';
import { emeOaepDecode, emeOaepEncode } from '../../core/algorithms/oaep.js';
import { InvalidInputError } from '../../core/driver/errors.js';
import type { HashName } from '../../core/driver/keys.js';
import { emsaPkcs1v15Encode } from '../../core/encoding/emsa-pkcs1v15.js';
import { emsaPssEncode, emsaPssVerify } from '../../core/encoding/emsa-pss.js';
import {
  HASHES as ALL_HASHES,
  DIGEST_INFO_PREFIX,
  HASH_BYTES,
  HASH_NAMES,
  isHashName,
  NODE_HASH as NODE_HASH_TABLE,
} from '../../core/encoding/hashes.js';
import { mgf1 } from '../../core/encoding/mgf1.js';
import { HASHES, NODE_HASH } from './node-executors.js';

const HLEN: Record<HashName, number> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

describe('MGF1', () => {
  it('matches a known answer and is a prefix-consistent stream', () => {
    // MGF1-SHA-1("foo", 3) and ("bar", 50), the values used across PKCS#1 test suites.
    expect(Buffer.from(mgf1('SHA-1', new TextEncoder().encode('foo'), 3)).toString('hex')).toBe('1ac907');
    expect(Buffer.from(mgf1('SHA-1', new TextEncoder().encode('bar'), 50)).toString('hex')).toBe(
      'bc0c655e016bc2931d85a2e675181adcef7f581f76df2739da74faac41627be2f7f415c89e983fd0ce80ced9878641cb4876',
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...HASHES),
        fc.uint8Array(),
        fc.nat(300),
        fc.nat(300),
        (hash, seed, a, b) => {
          const [short, long] = a < b ? [a, b] : [b, a];
          expect(mgf1(hash, seed, long).subarray(0, short)).toEqual(mgf1(hash, seed, short));
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('EMSA-PKCS1-v1_5', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  it('equals what node’s signatures open to, for every hash', () => {
    for (const hash of HASHES) {
      const msg = new Uint8Array([1, 2, 3]);
      const sig = sign(NODE_HASH[hash], msg, privateKey);
      const opened = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, sig);
      const mHash = new Uint8Array(createHash(NODE_HASH[hash]).update(msg).digest());
      expect(Buffer.from(emsaPkcs1v15Encode(hash, mHash, 256)).equals(opened)).toBe(true);
    }
  });
  it('refuses a digest of the wrong length or a modulus too short', () => {
    expect(() => emsaPkcs1v15Encode('SHA-256', new Uint8Array(31), 256)).toThrow(InvalidInputError);
    expect(() => emsaPkcs1v15Encode('SHA-512', new Uint8Array(64), 64)).toThrow(InvalidInputError);
  });
});

describe('EMSA-PSS', () => {
  it('encode then verify round-trips for any salt length and modulus size; any bit flip fails', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...HASHES),
        fc.integer({ min: 1024, max: 2100 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.nat(),
        fc.nat(),
        (hash, modBits, digest, saltSeed, flip) => {
          const mHash = digest.subarray(0, HLEN[hash]);
          const max = Math.ceil((modBits - 1) / 8) - HLEN[hash] - 2;
          const saltLength = saltSeed % (max + 1);
          const em = emsaPssEncode(hash, mHash, modBits, saltLength);
          expect(em).toHaveLength(Math.ceil((modBits - 1) / 8));
          expect(emsaPssVerify(hash, mHash, em, modBits, saltLength)).toBe(true);
          if (saltLength > 0) expect(emsaPssVerify(hash, mHash, em, modBits, saltLength - 1)).toBe(false);
          const bad = em.slice();
          const bit = flip % (8 * bad.length);
          bad[bit >> 3]! ^= 1 << (bit & 7);
          expect(emsaPssVerify(hash, mHash, bad, modBits, saltLength)).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });
  it('refuses a salt that does not fit', () => {
    expect(() => emsaPssEncode('SHA-256', new Uint8Array(32), 2048, 256 - 32 - 1)).toThrow(InvalidInputError);
  });
});

describe('EME-OAEP', () => {
  it('round-trips for any hash, label and fitting message', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...HASHES),
        fc.uint8Array({ maxLength: 20 }),
        fc.integer({ min: 130, max: 300 }),
        fc.uint8Array({ maxLength: 300 }),
        (hash, label, k, message) => {
          const msg = message.subarray(0, Math.max(0, k - 2 * HLEN[hash] - 2));
          const em = emeOaepEncode(hash, label, msg, k);
          expect(em).toHaveLength(k);
          expect(emeOaepDecode(hash, label, em, k)).toEqual(msg);
        },
      ),
      { numRuns: 60 },
    );
  });
  it('node’s OAEP decryption of our EM, raised to e, gives the message back', () => {
    const msg = new Uint8Array([1, 2, 3, 4]);
    const label = new Uint8Array([9, 9]);
    const em = emeOaepEncode('SHA-256', label, msg, 256);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ct = publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, em);
    const options = {
      key: privateKey,
      padding: constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: 'sha256',
      oaepLabel: label,
    };
    expect(new Uint8Array(privateDecrypt(options, ct))).toEqual(msg);
  });
  it('every corruption fails with one and the same error', () => {
    const em = emeOaepEncode('SHA-256', new Uint8Array(), new Uint8Array([5, 6]), 256);
    const messages = new Set<string>();
    fc.assert(
      fc.property(fc.nat(256 * 8 - 1), (bit) => {
        const bad = em.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        let error: unknown;
        try {
          emeOaepDecode('SHA-256', new Uint8Array(), bad, 256);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(InvalidInputError);
        messages.add((error as Error).message);
      }),
      { numRuns: 100 },
    );
    expect(() => emeOaepDecode('SHA-256', new Uint8Array([1]), em, 256)).toThrow(InvalidInputError);
    expect(messages.size).toBe(1);
  });
  it('an over-long message is InvalidInputError', () => {
    expect(() => emeOaepEncode('SHA-256', new Uint8Array(), new Uint8Array(191), 256)).toThrow(
      InvalidInputError,
    );
  });
});

describe('ECDSA signature encodings', () => {
  const field = fc.constantFrom(32, 48, 66);
  it('P1363 → DER → P1363 round-trips', () => {
    fc.assert(
      fc.property(field, fc.uint8Array({ minLength: 132, maxLength: 132 }), (len, bytes) => {
        const p1363 = bytes.subarray(0, 2 * len);
        const der = p1363ToDer(p1363, len)!;
        expect(derToP1363(der, len)).toEqual(p1363);
      }),
    );
  });
  it('DER from node is read, and what we write node reads', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 10; i++) {
      const msg = new Uint8Array([i]);
      const der = sign('sha256', msg, { key: privateKey, dsaEncoding: 'der' });
      const p1363 = derToP1363(der, 32)!;
      expect(Buffer.from(p1363ToDer(p1363, 32)!).equals(der)).toBe(true);
    }
  });
  it('strict DER: non-minimal, negative, trailing, truncated, wrong tags and long forms are refused', () => {
    const good = encodeDer(0x80n, 1n); // 30 07 02 02 00 80 02 01 01
    expect(Buffer.from(good).toString('hex')).toBe('3007020200800201' + '01');
    expect(parseDer(good)).toEqual({ r: 0x80n, s: 1n });
    for (const bad of [
      '300702020080020101' + '00', // trailing byte
      '3008020300008002010' + '1', // non-minimal integer 00 00 80
      '30060201800201' + '01', // negative r
      '3007020200800201', // truncated
      '31070202008002010' + '1', // SET, not SEQUENCE
      '3007030200800201' + '01', // BIT STRING, not INTEGER
      '308107020200800201' + '01', // long-form length for a short sequence
      '300802810200800201' + '01', // long-form integer length
      '3006020002020101', // empty integer
      '3080020200800201' + '010000', // indefinite length
      '3008020200800201' + '01', // sequence length too long
      '',
    ]) {
      expect(parseDer(hex(bad)), bad).toBeNull();
    }
    expect(derToP1363(encodeDer(1n << 256n, 1n), 32)).toBeNull();
    expect(p1363ToDer(new Uint8Array(63), 32)).toBeNull();
  });
  it('long-form sequence lengths are read (P-521 signatures exceed 127 bytes)', () => {
    const big = (1n << 520n) + 12345n;
    const der = encodeDer(big, big);
    expect(der[1]).toBe(0x81);
    expect(derToP1363(der, 66)).not.toBeNull();
  });
});

describe('deriveBits length', () => {
  it('null keeps everything; other lengths truncate and mask; too many is an error', () => {
    const secret = hex('85312164');
    expect(takeBits(secret, null)).toBe(secret);
    expect(takeBits(secret, 0)).toEqual(new Uint8Array());
    expect(takeBits(secret, 5)).toEqual(hex('80'));
    expect(takeBits(secret, 12)).toEqual(hex('8530'));
    expect(takeBits(secret, 32)).toEqual(secret);
    expect(() => takeBits(secret, 33)).toThrow(InvalidInputError);
    expect(() => takeBits(secret, 1.5)).toThrow(InvalidInputError);
  });
});

describe('the hash table (core/encoding/hashes)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  it('has the DigestInfo prefix and length node signs with, for every hash it names', () => {
    for (const [name, facts] of Object.entries(ALL_HASHES)) {
      const message = new TextEncoder().encode(`message for ${name}`);
      // PKCS#1 v1.5 signature opened with the public key, unpadded: DigestInfo ‖ H.
      const t = publicDecrypt(
        { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
        sign(facts.node, message, privateKey),
      );
      const h = createHash(facts.node).update(message).digest();
      expect(h.length, name).toBe(facts.bytes);
      expect(Buffer.from(t).toString('hex'), name).toBe(
        Buffer.concat([facts.digestInfoPrefix, h]).toString('hex'),
      );
    }
  });
  it('projects the same facts for pkaccel hash names', () => {
    for (const name of HASH_NAMES) {
      expect(HASH_BYTES[name]).toBe(ALL_HASHES[name].bytes);
      expect(NODE_HASH_TABLE[name]).toBe(ALL_HASHES[name].node);
      expect(DIGEST_INFO_PREFIX[name]).toBe(ALL_HASHES[name].digestInfoPrefix);
    }
    expect(isHashName('SHA-256')).toBe(true);
    expect(isHashName('sha-256')).toBe(false);
  });
});
