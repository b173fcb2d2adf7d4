/** JWK member decoding and the consistency checks WebCrypto asks of every imported JWK. */

import { InvalidKeyError } from '../driver/errors.js';
import type { JsonWebKey, KeyAttributes } from './types.js';

/**
 * Whether every character is of the base64url alphabet. A loop, not a regular
 * expression: V8 keeps the last string a RegExp matched in `RegExp.input`, where a
 * private JWK member would stay readable long after the import.
 */
function isBase64url(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const alphanumeric = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alphanumeric && c !== 45 && c !== 95) return false;
  }
  return true;
}

/** Decode a base64url member strictly (no padding, no foreign characters). */
export function b64uBytes(jwk: JsonWebKey, member: string): Uint8Array {
  const value = (jwk as Record<string, unknown>)[member];
  if (typeof value !== 'string')
    throw new InvalidKeyError(`JWK member "${member}" is missing or not a string`);
  if (!isBase64url(value) || value.length % 4 === 1)
    throw new InvalidKeyError(`JWK member "${member}" is not base64url`);
  return Uint8Array.from(Buffer.from(value, 'base64url'));
}

export function b64uBigint(jwk: JsonWebKey, member: string): bigint {
  const bytes = b64uBytes(jwk, member);
  if (bytes.length === 0) throw new InvalidKeyError(`JWK member "${member}" is empty`);
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

export function bytesB64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

export function bigintB64u(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/**
 * The checks of WebCrypto's JWK import steps common to every algorithm: `kty`,
 * `use` against the usages, `key_ops` containing every usage, `ext` not weaker
 * than the requested extractability, and `alg` (when the algorithm defines one).
 */
export function checkJwkMembers(
  jwk: JsonWebKey,
  expected: { kty: string; use: 'sig' | 'enc'; alg?: readonly string[] | undefined },
  attributes: KeyAttributes,
): void {
  if (jwk.kty !== expected.kty) throw new InvalidKeyError(`JWK "kty" must be "${expected.kty}"`);
  if (attributes.usages.length > 0 && jwk.use !== undefined && jwk.use !== expected.use)
    throw new InvalidKeyError(`JWK "use" must be "${expected.use}" for this algorithm`);
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops) || jwk.key_ops.some((op) => typeof op !== 'string'))
      throw new InvalidKeyError('JWK "key_ops" must be an array of strings');
    if (new Set(jwk.key_ops).size !== jwk.key_ops.length)
      throw new InvalidKeyError('JWK "key_ops" has duplicate entries');
    for (const usage of attributes.usages)
      if (!jwk.key_ops.includes(usage)) throw new InvalidKeyError(`JWK "key_ops" does not allow "${usage}"`);
  }
  if (jwk.ext === false && attributes.extractable)
    throw new InvalidKeyError('JWK "ext" is false but an extractable key was requested');
  if (jwk.alg !== undefined && expected.alg !== undefined && !expected.alg.includes(jwk.alg))
    throw new InvalidKeyError(`JWK "alg" "${String(jwk.alg)}" does not match the import algorithm`);
}

/** The members every exported JWK carries besides its key parameters. */
export function jwkAttributes(attributes: KeyAttributes): { key_ops: string[]; ext: boolean } {
  return { key_ops: [...attributes.usages], ext: attributes.extractable };
}
