/**
 * Test keys: node:crypto key pairs (the independent reference) and the core key
 * material made from them, so a test can run a card and check it with node.
 */

import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  generatePrimeSync,
  type KeyObject,
  type webcrypto,
} from 'node:crypto';
import {
  type EcCurveName,
  EcPrivateKeyMaterial,
  type OkpPrivateKeyMaterial,
  RsaPrivateKeyMaterial,
} from '../../core/driver/keys.js';
import { modInv } from '../../core/math/modular.js';

/** A JWK integer member (base64url, unsigned big-endian) as a bigint; absent or empty is 0. */
export function jwkInt(value: string | undefined): bigint {
  return BigInt(`0x${Buffer.from(value ?? '', 'base64url').toString('hex') || '0'}`);
}

type Jwk = webcrypto.JsonWebKey & Record<string, string>;

/** The private JWK of a node KeyObject. */
export function jwkOf(key: KeyObject): Jwk {
  return key.export({ format: 'jwk' }) as Jwk;
}

/** Core RSA key material from a private RSA JWK. */
export function rsaMaterialFromJwk(j: webcrypto.JsonWebKey): RsaPrivateKeyMaterial {
  return new RsaPrivateKeyMaterial(
    jwkInt(j.n),
    jwkInt(j.e),
    jwkInt(j.d),
    jwkInt(j.p),
    jwkInt(j.q),
    jwkInt(j.dp),
    jwkInt(j.dq),
    jwkInt(j.qi),
  );
}

/** Core RSA key material from node's private key. */
export function rsaMaterial(privateKey: KeyObject): RsaPrivateKeyMaterial {
  return rsaMaterialFromJwk(jwkOf(privateKey));
}

/** Node's curve name for each NIST curve. */
export const NODE_CURVE: Record<EcCurveName, string> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
};

/** Core EC key material from node's private key on `curve`. */
export function ecMaterial(privateKey: KeyObject, curve: EcCurveName): EcPrivateKeyMaterial {
  const j = jwkOf(privateKey);
  return new EcPrivateKeyMaterial(curve, jwkInt(j.d), {
    kind: 'ec-public',
    curve,
    x: jwkInt(j.x),
    y: jwkInt(j.y),
  });
}

/** A key pair: core material, node's KeyObjects and the private JWK. */
export interface TestKey<M> {
  readonly material: M;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: Jwk;
}

/** A fresh RSA key pair of `bits`. */
export function newRsaKey(bits = 2048): TestKey<RsaPrivateKeyMaterial> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { material: rsaMaterial(privateKey), privateKey, publicKey, jwk: jwkOf(privateKey) };
}

const rsaCache = new Map<number, TestKey<RsaPrivateKeyMaterial>>();

/** An RSA key pair of `bits`, made once per test file (key generation is slow). */
export function cachedRsaKey(bits = 2048): TestKey<RsaPrivateKeyMaterial> {
  let key = rsaCache.get(bits);
  if (key === undefined) {
    key = newRsaKey(bits);
    rsaCache.set(bits, key);
  }
  return key;
}

/** A fresh EC key pair on `curve`. */
export function newEcKey(curve: EcCurveName = 'P-256'): TestKey<EcPrivateKeyMaterial> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: NODE_CURVE[curve] });
  return { material: ecMaterial(privateKey, curve), privateKey, publicKey, jwk: jwkOf(privateKey) };
}

/** X25519 by OpenSSL (node:crypto): the secret `key` shares with the public value `peer`. */
export function x25519ByNode(key: OkpPrivateKeyMaterial, peer: Uint8Array): Uint8Array {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: b64(key.d), x: b64(key.publicKey.x) },
    format: 'jwk',
  });
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(peer) }, format: 'jwk' });
  return new Uint8Array(diffieHellman({ privateKey, publicKey }));
}

/**
 * A three-prime RSA key (e = 65537) from node's primes of these sizes (node cannot
 * generate multi-prime keys); with `modulusBits`, drawn again until the modulus
 * has exactly that many bits.
 */
export function threePrimeRsaKey(
  primeBits: readonly [number, number, number] = [512, 512, 512],
  modulusBits?: number,
): RsaPrivateKeyMaterial {
  const e = 65537n;
  for (;;) {
    const [p, q, r] = primeBits.map((bits) => generatePrimeSync(bits, { bigint: true })) as [
      bigint,
      bigint,
      bigint,
    ];
    const n = p * q * r;
    if (new Set([p, q, r]).size !== 3) continue;
    if (modulusBits !== undefined && n.toString(2).length !== modulusBits) continue;
    const phi = (p - 1n) * (q - 1n) * (r - 1n);
    let d: bigint;
    try {
      d = modInv(e, phi);
    } catch {
      continue;
    }
    return new RsaPrivateKeyMaterial(n, e, d, p, q, d % (p - 1n), d % (q - 1n), modInv(q, p), [
      { r, d: d % (r - 1n), t: modInv(p * q, r) },
    ]);
  }
}
