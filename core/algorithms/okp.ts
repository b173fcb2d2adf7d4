/**
 * Ed25519 and X25519. There is no composed form: core/math has no Edwards or
 * Montgomery arithmetic, so these run only on devices that do them (the
 * software provider always does).
 */

import { InvalidInputError, InvalidKeyError, throwIfAborted } from '../driver/errors.js';
import type { PrimitiveExecutor } from '../driver/index.js';
import type { OkpCurveName, OkpPrivateKeyMaterial, OkpPublicKeyMaterial } from '../driver/keys.js';
import { takeBits } from './derive-bits.js';
import type { Options } from './params.js';
import { booleanResult, bytesResult } from './results.js';

const KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;

function checkOkpKey(key: OkpPrivateKeyMaterial | OkpPublicKeyMaterial, curve: OkpCurveName): void {
  if (key.curve !== curve) throw new InvalidKeyError(`expected an ${curve} key, got ${String(key.curve)}`);
  const bytes = key.kind === 'okp-private' ? key.d : key.x;
  if (!(bytes instanceof Uint8Array) || bytes.length !== KEY_BYTES) {
    throw new InvalidKeyError(`${curve} keys are ${KEY_BYTES} bytes`);
  }
}

export async function ed25519Sign(
  exec: PrimitiveExecutor,
  key: OkpPrivateKeyMaterial,
  message: Uint8Array,
  options?: Options,
): Promise<Uint8Array> {
  throwIfAborted(options?.signal);
  checkOkpKey(key, 'Ed25519');
  const result = await exec.runFirst([{ op: 'eddsa-sign', key, message }], { signal: options?.signal });
  return bytesResult(result, ED25519_SIGNATURE_BYTES);
}

export async function ed25519Verify(
  exec: PrimitiveExecutor,
  key: OkpPublicKeyMaterial,
  message: Uint8Array,
  signature: Uint8Array,
  options?: Options,
): Promise<boolean> {
  throwIfAborted(options?.signal);
  checkOkpKey(key, 'Ed25519');
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  const result = await exec.runFirst([{ op: 'eddsa-verify', key, message, signature }], {
    signal: options?.signal,
  });
  return booleanResult(result);
}

export async function x25519DeriveBits(
  exec: PrimitiveExecutor,
  key: OkpPrivateKeyMaterial,
  peer: OkpPublicKeyMaterial,
  lengthBits: number | null,
  options?: Options,
): Promise<Uint8Array> {
  throwIfAborted(options?.signal);
  checkOkpKey(key, 'X25519');
  checkOkpKey(peer, 'X25519');
  const result = await exec.runFirst([{ op: 'x25519', key, peer: peer.x }], { signal: options?.signal });
  const secret = bytesResult(result, KEY_BYTES);
  // A small-order peer point gives the all-zero secret (RFC 7748 §6.1): refuse it.
  let any = 0;
  for (const b of secret) any |= b;
  if (any === 0)
    throw new InvalidInputError('X25519 peer key is a small-order point (all-zero shared secret)');
  return takeBits(secret, lengthBits);
}
