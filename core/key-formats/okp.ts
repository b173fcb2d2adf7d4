/** Ed25519 and X25519 keys: raw public keys, SPKI, PKCS#8 and JWK. */

import { InvalidKeyError } from '../driver/errors.js';
import { type OkpCurveName, OkpPrivateKeyMaterial, type OkpPublicKeyMaterial } from '../driver/keys.js';
import { concat } from '../encoding/bytes.js';
import { b64uBytes, bytesB64u, checkJwkMembers, jwkAttributes } from './jwk.js';
import { checkJwkWithKeyObject, jwkToPkcs8, pkcs8ToJwk, spkiToJwk } from './key-object.js';
import type { ImportedKey, JsonWebKey, KeyAttributes } from './types.js';

const KEY_BYTES = 32;

/** The fixed SubjectPublicKeyInfo header before the 32 key bytes (RFC 8410). */
const SPKI_PREFIX: Readonly<Record<OkpCurveName, Uint8Array>> = {
  Ed25519: Uint8Array.from(Buffer.from('302a300506032b6570032100', 'hex')),
  X25519: Uint8Array.from(Buffer.from('302a300506032b656e032100', 'hex')),
};

const TYPE = { Ed25519: 'ed25519', X25519: 'x25519' } as const;

function publicMaterial(curve: OkpCurveName, x: Uint8Array): OkpPublicKeyMaterial {
  if (x.length !== KEY_BYTES) throw new InvalidKeyError(`${curve} public key must be ${KEY_BYTES} bytes`);
  return { kind: 'okp-public', curve, x: Uint8Array.from(x) };
}

function fromJwkMembers(jwk: JsonWebKey, curve: OkpCurveName, isPrivate: boolean): ImportedKey {
  const x = publicMaterial(curve, b64uBytes(jwk, 'x'));
  if (!isPrivate) return { type: 'public', material: x };
  const d = b64uBytes(jwk, 'd');
  if (d.length !== KEY_BYTES) throw new InvalidKeyError(`${curve} private key must be ${KEY_BYTES} bytes`);
  return { type: 'private', material: new OkpPrivateKeyMaterial(curve, d, x) };
}

export function okpFromRaw(raw: Uint8Array, curve: OkpCurveName): ImportedKey {
  if (raw.length !== KEY_BYTES)
    throw new InvalidKeyError(`raw ${curve} public key must be ${KEY_BYTES} bytes`);
  return { type: 'public', material: publicMaterial(curve, raw) };
}

export function okpFromSpki(der: Uint8Array, curve: OkpCurveName): ImportedKey {
  return fromJwkMembers(spkiToJwk(der, TYPE[curve]).jwk, curve, false);
}

export function okpFromPkcs8(der: Uint8Array, curve: OkpCurveName): ImportedKey {
  return fromJwkMembers(pkcs8ToJwk(der, TYPE[curve]).jwk, curve, true);
}

export function okpFromJwk(jwk: JsonWebKey, curve: OkpCurveName, attributes: KeyAttributes): ImportedKey {
  checkJwkMembers(
    jwk,
    {
      kty: 'OKP',
      use: curve === 'Ed25519' ? 'sig' : 'enc',
      alg: curve === 'Ed25519' ? ['EdDSA', 'Ed25519'] : undefined,
    },
    attributes,
  );
  if (jwk.crv !== curve) throw new InvalidKeyError(`JWK "crv" must be "${curve}"`);
  const isPrivate = jwk.d !== undefined;
  const imported = fromJwkMembers(jwk, curve, isPrivate);
  if (isPrivate) {
    // A private JWK's "x" must be the public key of its "d": let OpenSSL derive it and compare.
    const derived = checkJwkWithKeyObject({ kty: 'OKP', crv: curve, d: jwk.d, x: jwk.x }, true);
    if (derived.x !== jwk.x) throw new InvalidKeyError(`JWK "x" is not the public key of "d" (${curve})`);
  }
  return imported;
}

export function okpToRaw(key: OkpPublicKeyMaterial): Uint8Array {
  return Uint8Array.from(key.x);
}

export function okpToSpki(key: OkpPublicKeyMaterial): Uint8Array {
  return concat(SPKI_PREFIX[key.curve], key.x);
}

function plainJwk(key: OkpPublicKeyMaterial | OkpPrivateKeyMaterial): JsonWebKey {
  const pub = key.kind === 'okp-private' ? key.publicKey : key;
  const jwk: JsonWebKey = { kty: 'OKP', crv: key.curve, x: bytesB64u(pub.x) };
  if (key.kind === 'okp-private') jwk.d = bytesB64u(key.d);
  return jwk;
}

export function okpToPkcs8(key: OkpPrivateKeyMaterial): Uint8Array {
  return jwkToPkcs8(plainJwk(key));
}

export function okpToJwk(
  key: OkpPublicKeyMaterial | OkpPrivateKeyMaterial,
  attributes: KeyAttributes,
): JsonWebKey {
  return {
    ...plainJwk(key),
    ...(key.curve === 'Ed25519' ? { alg: 'Ed25519' } : {}),
    ...jwkAttributes(attributes),
  };
}
