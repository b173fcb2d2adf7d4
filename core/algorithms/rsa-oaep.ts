/**
 * RSAES-OAEP over whatever the devices offer: the device's own OAEP first, raw
 * RSA with the encoding done here second. (RSAES-PKCS1-v1_5 decryption exists
 * only with implicit rejection, rsaes-pkcs1-implicit.ts, for the PKCS#11 token:
 * no error to be a padding oracle. The WebCrypto API offers none.)
 */

import type { Alternative } from '../driver/device.js';
import { InvalidInputError, throwIfAborted } from '../driver/errors.js';
import type { PrimitiveExecutor, RsaEncryptionPadding } from '../driver/index.js';
import type { RsaPrivateKeyMaterial, RsaPublicKeyMaterial } from '../driver/keys.js';
import { emeOaepDecode, emeOaepEncode, oaepDecryptionError, oaepMaxMessageLength } from './oaep.js';
import type { Options, RsaOaepParams } from './params.js';
import { bytesResult } from './results.js';
import { checkRsaPrivateKey, checkRsaPublicKey } from './rsa-limits.js';
import { isRsaRepresentative, modulusBytes } from './rsa-public.js';

const EMPTY = new Uint8Array(0);

function devicePadding(params: RsaOaepParams): RsaEncryptionPadding {
  return { scheme: 'oaep', hash: params.hash, mgfHash: params.hash, label: params.label ?? EMPTY };
}

export async function rsaOaepEncrypt(
  exec: PrimitiveExecutor,
  key: RsaPublicKeyMaterial,
  params: RsaOaepParams,
  plaintext: Uint8Array,
  options?: Options,
): Promise<Uint8Array> {
  throwIfAborted(options?.signal);
  checkRsaPublicKey(key);
  const k = modulusBytes(key);
  const max = oaepMaxMessageLength(params.hash, k);
  if (plaintext.length > max) {
    throw new InvalidInputError(
      max < 0
        ? `RSA modulus too short for OAEP with ${params.hash}`
        : `RSA-OAEP plaintext of ${plaintext.length} bytes is longer than the ${max} bytes this key and ${params.hash} allow`,
    );
  }
  const label = params.label ?? EMPTY;
  const alternatives: Alternative[] = [
    { op: 'rsa-encrypt', key, padding: devicePadding(params), input: plaintext },
    {
      probe: { op: 'rsa-public', key, input: new Uint8Array(k) },
      // The seed is fresh randomness, made only if this alternative is chosen.
      build: () => ({ op: 'rsa-public', key, input: emeOaepEncode(params.hash, label, plaintext, k) }),
    },
  ];
  const result = await exec.runFirst(alternatives, { signal: options?.signal });
  return bytesResult(result, k);
}

/**
 * Decrypt. The integrity gate (core/integrity) checks raw-RSA results (m^e = c)
 * before they get here. A device that does OAEP itself hands back only the
 * plaintext, which cannot be checked against the ciphertext (OAEP is
 * randomised); a CRT fault there breaks the device's own OAEP decoding, so a
 * faulty result does not come out as a value, and what can be checked (the
 * length bound) the gate checks.
 */
export async function rsaOaepDecrypt(
  exec: PrimitiveExecutor,
  key: RsaPrivateKeyMaterial,
  params: RsaOaepParams,
  ciphertext: Uint8Array,
  options?: Options,
): Promise<Uint8Array> {
  throwIfAborted(options?.signal);
  checkRsaPrivateKey(key);
  const k = modulusBytes(key.publicKey);
  if (oaepMaxMessageLength(params.hash, k) < 0) {
    throw new InvalidInputError(`RSA modulus too short for OAEP with ${params.hash}`);
  }
  if (!isRsaRepresentative(key.publicKey, ciphertext)) throw oaepDecryptionError();
  const result = await exec.runFirst(
    [
      { op: 'rsa-decrypt', key, padding: devicePadding(params), input: ciphertext },
      { op: 'rsa-private', key, input: ciphertext },
    ],
    { signal: options?.signal },
  );
  if (result.index === 0) return bytesResult(result);
  const em = bytesResult(result, k);
  return emeOaepDecode(params.hash, params.label ?? EMPTY, em, k);
}
