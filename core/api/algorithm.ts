/**
 * Normalising WebCrypto algorithm identifiers (a name, or an object with a
 * `name` and parameters) the way WebIDL does: names match case-insensitively,
 * a missing required member is a TypeError, an unknown algorithm is
 * NotSupportedError.
 */

import type { EcCurveName, HashName } from '../driver/keys.js';
import { domError } from './dom-errors.js';

/** The asymmetric algorithms pkaccel runs on its devices. */
export const ASYMMETRIC_NAMES = [
  'RSASSA-PKCS1-v1_5',
  'RSA-PSS',
  'RSA-OAEP',
  'RSA-RAW',
  'ECDSA',
  'ECDH',
  'Ed25519',
  'X25519',
] as const;
export type AsymmetricName = (typeof ASYMMETRIC_NAMES)[number];

const HASHES: readonly HashName[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
const CURVES: readonly EcCurveName[] = ['P-256', 'P-384', 'P-521'];

/** An algorithm identifier as a caller passes it. */
export type AlgorithmIdentifier = string | { readonly name: string; readonly [member: string]: unknown };

/** A normalised identifier: the raw parameter object with the name checked. */
export interface NormalizedAlgorithm {
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export function normalize(algorithm: unknown): NormalizedAlgorithm {
  if (typeof algorithm === 'string') return { name: algorithm, params: { name: algorithm } };
  if (typeof algorithm !== 'object' || algorithm === null)
    throw new TypeError('algorithm must be a string or an object with a "name"');
  const name = (algorithm as { name?: unknown }).name;
  if (typeof name !== 'string') throw new TypeError('algorithm.name is required and must be a string');
  return { name, params: algorithm as Record<string, unknown> };
}

/** The canonical spelling of an asymmetric algorithm name, or undefined if it is not one of ours. */
export function asymmetricName(name: string): AsymmetricName | undefined {
  const upper = name.toUpperCase();
  if (upper === 'RSAES-PKCS1-V1_5')
    throw domError(
      'NotSupportedError',
      'RSAES-PKCS1-v1_5 is not offered (padding-oracle risk); use RSA-OAEP',
    );
  return ASYMMETRIC_NAMES.find((n) => n.toUpperCase() === upper);
}

/** A `hash` member: a name or `{ name }`; required when `required`. */
export function hashParam(params: Readonly<Record<string, unknown>>, required: true): HashName;
export function hashParam(params: Readonly<Record<string, unknown>>, required: false): HashName | undefined;
export function hashParam(
  params: Readonly<Record<string, unknown>>,
  required: boolean,
): HashName | undefined {
  const value = params.hash;
  if (value === undefined) {
    if (required) throw new TypeError(`${String(params.name)}: the "hash" member is required`);
    return undefined;
  }
  const name = normalize(value).name.toUpperCase();
  const hash = HASHES.find((h) => h === name);
  if (!hash) throw domError('NotSupportedError', `unsupported hash "${normalize(value).name}"`);
  return hash;
}

export function curveParam(params: Readonly<Record<string, unknown>>): EcCurveName {
  const value = params.namedCurve;
  if (typeof value !== 'string') throw new TypeError(`${String(params.name)}: "namedCurve" is required`);
  const curve = CURVES.find((c) => c === value);
  if (!curve) throw domError('NotSupportedError', `unsupported named curve "${value}"`);
  return curve;
}

/** A required unsigned integer member (WebIDL [EnforceRange] unsigned long). */
export function integerParam(params: Readonly<Record<string, unknown>>, member: string): number {
  const value = params[member];
  if (value === undefined) throw new TypeError(`${String(params.name)}: "${member}" is required`);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new TypeError(`${String(params.name)}: "${member}" must be an unsigned 32-bit integer`);
  return value;
}

/** Copy a BufferSource (ArrayBuffer or view) into a fresh Uint8Array, as WebCrypto does. */
export function bufferSource(value: unknown, what: string): Uint8Array {
  // Uint8Array#slice copies faster than ArrayBuffer#slice (no species lookup).
  if (value instanceof ArrayBuffer) return new Uint8Array(value).slice();
  if (ArrayBuffer.isView(value))
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)
    throw new TypeError(`${what} must not be a SharedArrayBuffer`);
  throw new TypeError(`${what} must be an ArrayBuffer or an ArrayBufferView`);
}

/** An ArrayBuffer holding exactly `bytes` (WebCrypto results are ArrayBuffers). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}
