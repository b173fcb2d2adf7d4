/**
 * Key generation: the device's keygen first; for EC keys, a random scalar made
 * here and d·G on a device that multiplies points second. RSA and OKP keys come
 * only from a keygen primitive (prime generation and Edwards arithmetic are not
 * composed here; the software provider always generates).
 */

import type { Alternative } from '../driver/device.js';
import { DeviceError, InvalidInputError, throwIfAborted } from '../driver/errors.js';
import type { KeygenSpec, PrimitiveExecutor } from '../driver/index.js';
import { EcPrivateKeyMaterial, type KeyPairMaterial } from '../driver/keys.js';
import { isOnCurve } from '../math/ec.js';
import { checkDevicePoint, curveParams } from './ec-keys.js';
import { randomScalar } from './nonce.js';
import type { Options } from './params.js';
import { keyPairResult, pointResult } from './results.js';
import { RSA_PRIVATE_BITS } from './rsa-limits.js';

function checkSpec(spec: KeygenSpec): void {
  if (spec.kind === 'rsa') {
    if (
      !Number.isInteger(spec.bits) ||
      spec.bits < RSA_PRIVATE_BITS.min ||
      spec.bits > RSA_PRIVATE_BITS.max
    ) {
      throw new InvalidInputError(
        `RSA key size ${spec.bits} is outside ${RSA_PRIVATE_BITS.min}–${RSA_PRIVATE_BITS.max} bits`,
      );
    }
    if (spec.publicExponent < 3n || (spec.publicExponent & 1n) === 0n) {
      throw new InvalidInputError('RSA public exponent must be odd and at least 3');
    }
  } else if (spec.kind === 'ec') {
    curveParams(spec.curve);
  } else if (spec.curve !== 'Ed25519' && spec.curve !== 'X25519') {
    throw new InvalidInputError(`unknown curve ${String(spec.curve)}`);
  }
}

/** What came back must be the kind of key asked for (and an EC public point must be on its curve). */
function checkKeyPair(spec: KeygenSpec, pair: KeyPairMaterial, device: string): KeyPairMaterial {
  const key = pair.privateKey;
  const ok =
    pair.kind === spec.kind &&
    (spec.kind === 'rsa'
      ? key.kind === 'rsa-private' && key.bits === spec.bits && key.e === spec.publicExponent
      : spec.kind === 'ec'
        ? key.kind === 'ec-private' &&
          key.curve === spec.curve &&
          isOnCurve(curveParams(spec.curve), key.publicKey)
        : key.kind === 'okp-private' && key.curve === spec.curve);
  if (!ok) throw new DeviceError(`device ${device} generated a key other than the one asked for`, { device });
  return pair;
}

export async function generateKeyPair(
  exec: PrimitiveExecutor,
  spec: KeygenSpec,
  options?: Options,
): Promise<KeyPairMaterial> {
  throwIfAborted(options?.signal);
  checkSpec(spec);
  const alternatives: Alternative[] = [{ op: 'keygen', spec }];
  let d = 0n;
  if (spec.kind === 'ec') {
    const curve = curveParams(spec.curve);
    alternatives.push({
      probe: { op: 'ec-mul', curve: spec.curve, scalar: 1n },
      build: () => {
        d = randomScalar(curve);
        return { op: 'ec-mul', curve: spec.curve, scalar: d };
      },
    });
  }
  const result = await exec.runFirst(alternatives, { signal: options?.signal });
  if (result.index === 0) return checkKeyPair(spec, keyPairResult(result), result.device);
  if (spec.kind !== 'ec') throw new DeviceError('keygen ran an alternative that does not exist');
  const curve = curveParams(spec.curve);
  const Q = pointResult(result);
  checkDevicePoint(curve, Q, result.device);
  const publicKey = { kind: 'ec-public', curve: spec.curve, x: Q.x, y: Q.y } as const;
  return { kind: 'ec', privateKey: new EcPrivateKeyMaterial(spec.curve, d, publicKey) };
}
