/**
 * RSA keys: SPKI, PKCS#8 and JWK, parsed and written with our own DER codec
 * because node's KeyObject cannot hand out the extra primes of a multi-prime
 * key (RFC 8017 otherPrimeInfos), which pkaccel accepts.
 */

import { InvalidKeyError, UnsupportedError } from '../driver/errors.js';
import type { HashName, RsaOtherPrime, RsaPublicKeyMaterial } from '../driver/keys.js';
import { RSA_MODULUS_BITS, RsaPrivateKeyMaterial } from '../driver/keys.js';
import {
  bytesEqual,
  DER_NULL,
  DerReader,
  derBitString,
  derOctetString,
  derOid,
  derSequence,
  derUnsignedInteger,
  TAG,
} from './der.js';
import { b64uBigint, bigintB64u, checkJwkMembers, jwkAttributes } from './jwk.js';
import type { ImportedKey, JsonWebKey, KeyAttributes, RsaAlgorithmName } from './types.js';

const RSA_ENCRYPTION = derOid('1.2.840.113549.1.1.1');

/** Smallest and largest modulus we parse: the one RSA limit (a deployment's policy may be stricter). */
const { min: MIN_MODULUS_BITS, max: MAX_MODULUS_BITS } = RSA_MODULUS_BITS;

function publicMaterial(n: bigint, e: bigint): RsaPublicKeyMaterial {
  checkPublic(n, e);
  return { kind: 'rsa-public', n, e, bits: n.toString(2).length };
}

function checkPublic(n: bigint, e: bigint): void {
  const bits = n.toString(2).length;
  if (bits < MIN_MODULUS_BITS || bits > MAX_MODULUS_BITS)
    throw new InvalidKeyError(
      `RSA modulus of ${bits} bits is outside ${MIN_MODULUS_BITS}..${MAX_MODULUS_BITS}`,
    );
  if ((n & 1n) === 0n) throw new InvalidKeyError('RSA modulus is even');
  if (e < 3n || (e & 1n) === 0n || e >= n) throw new InvalidKeyError('RSA public exponent is invalid');
}

/** Build private material after checking that the primes multiply to n and the CRT values are in range. */
function privateMaterial(
  n: bigint,
  e: bigint,
  d: bigint,
  p: bigint,
  q: bigint,
  dp: bigint,
  dq: bigint,
  qi: bigint,
  others: readonly RsaOtherPrime[],
): RsaPrivateKeyMaterial {
  checkPublic(n, e);
  let product = p * q;
  for (const o of others) product *= o.r;
  if (product !== n) throw new InvalidKeyError('RSA private key primes do not multiply to the modulus');
  if (d <= 0n || d >= n) throw new InvalidKeyError('RSA private exponent is out of range');
  if (dp <= 0n || dp >= p || dq <= 0n || dq >= q || qi <= 0n || qi >= p)
    throw new InvalidKeyError('RSA private key CRT values are out of range');
  for (const o of others)
    if (o.d <= 0n || o.d >= o.r || o.t <= 0n || o.t >= o.r)
      throw new InvalidKeyError('RSA private key extra-prime values are out of range');
  return new RsaPrivateKeyMaterial(n, e, d, p, q, dp, dq, qi, others);
}

function readAlgorithmIdentifier(reader: DerReader, what: string): void {
  const algorithm = reader.readSequence(what);
  const oid = algorithm.read(TAG.oid);
  const encodedOid = new Uint8Array([TAG.oid, oid.contents.length, ...oid.contents]);
  if (!bytesEqual(encodedOid, RSA_ENCRYPTION))
    throw new InvalidKeyError(`${what} is not an rsaEncryption key`);
  if (!algorithm.done) {
    algorithm.read(TAG.null);
    algorithm.end();
  }
}

export function rsaFromSpki(der: Uint8Array): ImportedKey {
  const outer = new DerReader(der, 'SubjectPublicKeyInfo');
  const spki = outer.readSequence('SubjectPublicKeyInfo');
  outer.end();
  readAlgorithmIdentifier(spki, 'SubjectPublicKeyInfo');
  const bits = spki.read(TAG.bitString).contents;
  spki.end();
  if (bits[0] !== 0) throw new InvalidKeyError('malformed SubjectPublicKeyInfo: unused bits in key');
  const rsaOuter = new DerReader(bits.subarray(1), 'RSAPublicKey');
  const rsa = rsaOuter.readSequence('RSAPublicKey');
  rsaOuter.end();
  const n = rsa.readUnsignedInteger();
  const e = rsa.readUnsignedInteger();
  rsa.end();
  return { type: 'public', material: publicMaterial(n, e) };
}

