/**
 * The RSA-CRT fault check: a private-key result is released only if the public
 * key maps it back to what went in. A CRT exponentiation with one faulty half
 * gives s with s^e ≡ m mod one prime and not the other, and gcd(s^e − m, n)
 * then factors n (Boneh–DeMillo–Lipton); so a mismatch is a DeviceError and the
 * value is dropped.
 */

import { DeviceError } from '../driver/errors.js';
import type { RsaPublicKeyMaterial } from '../driver/keys.js';
import { constantTimeEqual } from '../encoding/bytes.js';
import { isRsaRepresentative, rsaPublicOnHost } from './rsa-public.js';

export function faultCheckFailed(device: string, what: string): DeviceError {
  return new DeviceError(
    `${what} from device ${device} failed the public-key consistency check; the result was withheld`,
    { device },
  );
}

/**
 * `output^e mod n` as bytes, after checking `output` is a representative; a
 * malformed output is the device's fault.
 */
export function openWithPublicKey(
  key: RsaPublicKeyMaterial,
  output: Uint8Array,
  device: string,
  what: string,
): Uint8Array {
  if (!isRsaRepresentative(key, output)) throw faultCheckFailed(device, what);
  return rsaPublicOnHost(key, output);
}

/** Throws DeviceError unless output^e mod n equals `input`. */
export function checkRawPrivateResult(
  key: RsaPublicKeyMaterial,
  input: Uint8Array,
  output: Uint8Array,
  device: string,
): void {
  const opened = openWithPublicKey(key, output, device, 'RSA private-key result');
  if (!constantTimeEqual(opened, input)) throw faultCheckFailed(device, 'RSA private-key result');
}
