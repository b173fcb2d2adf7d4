/**
 * Type checks on what a device handed back, and how an operation's last step is
 * applied where its job settles. The executor's `runFirst` returns a
 * PrimitiveValue union; a value of the wrong shape is the device's fault.
 */

import type { Alternative, AlternativeResult, Finish, PrimitiveExecutor } from '../driver/device.js';
import { DeviceError } from '../driver/errors.js';
import type { KeyPairMaterial } from '../driver/keys.js';
import type { EcPoint, PrimitiveValue } from '../driver/primitives.js';
import type { Last } from './params.js';

function wrongShape(device: string, what: string): DeviceError {
  return new DeviceError(`device ${device} returned something other than ${what}`, { device });
}

/** A device's value as a byte string (of `length` bytes, when given). */
export function bytesOf(value: PrimitiveValue, device: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw wrongShape(device, 'a byte string');
  if (length !== undefined && value.length !== length) {
    throw new DeviceError(`device ${device} returned ${value.length} bytes where ${length} were due`, {
      device,
    });
  }
  return value;
}

/** A device's value as a verdict. */
export function booleanOf(value: PrimitiveValue, device: string): boolean {
  if (typeof value !== 'boolean') throw wrongShape(device, 'a boolean');
  return value;
}

/** A device's value as an affine point. */
export function pointOf(value: PrimitiveValue, device: string): EcPoint {
  if (
    typeof value !== 'object' ||
    value === null ||
    !('x' in value) ||
    !('y' in value) ||
    typeof value.x !== 'bigint' ||
    typeof value.y !== 'bigint'
  ) {
    throw wrongShape(device, 'a point');
  }
  return value as EcPoint;
}

export function bytesResult(result: AlternativeResult, length?: number): Uint8Array {
  return bytesOf(result.value, result.device, length);
}

export function booleanResult(result: AlternativeResult): boolean {
  return booleanOf(result.value, result.device);
}

export function pointResult(result: AlternativeResult): EcPoint {
  return pointOf(result.value, result.device);
}

export function keyPairResult(result: AlternativeResult): KeyPairMaterial {
  const value = result.value;
  if (typeof value !== 'object' || value === null || !('privateKey' in value)) {
    throw wrongShape(result.device, 'a key pair');
  }
  return value;
}

// ----- an operation's last step ------------------------------------------------------------------

const AS_IS: Last<unknown, unknown> = {
  value: (result) => result,
  error: (error) => error,
};

/** No last step: the operation's own value and error (one object for every call). */
export function asIs<V>(): Last<V, V> {
  return AS_IS as Last<V, V>;
}

/**
 * `exec.runFirstThen`: the job's promise settles through `finish` where the job settles. An
 * executor without it (PrimitiveExecutor: optional) gets `runFirst` and one reaction, with the
 * same results: `finish.value`'s (what it throws through `finish.error`), or `finish.error`'s.
 */
export function runFirstThen<T>(
  exec: PrimitiveExecutor,
  alternatives: readonly Alternative[],
  options: { readonly signal?: AbortSignal } | undefined,
  finish: Finish<T>,
): Promise<T> {
  if (exec.runFirstThen !== undefined) return exec.runFirstThen(alternatives, options, finish);
  return exec.runFirst(alternatives, options).then(
    (result) => {
      try {
        return finish.value(result.index, result.value, result.device);
      } catch (error) {
        throw finish.error(error);
      }
    },
    (error: unknown) => {
      throw finish.error(error);
    },
  );
}

/** `work` (an operation's further steps, as a promise) through `last`: its value and its error. */
export function endWith<V, T>(work: Promise<V>, last: Last<V, T>): Promise<T> {
  return work.then(
    (value) => last.value(value),
    (error: unknown) => {
      throw last.error(error);
    },
  );
}

/** An operation's outcome known before any job ran, through `last`: a resolved or a rejected promise. */
export function settledWith<V, T>(last: Last<V, T>, value: V): Promise<T> {
  try {
    return Promise.resolve(last.value(value));
  } catch (error) {
    return Promise.reject(last.error(error));
  }
}

/** An operation that failed before any job ran, through `last`. */
export function failedWith<T>(last: Last<never, T>, error: unknown): Promise<T> {
  return Promise.reject(last.error(error));
}
