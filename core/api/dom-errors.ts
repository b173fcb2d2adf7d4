/**
 * The boundary between pkaccel's typed errors and WebCrypto's: every error that
 * leaves `subtle` is a DOMException with the name WebCrypto specifies (or a
 * TypeError where WebIDL would throw one), with the PkaccelError kept as `cause`.
 */

import type { Last } from '../algorithms/params.js';
import type { ErrorCode } from '../driver/errors.js';
import { PkaccelError } from '../driver/errors.js';

/** Where an error happened: key import treats bad key data as DataError, operations as access/operation errors. */
export type ErrorStage = 'import' | 'export' | 'operation';

const NAME_BY_CODE: Readonly<Record<ErrorCode, string>> = {
  unsupported: 'NotSupportedError',
  'invalid-key': 'InvalidAccessError',
  'invalid-input': 'OperationError',
  'device-error': 'OperationError',
  timeout: 'TimeoutError',
  'queue-full': 'OperationError',
  'device-gone': 'OperationError',
  aborted: 'AbortError',
  'not-extractable': 'InvalidAccessError',
};

/** A DOMException with WebCrypto's name for this failure. */
export function domError(name: string, message: string, cause?: unknown): DOMException {
  return new DOMException(message, cause === undefined ? { name } : { name, cause });
}

/** Convert whatever a layer below threw into what WebCrypto callers expect to catch. */
export function toWebCryptoError(error: unknown, stage: ErrorStage, operation: string): Error {
  if (error instanceof DOMException || error instanceof TypeError) return error;
  if (error instanceof PkaccelError) {
    let name = NAME_BY_CODE[error.code];
    if (stage === 'import' && (error.code === 'invalid-key' || error.code === 'invalid-input'))
      name = 'DataError';
    return domError(name, `${operation}: ${error.message}`, error);
  }
  // Not one of ours: its message is unknown territory, so it stays only in `cause`.
  return domError('OperationError', `${operation} failed`, error);
}

/** A rejection of node's crypto.subtle: already what WebCrypto (node) throws, passed on as it is. */
class NodeRejection {
  constructor(readonly error: unknown) {}
}

/** Mark node's rejections so `settle` passes them on unchanged (a caller's own getter error included). */
export function asNodeDoes<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    throw new NodeRejection(error);
  });
}

/**
 * Run one `subtle` call in WebCrypto's two phases: `prepare` converts and checks
 * the arguments (its errors reach the caller as thrown — a TypeError, the
 * DOMException the spec names, or the caller's own error from a getter — with a
 * PkaccelError mapped) and returns the work, whose failures become WebCrypto's
 * errors. An aborted signal releases the caller at once, even from pass-through
 * work that cannot stop.
 */
export function settle<T>(
  operation: string,
  signal: AbortSignal | undefined,
  prepare: () => Work<T>,
): Promise<T>;
/**
 * The same, with the work's value passed through `map` (a result's bytes to an ArrayBuffer) in
 * the one reaction that also converts its errors: no promise of its own per call for the map.
 */
export function settle<W, T>(
  operation: string,
  signal: AbortSignal | undefined,
  prepare: () => Work<W>,
  map: (value: W) => T,
): Promise<T>;
export function settle<W, T>(
  operation: string,
  signal: AbortSignal | undefined,
  prepare: () => Work<W>,
  map?: (value: W) => T,
): Promise<T | W> {
  if (signal !== undefined) return settleSignalled(operation, signal, prepare, map);
  // No signal (the hot path): the two phases back to back, with no async frame or closure of
  // its own per call; the same errors as below.
  let work: Work<W>;
  try {
    work = prepare();
  } catch (error) {
    return Promise.reject(preparationError(error, operation));
  }
  let started: Promise<W>;
  try {
    started = typeof work === 'function' ? work() : work;
  } catch (error) {
    return Promise.reject(workError(error, operation));
  }
  return started.then(map, workFailed(operation));
}

/**
 * What `prepare` hands back: the work, or the work already started — the same thing one step
 * sooner, without a closure per call.
 */
export type Work<W> = (() => Promise<W>) | Promise<W>;

/**
 * The last step of a call of `operation` without a signal (core/algorithms params.ts Last): the
 * value through `map`, errors as WebCrypto names them. One per operation, made once.
 */
export function lastStep<W, T>(operation: string, map: (value: W) => T): Last<W, T> {
  return { value: map, error: (error) => workError(error, operation) };
}

/**
 * A call without a signal, the hot path (sign, verify): `prepare` has converted and checked the
 * arguments and handed back either the operation already started with `last` — core/algorithms
 * applies it where the job settles, so its promise is the call's as it is, with no reaction,
 * promise or closure made here — or node's work (pass-through), started and mapped here as
 * `settle` does. What `prepare` threw reaches the caller as `settle` passes it.
 */
export function settleNow<W, T>(
  operation: string,
  last: Last<W, T>,
  prepared: (() => Promise<W>) | Promise<T>,
): Promise<T> {
  if (typeof prepared !== 'function') return prepared;
  let started: Promise<W>;
  try {
    started = prepared();
  } catch (error) {
    return Promise.reject(workError(error, operation));
  }
  return started.then(last.value, workFailed(operation));
}

/** A call whose preparation threw `error`, rejected as `settle` rejects it. */
export function preparationFailed<T>(error: unknown, operation: string): Promise<T> {
  return Promise.reject(preparationError(error, operation));
}

function preparationError(error: unknown, operation: string): unknown {
  return error instanceof PkaccelError ? toWebCryptoError(error, 'operation', operation) : error;
}

function workError(error: unknown, operation: string): unknown {
  return error instanceof NodeRejection ? error.error : toWebCryptoError(error, 'operation', operation);
}

/** One rejection handler per operation name, made once (not a closure per call). */
const failureHandlers = new Map<string, (error: unknown) => never>();
function workFailed(operation: string): (error: unknown) => never {
  let handler = failureHandlers.get(operation);
  if (handler === undefined) {
    handler = (error: unknown) => {
      throw workError(error, operation);
    };
    failureHandlers.set(operation, handler);
  }
  return handler;
}

async function settleSignalled<W, T>(
  operation: string,
  signal: AbortSignal,
  prepare: () => Work<W>,
  map: ((value: W) => T) | undefined,
): Promise<T | W> {
  if (signal.aborted) throw domError('AbortError', `${operation} was aborted`, signal.reason);
  let work: Work<W>;
  try {
    work = prepare();
  } catch (error) {
    throw preparationError(error, operation);
  }
  try {
    return await new Promise<T | W>((resolve, reject) => {
      const onAbort = (): void => reject(domError('AbortError', `${operation} was aborted`, signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal.removeEventListener('abort', onAbort);
      (typeof work === 'function' ? work() : work).then(
        (value) => {
          done();
          resolve(map === undefined ? value : map(value));
        },
        (error: unknown) => {
          done();
          reject(error);
        },
      );
    });
  } catch (error) {
    throw workError(error, operation);
  }
}
