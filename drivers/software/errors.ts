/**
 * Errors across the worker boundary travel as (code, message) and are rebuilt as
 * the typed error of that code. Anything that is not a PkaccelError (an OpenSSL
 * or programming failure we did not anticipate) becomes a DeviceError carrying
 * only the error's code, so no unvetted text (which could echo an input) leaks.
 */

import {
  AbortedError,
  asPkaccelError,
  type CodedErrorClass,
  DeviceError,
  DeviceGoneError,
  type ErrorCode,
  InvalidInputError,
  InvalidKeyError,
  NotExtractableError,
  PkaccelError,
  QueueFullError,
  TimeoutError,
  UnsupportedError,
} from '../../core/driver/index.js';

const BY_CODE: Readonly<Record<ErrorCode, CodedErrorClass>> = {
  unsupported: UnsupportedError,
  'invalid-key': InvalidKeyError,
  'invalid-input': InvalidInputError,
  'device-error': DeviceError,
  timeout: TimeoutError,
  'queue-full': QueueFullError,
  'device-gone': DeviceGoneError,
  aborted: AbortedError,
  'not-extractable': NotExtractableError,
};

/**
 * The typed error for anything a primitive threw (core's `asPkaccelError`). An
 * unanticipated failure is handed over as its code only, so its message (not
 * vetted text) stays out of the DeviceError's; the original error is the cause's cause.
 */
export function softwareError(error: unknown, op: string, device: string): PkaccelError {
  if (error instanceof PkaccelError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const vetted = { ...(typeof code === 'string' ? { code } : {}), cause: error };
  return asPkaccelError(vetted, device, `software provider: ${op}`);
}

/** What crosses the thread boundary for a failed job. */
export type WireError = readonly [code: ErrorCode, message: string];

export function toWireError(error: unknown, op: string): WireError {
  const typed = softwareError(error, op, 'software');
  return [typed.code, typed.message];
}

export function fromWireError(wire: WireError, device: string): PkaccelError {
  const [code, message] = wire;
  const ErrorType = BY_CODE[code] ?? DeviceError;
  return new ErrorType(message, { device });
}