export function rsaFromPkcs8(der: Uint8Array): ImportedKey {
  const outer = new DerReader(der, 'PKCS#8 PrivateKeyInfo');
  const info = outer.readSequence('PKCS#8 PrivateKeyInfo');
  outer.end();
  const version = info.readUnsignedInteger();
  if (version > 1n) throw new InvalidKeyError('unknown PKCS#8 version');
  readAlgorithmIdentifier(info, 'PKCS#8 PrivateKeyInfo');
  const keyBytes = info.read(TAG.octetString).contents;
  // Attributes ([0]) and a public key ([1], version 1) may follow; they carry nothing we need.
  const rsaOuter = new DerReader(keyBytes, 'RSAPrivateKey');
  const rsa = rsaOuter.readSequence('RSAPrivateKey');
  rsaOuter.end();
  const rsaVersion = rsa.readUnsignedInteger();
  const [n, e, d, p, q, dp, dq, qi] = Array.from({ length: 8 }, () => rsa.readUnsignedInteger()) as [
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  const others: RsaOtherPrime[] = [];
  if (rsaVersion === 1n) {
    const seq = rsa.readSequence('RSAPrivateKey otherPrimeInfos');
    while (!seq.done) {
      const info2 = seq.readSequence('OtherPrimeInfo');
      const r = info2.readUnsignedInteger();
      const di = info2.readUnsignedInteger();
      const t = info2.readUnsignedInteger();
      info2.end();
      others.push({ r, d: di, t });
    }
    if (others.length === 0) throw new InvalidKeyError('multi-prime RSAPrivateKey without extra primes');
  } else if (rsaVersion !== 0n) {
    throw new InvalidKeyError('unknown RSAPrivateKey version');
  }
  rsa.end();
  return { type: 'private', material: privateMaterial(n, e, d, p, q, dp, dq, qi, others) };
}

export function rsaToSpki(key: RsaPublicKeyMaterial): Uint8Array {
  return derSequence(
    derSequence(RSA_ENCRYPTION, DER_NULL),
    derBitString(derSequence(derUnsignedInteger(key.n), derUnsignedInteger(key.e))),
  );
}

export function rsaToPkcs8(key: RsaPrivateKeyMaterial): Uint8Array {
  const multi = key.otherPrimes.length > 0;
  const fields = [key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qi].map(derUnsignedInteger);
  const others = multi
    ? [
        derSequence(
          ...key.otherPrimes.map((o) =>
            derSequence(derUnsignedInteger(o.r), derUnsignedInteger(o.d), derUnsignedInteger(o.t)),
          ),
        ),
      ]
    : [];
  const rsaPrivateKey = derSequence(derUnsignedInteger(multi ? 1n : 0n), ...fields, ...others);
  return derSequence(
    derUnsignedInteger(0n),
    derSequence(RSA_ENCRYPTION, DER_NULL),
    derOctetString(rsaPrivateKey),
  );
}

const HASH_SUFFIX: Readonly<Record<HashName, string>> = {
  'SHA-1': '1',
  'SHA-256': '256',
  'SHA-384': '384',
  'SHA-512': '512',
};

/** The JWK `alg` WebCrypto associates with an RSA algorithm and hash (none for RSA-RAW). */
export function rsaJwkAlg(name: RsaAlgorithmName, hash: HashName | undefined): string | undefined {
  if (hash === undefined || name === 'RSA-RAW') return undefined;
  const suffix = HASH_SUFFIX[hash];
  if (name === 'RSASSA-PKCS1-v1_5') return `RS${suffix}`;
  if (name === 'RSA-PSS') return `PS${suffix}`;
  return hash === 'SHA-1' ? 'RSA-OAEP' : `RSA-OAEP-${suffix}`;
}

export function rsaFromJwk(
  jwk: JsonWebKey,
  name: RsaAlgorithmName,
  hash: HashName | undefined,
  attributes: KeyAttributes,
): ImportedKey {
  const alg = rsaJwkAlg(name, hash);
  checkJwkMembers(
    jwk,
    {
      kty: 'RSA',
      use: name === 'RSA-OAEP' || name === 'RSA-RAW' ? 'enc' : 'sig',
      alg: alg === undefined ? undefined : [alg],
    },
    attributes,
  );
  const n = b64uBigint(jwk, 'n');
  const e = b64uBigint(jwk, 'e');
  if (jwk.d === undefined) return { type: 'public', material: publicMaterial(n, e) };
  const crt = ['p', 'q', 'dp', 'dq', 'qi'] as const;
  if (crt.some((m) => jwk[m] === undefined))
    throw new UnsupportedError('RSA private JWKs without the CRT members p, q, dp, dq, qi are not supported');
  const [p, q, dp, dq, qi] = crt.map((m) => b64uBigint(jwk, m)) as [bigint, bigint, bigint, bigint, bigint];
  const others: RsaOtherPrime[] = [];
  if (jwk.oth !== undefined) {
    if (!Array.isArray(jwk.oth) || jwk.oth.length === 0)
      throw new InvalidKeyError('JWK "oth" must be a non-empty array');
    for (const o of jwk.oth) {
      if (typeof o !== 'object' || o === null) throw new InvalidKeyError('JWK "oth" entry is not an object');
      const entry = o as JsonWebKey;
      others.push({ r: b64uBigint(entry, 'r'), d: b64uBigint(entry, 'd'), t: b64uBigint(entry, 't') });
    }
  }
  return {
    type: 'private',
    material: privateMaterial(n, e, b64uBigint(jwk, 'd'), p, q, dp, dq, qi, others),
  };
}

export function rsaToJwk(
  key: RsaPublicKeyMaterial | RsaPrivateKeyMaterial,
  name: RsaAlgorithmName,
  hash: HashName | undefined,
  attributes: KeyAttributes,
): JsonWebKey {
  const alg = rsaJwkAlg(name, hash);
  const jwk: JsonWebKey = {
    kty: 'RSA',
    ...(alg === undefined ? {} : { alg }),
    ...jwkAttributes(attributes),
    n: bigintB64u(key.n),
    e: bigintB64u(key.e),
  };
  if (key.kind === 'rsa-private') {
    Object.assign(jwk, {
      d: bigintB64u(key.d),
      p: bigintB64u(key.p),
      q: bigintB64u(key.q),
      dp: bigintB64u(key.dp),
      dq: bigintB64u(key.dq),
      qi: bigintB64u(key.qi),
    });
    if (key.otherPrimes.length > 0)
      jwk.oth = key.otherPrimes.map((o) => ({ r: bigintB64u(o.r), d: bigintB64u(o.d), t: bigintB64u(o.t) }));
  }
  return jwk;
}
