/** ECDSA/ECDH keys on P-256, P-384 and P-521: raw points, SPKI, PKCS#8 and JWK. */

import { validateEcPublicKey } from '../algorithms/index.js';
import { bigintToBytes, bytesToBigint } from '../driver/bytes.js';
import { InvalidKeyError } from '../driver/errors.js';
import {
  EC_FIELD_BYTES,
  type EcCurveName,
  EcPrivateKeyMaterial,
  type EcPublicKeyMaterial,
} from '../driver/keys.js';
import { bytesEqual, DerReader, derBitString, derElement, derOid, derSequence, TAG } from './der.js';
import { b64uBytes, bytesB64u, checkJwkMembers, jwkAttributes } from './jwk.js';
import { checkJwkWithKeyObject, jwkToPkcs8, pkcs8ToJwk, spkiToJwk } from './key-object.js';
import type { ImportedKey, JsonWebKey, KeyAttributes } from './types.js';

const OPENSSL_CURVE: Readonly<Record<string, EcCurveName>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/** The named curves' object identifiers (SPKI's parameters, PKCS#11's CKA_EC_PARAMS). */
export const CURVE_OID: Readonly<Record<EcCurveName, string>> = {
  'P-256': '1.2.840.10045.3.1.7',
  'P-384': '1.3.132.0.34',
  'P-521': '1.3.132.0.35',
};

const ECDSA_JWK_ALG: Readonly<Record<EcCurveName, string>> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
};

type EcName = 'ECDSA' | 'ECDH';

function checkCurve(found: string | undefined, curve: EcCurveName, what: string): void {
  const name = found === undefined ? undefined : OPENSSL_CURVE[found];
  if (name !== curve) throw new InvalidKeyError(`${what} is not a named ${curve} key`);
}

function publicFromJwk(jwk: JsonWebKey, curve: EcCurveName): EcPublicKeyMaterial {
  const size = EC_FIELD_BYTES[curve];
  const x = b64uBytes(jwk, 'x');
  const y = b64uBytes(jwk, 'y');
  if (x.length !== size || y.length !== size)
    throw new InvalidKeyError(`EC coordinates must be ${size} bytes for ${curve}`);
  const key: EcPublicKeyMaterial = { kind: 'ec-public', curve, x: bytesToBigint(x), y: bytesToBigint(y) };
  validateEcPublicKey(key);
  return key;
}

function privateFromJwk(jwk: JsonWebKey, curve: EcCurveName): EcPrivateKeyMaterial {
  const d = b64uBytes(jwk, 'd');
  if (d.length !== EC_FIELD_BYTES[curve])
    throw new InvalidKeyError(`EC private scalar must be ${EC_FIELD_BYTES[curve]} bytes for ${curve}`);
  return new EcPrivateKeyMaterial(curve, bytesToBigint(d), publicFromJwk(jwk, curve));
}

/** A raw point (uncompressed 04‖x‖y, or compressed 02/03‖x) wrapped as SPKI so OpenSSL decodes it. */
export function ecFromRaw(raw: Uint8Array, curve: EcCurveName): ImportedKey {
  const size = EC_FIELD_BYTES[curve];
  const compressed = raw.length === size + 1 && (raw[0] === 2 || raw[0] === 3);
  const uncompressed = raw.length === 2 * size + 1 && raw[0] === 4;
  if (!compressed && !uncompressed)
    throw new InvalidKeyError(`raw ${curve} public key must be a ${2 * size + 1}- or ${size + 1}-byte point`);
  const spki = derSequence(
    derSequence(derOid('1.2.840.10045.2.1'), derOid(CURVE_OID[curve])),
    derBitString(raw),
  );
  return ecFromSpki(spki, curve);
}

/**
 * WebCrypto takes EC keys whose AlgorithmIdentifier names the curve by OID; OpenSSL
 * would also take explicit curve parameters (and match them to a named curve even
 * with a wrong cofactor), so we read the identifier ourselves first.
 */
