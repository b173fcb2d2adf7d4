/**
 * Type checks on what a device handed back. The executor's `runFirst` returns a
 * PrimitiveValue union; a value of the wrong shape is the device's fault.
 */

import type { AlternativeResult } from '../driver/device.js';
import { DeviceError } from '../driver/errors.js';
import type { KeyPairMaterial } from '../driver/keys.js';
import type { EcPoint } from '../driver/primitives.js';

function wrongShape(result: AlternativeResult, what: string): DeviceError {
  return new DeviceError(`device ${result.device} returned something other than ${what}`, {
    device: result.device,
  });
}

export function bytesResult(result: AlternativeResult, length?: number): Uint8Array {
  const value = result.value;
  if (!(value instanceof Uint8Array)) throw wrongShape(result, 'a byte string');
  if (length !== undefined && value.length !== length) {
    throw new DeviceError(`device ${result.device} returned ${value.length} bytes where ${length} were due`, {
      device: result.device,
    });
  }
  return value;
}

export function booleanResult(result: AlternativeResult): boolean {
  if (typeof result.value !== 'boolean') throw wrongShape(result, 'a boolean');
  return result.value;
}

export function pointResult(result: AlternativeResult): EcPoint {
  const value = result.value;
  if (
    typeof value !== 'object' ||
    value === null ||
    !('x' in value) ||
    !('y' in value) ||
    typeof value.x !== 'bigint' ||
    typeof value.y !== 'bigint'
  ) {
    throw wrongShape(result, 'a point');
  }
  return value as EcPoint;
}

export function keyPairResult(result: AlternativeResult): KeyPairMaterial {
  const value = result.value;
  if (typeof value !== 'object' || value === null || !('privateKey' in value)) {
    throw wrongShape(result, 'a key pair');
  }
  return value;
}
