/**
 * core/key-formats: the key container codecs (what a key looks like on the
 * wire, not the key material itself, which is core/driver/keys.ts). May import
 * core/driver (errors, key material), core/encoding, core/math and node:crypto.
 *
 * Key import and export: JWK, SPKI, PKCS#8 and raw public keys, for every
 * asymmetric algorithm pkaccel offers, into and out of the key material classes
 * of core/driver/keys.ts.
 *
 * Errors: InvalidKeyError for data that is malformed or does not fit the
 * algorithm (WebCrypto's DataError), UnsupportedError for a format the key type
 * has no encoding in (WebCrypto's NotSupportedError on import, InvalidAccessError
 * on export, decided by core/api). Messages never contain key material.
 */

import { UnsupportedError } from '../driver/errors.js';
import type { PrivateKeyMaterial, PublicKeyMaterial } from '../driver/keys.js';
import {
  ecFromJwk,
  ecFromPkcs8,
  ecFromRaw,
  ecFromSpki,
  ecToJwk,
  ecToPkcs8,
  ecToRaw,
  ecToSpki,
} from './ec.js';
import {
  okpFromJwk,
  okpFromPkcs8,
  okpFromRaw,
  okpFromSpki,
  okpToJwk,
  okpToPkcs8,
  okpToRaw,
  okpToSpki,
} from './okp.js';
import { rsaFromJwk, rsaFromPkcs8, rsaFromSpki, rsaToJwk, rsaToPkcs8, rsaToSpki } from './rsa.js';
import type { ImportedKey, JsonWebKey, KeyAttributes, KeyFormat, KeySpec } from './types.js';

export { rsaJwkAlg } from './rsa.js';
export type {
  ImportedKey,
  JsonWebKey,
  KeyAttributes,
  KeyFormat,
  KeySpec,
  RsaAlgorithmName,
} from './types.js';

function refuse(format: KeyFormat, what: string): never {
  throw new UnsupportedError(`the "${format}" format is not available for ${what}`);
}

/** Parse key data in `format` as a key of `spec`. JWK members are checked against `attributes`. */
export function importKeyMaterial(
  format: KeyFormat,
  data: Uint8Array | JsonWebKey,
  spec: KeySpec,
  attributes: KeyAttributes,
): ImportedKey {
  if (format === 'jwk') {
    const jwk = data as JsonWebKey;
    if (spec.family === 'rsa') return rsaFromJwk(jwk, spec.name, spec.hash, attributes);
    if (spec.family === 'ec') return ecFromJwk(jwk, spec.name, spec.curve, attributes);
    return okpFromJwk(jwk, spec.name, attributes);
  }
  const bytes = data as Uint8Array;
  switch (spec.family) {
    case 'rsa':
      if (format === 'spki') return rsaFromSpki(bytes);
      if (format === 'pkcs8') return rsaFromPkcs8(bytes);
      return refuse(format, 'RSA keys');
    case 'ec':
      if (format === 'spki') return ecFromSpki(bytes, spec.curve);
      if (format === 'pkcs8') return ecFromPkcs8(bytes, spec.curve);
      return ecFromRaw(bytes, spec.curve);
    case 'okp':
      if (format === 'spki') return okpFromSpki(bytes, spec.name);
      if (format === 'pkcs8') return okpFromPkcs8(bytes, spec.name);
      return okpFromRaw(bytes, spec.name);
  }
}

/** Serialise key material in `format`; UnsupportedError when the key type has no such encoding. */
export function exportKeyMaterial(
  format: KeyFormat,
  material: PublicKeyMaterial | PrivateKeyMaterial,
  spec: KeySpec,
  attributes: KeyAttributes,
): Uint8Array | JsonWebKey {
  switch (material.kind) {
    case 'rsa-public':
    case 'rsa-private': {
      const name = spec.family === 'rsa' ? spec.name : 'RSA-RAW';
      const hash = spec.family === 'rsa' ? spec.hash : undefined;
      if (format === 'jwk') return rsaToJwk(material, name, hash, attributes);
      if (format === 'spki' && material.kind === 'rsa-public') return rsaToSpki(material);
      if (format === 'pkcs8' && material.kind === 'rsa-private') return rsaToPkcs8(material);
      return refuse(format, `an RSA ${material.kind === 'rsa-public' ? 'public' : 'private'} key`);
    }
    case 'ec-public':
    case 'ec-private': {
      if (format === 'jwk') return ecToJwk(material, attributes);
      if (material.kind === 'ec-public') {
        if (format === 'raw') return ecToRaw(material);
        if (format === 'spki') return ecToSpki(material);
      } else if (format === 'pkcs8') return ecToPkcs8(material);
      return refuse(format, `an EC ${material.kind === 'ec-public' ? 'public' : 'private'} key`);
    }
    case 'okp-public':
    case 'okp-private':
      if (format === 'jwk') return okpToJwk(material, attributes);
      if (material.kind === 'okp-public') {
        if (format === 'raw') return okpToRaw(material);
        if (format === 'spki') return okpToSpki(material);
      } else if (format === 'pkcs8') return okpToPkcs8(material);
      return refuse(
        format,
        `a ${material.curve} ${material.kind === 'okp-public' ? 'public' : 'private'} key`,
      );
  }
}
