/** ECDH (SP 800-56A ECC CDH, cofactor 1): the device's ECDH first, scalar multiplication second. */

import { bigintToBytes } from '../driver/bytes.js';
import { InvalidKeyError, throwIfAborted } from '../driver/errors.js';
import type { PrimitiveExecutor } from '../driver/index.js';
import type { EcPrivateKeyMaterial, EcPublicKeyMaterial } from '../driver/keys.js';
import { takeBits } from './derive-bits.js';
import { curveParams, validateEcPublicKey } from './ec-keys.js';
import type { Options } from './params.js';
import { bytesResult, pointResult } from './results.js';

export async function ecdhDeriveBits(
  exec: PrimitiveExecutor,
  key: EcPrivateKeyMaterial,
  peer: EcPublicKeyMaterial,
  lengthBits: number | null,
  options?: Options,
): Promise<Uint8Array> {
  throwIfAborted(options?.signal);
  const curve = curveParams(key.curve);
  validateEcPublicKey(peer);
  if (peer.curve !== key.curve) {
    throw new InvalidKeyError(`ECDH peer key is on ${peer.curve}, the private key on ${key.curve}`);
  }
  const result = await exec.runFirst(
    [
      { op: 'ecdh', key, peer },
      { op: 'ec-mul', curve: key.curve, scalar: key, point: { x: peer.x, y: peer.y } },
    ],
    { signal: options?.signal },
  );
  let secret: Uint8Array;
  if (result.index === 0) {
    secret = bytesResult(result, curve.bytes);
  } else {
    // On the curve: checked by the integrity gate (core/integrity) before release.
    const point = pointResult(result);
    secret = bigintToBytes(point.x, curve.bytes);
  }
  return takeBits(secret, lengthBits);
}