function requireNamedCurve(der: Uint8Array, curve: EcCurveName, container: 'spki' | 'pkcs8'): void {
  const what = container === 'spki' ? 'SubjectPublicKeyInfo' : 'PKCS#8 PrivateKeyInfo';
  const outer = new DerReader(der, what);
  const info = outer.readSequence(what);
  if (container === 'pkcs8') info.readUnsignedInteger();
  const algorithm = info.readSequence(`${what} AlgorithmIdentifier`);
  algorithm.read(TAG.oid);
  if (algorithm.peekTag() !== TAG.oid)
    throw new InvalidKeyError(`${what} must name its curve (explicit curve parameters are not accepted)`);
  const params = algorithm.read(TAG.oid);
  if (!bytesEqual(derElement(TAG.oid, params.contents), derOid(CURVE_OID[curve])))
    throw new InvalidKeyError(`${what} is not a ${curve} key`);
  algorithm.end();
}

export function ecFromSpki(der: Uint8Array, curve: EcCurveName): ImportedKey {
  requireNamedCurve(der, curve, 'spki');
  const { jwk, namedCurve } = spkiToJwk(der, 'ec');
  checkCurve(namedCurve, curve, 'SubjectPublicKeyInfo');
  return { type: 'public', material: publicFromJwk(jwk, curve) };
}

export function ecFromPkcs8(der: Uint8Array, curve: EcCurveName): ImportedKey {
  requireNamedCurve(der, curve, 'pkcs8');
  const { jwk, namedCurve } = pkcs8ToJwk(der, 'ec');
  checkCurve(namedCurve, curve, 'PKCS#8 PrivateKeyInfo');
  return { type: 'private', material: privateFromJwk(jwk, curve) };
}

export function ecFromJwk(
  jwk: JsonWebKey,
  name: EcName,
  curve: EcCurveName,
  attributes: KeyAttributes,
): ImportedKey {
  checkJwkMembers(
    jwk,
    {
      kty: 'EC',
      use: name === 'ECDSA' ? 'sig' : 'enc',
      alg: name === 'ECDSA' ? [ECDSA_JWK_ALG[curve]] : undefined,
    },
    attributes,
  );
  if (jwk.crv !== curve) throw new InvalidKeyError(`JWK "crv" must be "${curve}"`);
  const isPrivate = jwk.d !== undefined;
  // Sizes first (our messages), then OpenSSL's own consistency checks.
  const material = isPrivate ? privateFromJwk(jwk, curve) : publicFromJwk(jwk, curve);
  checkJwkWithKeyObject(
    { kty: 'EC', crv: curve, x: jwk.x, y: jwk.y, ...(isPrivate ? { d: jwk.d } : {}) },
    isPrivate,
  );
  return isPrivate
    ? { type: 'private', material: material as EcPrivateKeyMaterial }
    : { type: 'public', material: material as EcPublicKeyMaterial };
}

function coordinates(key: EcPublicKeyMaterial): { x: Uint8Array; y: Uint8Array } {
  const size = EC_FIELD_BYTES[key.curve];
  return { x: bigintToBytes(key.x, size), y: bigintToBytes(key.y, size) };
}

export function ecToRaw(key: EcPublicKeyMaterial): Uint8Array {
  const { x, y } = coordinates(key);
  const out = new Uint8Array(1 + x.length + y.length);
  out[0] = 4;
  out.set(x, 1);
  out.set(y, 1 + x.length);
  return out;
}

export function ecToSpki(key: EcPublicKeyMaterial): Uint8Array {
  return derSequence(
    derSequence(derOid('1.2.840.10045.2.1'), derOid(CURVE_OID[key.curve])),
    derBitString(ecToRaw(key)),
  );
}

function plainJwk(key: EcPublicKeyMaterial | EcPrivateKeyMaterial): JsonWebKey {
  const pub = key.kind === 'ec-private' ? key.publicKey : key;
  const { x, y } = coordinates(pub);
  const jwk: JsonWebKey = { kty: 'EC', crv: key.curve, x: bytesB64u(x), y: bytesB64u(y) };
  if (key.kind === 'ec-private') jwk.d = bytesB64u(bigintToBytes(key.d, EC_FIELD_BYTES[key.curve]));
  return jwk;
}

export function ecToPkcs8(key: EcPrivateKeyMaterial): Uint8Array {
  return jwkToPkcs8(plainJwk(key));
}

/** Like node's webcrypto, EC JWKs are exported without `alg` (WebCrypto sets none for ECDSA or ECDH). */
export function ecToJwk(
  key: EcPublicKeyMaterial | EcPrivateKeyMaterial,
  attributes: KeyAttributes,
): JsonWebKey {
  return { ...plainJwk(key), ...jwkAttributes(attributes) };
}
