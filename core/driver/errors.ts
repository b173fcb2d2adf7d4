/**
 * Typed errors with stable codes. Every layer throws these; `core/api` maps them
 * to the DOMException names WebCrypto specifies at the `subtle` boundary.
 *
 * Messages name what was wrong (the operation, the parameter, the device) and
 * never contain key material.
 */

/**
 * The stable error codes of pkaccel. New codes may be added; existing ones never change meaning.
 *
 * @category Errors
 */
export type ErrorCode =
  | 'unsupported'
  | 'invalid-key'
  | 'invalid-input'
  | 'device-error'
  | 'timeout'
  | 'queue-full'
  | 'device-gone'
  | 'aborted'
  | 'not-extractable';

/**
 * What an error may carry beside its message: the error it wraps and the device involved.
 *
 * @category Errors
 */
export interface PkaccelErrorOptions {
  readonly cause?: unknown;
  readonly device?: string;
}

/**
 * Base class of every error pkaccel throws on purpose. At the `subtle` boundary
 * these become DOMExceptions (the original is kept as `cause`): `unsupported` →
 * NotSupportedError, `invalid-key` and `not-extractable` → InvalidAccessError,
 * `aborted` → AbortError, the rest → OperationError (key import: DataError).
 * Code below `subtle` (drivers, `accel.queue`) sees these classes directly.
 *
 * @example
 * ```ts
 * try {
 *   await accel.queue.submit(request);
 * } catch (error) {
 *   if (error instanceof PkaccelError && error.code === 'queue-full') retryLater();
 *   else throw error;
 * }
 * ```
 *
 * @category Errors
 */
export class PkaccelError extends Error {
  /** The stable code: switch on this, not on the message. */
  readonly code: ErrorCode;
  /** The device involved, when one was (its `DeviceInfo.id`). */
  readonly device: string | undefined;

  constructor(code: ErrorCode, message: string, options?: PkaccelErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.device = options?.device;
  }

  /** The class name (`'TimeoutError'`, `'DeviceGoneError'`, …), so stack traces and logs say which error it is. */
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * The constructor of a PkaccelError subclass whose code is fixed.
 *
 * @category Errors
 */
export type CodedErrorClass = new (message: string, options?: PkaccelErrorOptions) => PkaccelError;

/**
 * The base of an error class that differs from the others only in its code: each
 * class below is its own subclass (so `instanceof` tells them apart) with its own
 * name (the exported class's), made in one line instead of a constructor apiece.
 */
function withCode(code: ErrorCode): CodedErrorClass {
  return class extends PkaccelError {
    constructor(message: string, options?: PkaccelErrorOptions) {
      super(code, message, options);
    }
  };
}

/**
 * No registered device (or not this one) can do the operation with these parameters.
 *
 * @category Errors
 */
export class UnsupportedError extends withCode('unsupported') {}

/**
 * A key is malformed, of the wrong type, or not usable for the operation.
 *
 * @category Errors
 */
export class InvalidKeyError extends withCode('invalid-key') {}

/**
 * An input (message, ciphertext, point, parameter) is malformed or out of range.
 *
 * @category Errors
 */
export class InvalidInputError extends withCode('invalid-input') {}

/**
 * A device reported an error, or returned a result that failed a check.
 *
 * @category Errors
 */
export class DeviceError extends withCode('device-error') {}

/**
 * A job did not complete before its deadline.
 *
 * @category Errors
 */
export class TimeoutError extends withCode('timeout') {}

/**
 * The backlog is full and the accelerator was configured to reject rather than wait.
 *
 * @category Errors
 */
export class QueueFullError extends withCode('queue-full') {}

/**
 * The device was removed, closed, or taken out of service.
 *
 * @category Errors
 */
export class DeviceGoneError extends withCode('device-gone') {}

/**
 * The caller aborted the operation through its AbortSignal.
 *
 * @category Errors
 */
export class AbortedError extends withCode('aborted') {
  constructor(message = 'The operation was aborted', options?: PkaccelErrorOptions) {
    super(message, options);
  }
}

/**
 * Key material was asked for from a key that is not extractable.
 *
 * @category Errors
 */
export class NotExtractableError extends withCode('not-extractable') {}

/**
 * The typed error for anything a device, driver or provider threw: a
 * PkaccelError passes through unchanged; anything else becomes a DeviceError
 * that says where it happened (`what`, default "device <id>"), the thrown
 * error's code and message when it has them, and keeps the original as `cause`.
 * The one copy: the job queue, the drivers and the software provider all use it.
 *
 * @category Errors
 */
export function asPkaccelError(error: unknown, device: string, what = `device ${device}`): PkaccelError {
  if (error instanceof PkaccelError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const detail = typeof code === 'string' ? ` (${code})` : '';
  const message = error instanceof Error && error.message !== '' ? `: ${error.message}` : '';
  return new DeviceError(`${what} failed unexpectedly${detail}${message}`, { cause: error, device });
}

/**
 * Throws an AbortedError (with the signal's reason as `cause`) if the signal is
 * aborted; use at every await point that could be cancelled.
 *
 * @category Errors
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
}
