/**
 * Outputs shorter than the modulus, as the device reports them in the used
 * length. Two shapes reach the driver, and one byte tells them apart:
 *
 * - The spec's: "the device may write fewer bytes than dst_data_len; the driver
 *   gets the real length from the used length". A short output is then the
 *   integer's minimal big-endian encoding, whose first byte is never zero: it is
 *   left-padded to the modulus length.
 * - QEMU 7.2's (cryptodev-builtin with nettle, the Debian 12 build): nettle's
 *   sign writes s right-aligned into the k-byte buffer (nettle_mpz_get_str_256,
 *   zeros in front) but returns its minimal length m (nettle_mpz_sizeinbase_256_u);
 *   the backend sets dst_len = m, and hw/virtio/virtio-crypto.c copies the first
 *   m bytes of that buffer to the guest and reports 1 + m. The guest gets the
 *   k − m leading zeros and the first 2m − k significant bytes; the last k − m
 *   bytes never leave QEMU. Such an output starts with exactly k − m zero bytes.
 *   It happens to a signature whose first byte is zero: 1 in 256, and it is what
 *   made a vfio boot once see a wrong 1024-bit SHA-512 signature (left-padding it
 *   gave the right value shifted one byte toward the end).
 *
 * One lost byte is found here: of the 256 completions of the known bytes, the
 * one whose s^e mod n is what the request must open to (the PKCS#1 v1.5
 * encoding of the digest for a sign, the input of a raw private operation) is
 * the signature — RSA is a permutation, so the answer is proven, not guessed.
 * That costs at most 256 public operations once in 256 signatures (measured
 * worst case, user CPU on a loaded 2-core machine: 14 ms at 1024 bits, 24 ms at
 * 2048, 96 ms at 4096). Two or more lost bytes (1 in 65,536) would take 65,536
 * or more, and a truncated output nothing can check (a public operation) cannot
 * be completed: the device cannot return that value, every time — a limit, not
 * a fault, so the job fails with UnsupportedError and the queue runs it on
 * another device (not counted as a device fault). A short output of neither
 * shape, or one that no completion opens correctly, is the device's fault: a
 * DeviceError. Never a wrong value.
 */

import { bigintToBytes, bytesToBigint } from '../../core/driver/bytes.js';
import type { RsaPublicKeyMaterial } from '../../core/driver/keys.js';
import { modPow } from '../../core/math/modular.js';

/** What a private-key output must open to with the public key, when the driver can know it. */
export interface Opening {
  readonly key: RsaPublicKeyMaterial;
  /** The k-byte value s^e mod n must equal (computed only when a byte is to be found). */
  expected(): Uint8Array;
}

/** Why a short output gives no value: the device's fault, or a value this device cannot return. */
export interface ShortOutputProblem {
  readonly fault: boolean;
  readonly reason: string;
}

const fault = (reason: string): ShortOutputProblem => ({ fault: true, reason });
const limit = (reason: string): ShortOutputProblem => ({ fault: false, reason });

/** The modulus-length value from a short output, or why it cannot be had. */
export function completeShortOutput(
  output: Uint8Array,
  k: number,
  opening: Opening | undefined,
): Uint8Array | ShortOutputProblem {
  if (output[0] !== 0) {
    const out = new Uint8Array(k);
    out.set(output, k - output.length);
    return out;
  }
  if (output.every((b) => b === 0)) {
    // The value 0 as a minimal encoding writes it (one zero byte) — or, in QEMU's shape, the
    // front zeros of a value with m ≤ k/2 significant bytes, all of them lost. 0 opens to 0, so
    // where the request says what its result opens to, that tells them apart. Where it does not
    // (a raw public operation), 0 is taken: QEMU's short copies come from nettle's PKCS#1 sign
    // and encrypt only (nettle refuses RAW; gcrypt pads RAW outputs to the full length).
    if (opening === undefined || opening.expected().every((b) => b === 0)) return new Uint8Array(k);
    return 2 * output.length <= k
      ? limit(`a truncated output with all ${output.length} significant byte(s) lost`)
      : fault(`an all-zero ${output.length}-byte output that does not open to the request's value`);
  }
  const lost = k - output.length;
  let zeros = 0;
  while (zeros < output.length && output[zeros] === 0) zeros++;
  if (zeros !== lost)
    return fault(
      `a ${output.length}-byte output starting with ${zeros} zero byte(s), neither a minimal encoding nor a truncated one`,
    );
  if (opening === undefined)
    return limit(`a truncated output (last ${lost} byte(s) lost) that nothing can check`);
  if (lost > 1)
    return limit(`a truncated output with its last ${lost} bytes lost (one can be recovered, not more)`);
  return (
    findLostByte(output, opening) ?? fault('a truncated output that no value of its lost last byte completes')
  );
}

/** The k-byte s = (the known bytes after the zeros) ‖ x, for the x in 0…255 whose s^e mod n opens correctly. */
function findLostByte(output: Uint8Array, opening: Opening): Uint8Array | undefined {
  const { n, e } = opening.key;
  const target = bytesToBigint(opening.expected());
  const known = bytesToBigint(output) << 8n;
  for (let x = 0n; x < 256n; x++) {
    const s = known + x;
    if (s >= n) break;
    if (modPow(s, e, n) === target) return bigintToBytes(s, output.length + 1);
  }
  return undefined;
}
