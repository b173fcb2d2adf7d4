/** Validation of Weierstrass keys and points, and the public key of a private scalar. */

import { CURVES, type CurveParams } from '../driver/curves.js';
import { DeviceError, InvalidKeyError, throwIfAborted } from '../driver/errors.js';
import type { PrimitiveExecutor } from '../driver/index.js';
import type { EcCurveName, EcPublicKeyMaterial } from '../driver/keys.js';
import type { EcPoint } from '../driver/primitives.js';
import { ecMultiply, isOnCurve } from '../math/ec.js';
import type { Options } from './params.js';
import { pointResult } from './results.js';

export function curveParams(name: EcCurveName): CurveParams {
  const curve = Object.hasOwn(CURVES, name) ? CURVES[name] : undefined;
  if (curve === undefined) throw new InvalidKeyError(`unknown elliptic curve ${String(name)}`);
  return curve;
}

/**
 * Full public-key validation (SP 800-56A §5.6.2.3.3): coordinates in [0, p),
 * on the curve, not the identity. The identity has no affine form and (0, 0) is
 * not on any of these curves (b ≠ 0), so a point that passes is finite; with
 * cofactor 1 every finite point on the curve is in the subgroup of order n.
 */
export function validateEcPublicKey(key: EcPublicKeyMaterial): void {
  if (key.kind !== 'ec-public') throw new InvalidKeyError('expected an EC public key');
  const seen = validated.get(key);
  if (seen !== undefined && seen.curve === key.curve && seen.x === key.x && seen.y === key.y) return;
  const curve = curveParams(key.curve);
  if (typeof key.x !== 'bigint' || typeof key.y !== 'bigint' || !isOnCurve(curve, key)) {
    throw new InvalidKeyError(`public point is not a valid point of ${curve.name}`);
  }
  validated.set(key, { curve: key.curve, x: key.x, y: key.y });
}

/**
 * Public keys that passed validation, by identity, with the values that passed:
 * ECDSA verification and ECDH validate the key on every call, and the bigint
 * on-curve check is a few microseconds of main-thread time each. A key whose
 * values differ from the ones recorded is validated again.
 */
const validated = new WeakMap<
  EcPublicKeyMaterial,
  { readonly curve: EcCurveName; readonly x: bigint; readonly y: bigint }
>();

/** A point a device computed must be on the curve; anything else is the device's fault. */
export function checkDevicePoint(curve: CurveParams, point: EcPoint, device: string): void {
  if (!isOnCurve(curve, point)) {
    throw new DeviceError(`device ${device} returned a point that is not on ${curve.name}`, { device });
  }
}

export function checkPrivateScalar(curve: CurveParams, d: bigint): void {
  if (typeof d !== 'bigint' || d < 1n || d >= curve.n) {
    throw new InvalidKeyError(`EC private scalar is outside [1, n−1] for ${curve.name}`);
  }
}

/**
 * d·G on a device that does scalar multiplication; when none does, with
 * core/math on this thread (a one-off at key import, not a hot path).
 */
export async function ecPublicKeyFromPrivate(
  exec: PrimitiveExecutor,
  curveName: EcCurveName,
  d: bigint,
  options?: Options,
): Promise<EcPublicKeyMaterial> {
  throwIfAborted(options?.signal);
  const curve = curveParams(curveName);
  checkPrivateScalar(curve, d);
  const request = { op: 'ec-mul', curve: curveName, scalar: d } as const;
  let point: EcPoint;
  if (exec.supports(request)) {
    const result = await exec.runFirst([request], { signal: options?.signal });
    // On the curve: checked by the integrity gate (core/integrity) before release.
    point = pointResult(result);
  } else {
    point = ecMultiply(curve, d)!;
  }
  return { kind: 'ec-public', curve: curveName, x: point.x, y: point.y };
}
