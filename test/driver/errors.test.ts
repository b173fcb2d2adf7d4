/**
 * The typed errors of core/driver/errors.ts: each class carries its stable code
 * and its own name, is a PkaccelError and an Error, is told apart from the other
 * classes by `instanceof`, and keeps the device and the cause it was given.
 */

import { describe, expect, it } from 'vitest';
import type { CodedErrorClass, ErrorCode } from '../../core/driver/errors.js';
import * as errors from '../../core/driver/errors.js';

/** Every error class the module exports, by name, with its stable code. */
const CODES: Readonly<Record<string, ErrorCode>> = {
  UnsupportedError: 'unsupported',
  InvalidKeyError: 'invalid-key',
  InvalidInputError: 'invalid-input',
  DeviceError: 'device-error',
  TimeoutError: 'timeout',
  QueueFullError: 'queue-full',
  DeviceGoneError: 'device-gone',
  AbortedError: 'aborted',
  NotExtractableError: 'not-extractable',
};

const CLASSES = Object.entries(errors).filter(
  (entry): entry is [string, CodedErrorClass] =>
    typeof entry[1] === 'function' && entry[1].prototype instanceof errors.PkaccelError,
);

describe('typed errors', () => {
  it('are the classes the table names, no more and no fewer', () => {
    expect(CLASSES.map(([name]) => name).sort()).toEqual(Object.keys(CODES).sort());
  });

  it.each(CLASSES)('%s has its name and code, and only its own class', (name, Class) => {
    const cause = new Error('underneath');
    const error = new Class('what was wrong', { cause, device: 'sim:ring#0' });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(errors.PkaccelError);
    expect(error).toBeInstanceOf(Class);
    for (const [, Other] of CLASSES) if (Other !== Class) expect(error).not.toBeInstanceOf(Other);
    expect(error.name).toBe(name);
    expect(error.code).toBe(CODES[name]);
    expect(error.message).toBe('what was wrong');
    expect(error.device).toBe('sim:ring#0');
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe(`${name}: what was wrong`);
  });

  it('leaves cause and device unset when not given; AbortedError has a default message', () => {
    const error = new errors.TimeoutError('late');
    expect(error.device).toBeUndefined();
    expect('cause' in error).toBe(false);
    expect(new errors.AbortedError().message).toBe('The operation was aborted');
  });
});
