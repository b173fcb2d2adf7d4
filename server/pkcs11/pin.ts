/**
 * The token's user PIN. Set with `pkaccel serve --pkcs11-pin-file <file>` (the
 * file's first line; keep it 0600) or the `pin` option of servePkcs11. It is kept
 * only as an HMAC-SHA-256 under a random key made at start, and a login attempt
 * is compared with that in constant time (the same work whatever its length or
 * how many bytes match), so neither the PIN nor its length leaks through timing.
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../../index.js';

/** PINs longer than this are refused at start (and a login attempt longer is simply wrong). */
export const MAX_PIN_LENGTH = 256;

export interface PinCheck {
  /** Whether `attempt` is the PIN. */
  matches(attempt: Uint8Array): boolean;
}

/** Keep `pin` as a keyed hash; the returned check compares attempts in constant time. */
export function pinCheck(pin: string): PinCheck {
  const bytes = Buffer.from(pin, 'utf8');
  if (bytes.length === 0 || bytes.length > MAX_PIN_LENGTH)
    throw new InvalidInputError(`the PKCS#11 PIN must be 1 to ${MAX_PIN_LENGTH} bytes`);
  const key = randomBytes(32);
  const mac = (data: Uint8Array) => createHmac('sha256', key).update(data).digest();
  const expected = mac(bytes);
  bytes.fill(0);
  return { matches: (attempt) => timingSafeEqual(mac(attempt), expected) };
}

/** The PIN in a file: its first line, without the line ending. */
export function readPinFile(path: string): string {
  const text = readFileSync(path, 'utf8');
  const pin = text.split(/\r?\n/, 1)[0] ?? '';
  if (pin === '') throw new InvalidInputError(`${path}: no PIN on its first line`);
  return pin;
}
