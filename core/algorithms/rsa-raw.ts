/** Raw RSA (no padding), for callers that do their own encoding. */

import { InvalidInputError, throwIfAborted } from '../driver/errors.js';
import type { PrimitiveExecutor } from '../driver/index.js';
import type { RsaPrivateKeyMaterial, RsaPublicKeyMaterial } from '../driver/keys.js';
import type { Options } from './params.js';
import { bytesResult } from './results.js';
import { checkRsaPrivateKey, checkRsaPublicKey } from './rsa-limits.js';
import { isRsaRepresentative, modulusBytes } from './rsa-public.js';

function checkInput(key: RsaPublicKeyMaterial, input: Uint8Array): void {
  if (!isRsaRepresentative(key, input)) {
    throw new InvalidInputError(`raw RSA input must be ${modulusBytes(key)} bytes and less than the modulus`);
  }
}

export async function rsaRawPublic(
  exec: PrimitiveExecutor,
  key: RsaPublicKeyMaterial,
  input: Uint8Array,
  options?: Options,
): Promise<Uint8Array> {
  throwIfAborted(options?.signal);
  checkRsaPublicKey(key);
  checkInput(key, input);
  const result = await exec.runFirst([{ op: 'rsa-public', key, input }], { signal: options?.signal });
  return bytesResult(result, modulusBytes(key));
}

export async function rsaRawPrivate(
  exec: PrimitiveExecutor,
  key: RsaPrivateKeyMaterial,
  input: Uint8Array,
  options?: Options,
): Promise<Uint8Array> {
  throwIfAborted(options?.signal);
  checkRsaPrivateKey(key);
  checkInput(key.publicKey, input);
  // The integrity gate (core/integrity) has checked output^e mod n = input before release.
  const result = await exec.runFirst([{ op: 'rsa-private', key, input }], { signal: options?.signal });
  return bytesResult(result, modulusBytes(key.publicKey));
}
