/**
 * Parsing and serialising EC and OKP key containers through node:crypto's
 * KeyObject. core may use node:crypto for encodings (not for the key operations
 * themselves, which run on devices): OpenSSL's DER parsers are strict and well
 * tested, and JWK is the neutral form we convert to and from.
 */

import { createPrivateKey, createPublicKey, type KeyObject, type JsonWebKey as NodeJwk } from 'node:crypto';
import { InvalidKeyError } from '../driver/errors.js';
import type { JsonWebKey } from './types.js';

export type KeyObjectType = 'ec' | 'ed25519' | 'x25519';

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function parse(make: () => KeyObject, what: string): KeyObject {
  try {
    return make();
  } catch (error) {
    // OpenSSL's message names the parse failure, not key bytes; keep it as the cause.
    throw new InvalidKeyError(`${what} could not be parsed`, { cause: error });
  }
}

function expectType(key: KeyObject, type: KeyObjectType, what: string): void {
  if (key.asymmetricKeyType !== type)
    throw new InvalidKeyError(`${what} holds a ${key.asymmetricKeyType ?? 'unknown'} key, not ${type}`);
}

const DER_FORMS = {
  spki: {
    what: 'SubjectPublicKeyInfo',
    open: (key: Buffer) => createPublicKey({ key, format: 'der', type: 'spki' }),
  },
  pkcs8: {
    what: 'PKCS#8 PrivateKeyInfo',
    open: (key: Buffer) => createPrivateKey({ key, format: 'der', type: 'pkcs8' }),
  },
} as const;

function derToJwk(
  der: Uint8Array,
  type: KeyObjectType,
  format: keyof typeof DER_FORMS,
): { jwk: JsonWebKey; namedCurve?: string } {
  const { what, open } = DER_FORMS[format];
  const key = parse(() => open(asBuffer(der)), what);
  expectType(key, type, what);
  return { jwk: key.export({ format: 'jwk' }), namedCurve: key.asymmetricKeyDetails?.namedCurve };
}

/** Parse a DER SubjectPublicKeyInfo of the given type into JWK members. */
export function spkiToJwk(der: Uint8Array, type: KeyObjectType): { jwk: JsonWebKey; namedCurve?: string } {
  return derToJwk(der, type, 'spki');
}

/** Parse a DER PKCS#8 PrivateKeyInfo of the given type into JWK members (public part included). */
export function pkcs8ToJwk(der: Uint8Array, type: KeyObjectType): { jwk: JsonWebKey; namedCurve?: string } {
  return derToJwk(der, type, 'pkcs8');
}

/** Check a JWK with OpenSSL (on-curve check for EC points) and return it normalised. */
export function checkJwkWithKeyObject(jwk: JsonWebKey, isPrivate: boolean): JsonWebKey {
  const key = parse(
    () =>
      isPrivate
        ? createPrivateKey({ key: jwk as NodeJwk, format: 'jwk' })
        : createPublicKey({ key: jwk as NodeJwk, format: 'jwk' }),
    'JWK',
  );
  return key.export({ format: 'jwk' });
}

export function jwkToPkcs8(jwk: JsonWebKey): Uint8Array {
  return new Uint8Array(
    createPrivateKey({ key: jwk as NodeJwk, format: 'jwk' }).export({ format: 'der', type: 'pkcs8' }),
  );
}
