/**
 * bytesToBigintAt (core/encoding/bytes.ts), which the gate's ECDSA checks read signature scalars
 * with: the same integer as bytesToBigint of the subarray, at every length and offset, for
 * arrays on V8's heap (small copies) and in an ArrayBuffer alike; and the gate's verdict on a
 * witness still turns on every byte of r.
 */

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CURVES } from '../../core/driver/curves.js';
import { bigintToBytes, bytesToBigint, bytesToBigintAt } from '../../core/encoding/bytes.js';
import { ecdsaWitnessVerdict } from '../../core/integrity/ec.js';

describe('bytesToBigintAt', () => {
  it('reads what bytesToBigint reads, at every length and offset', () => {
    for (let length = 0; length <= 70; length++) {
      for (const at of [0, 1, 5, 7]) {
        const source = randomBytes(at + length + 3);
        // A fresh small copy (its bytes on V8's heap) and a view into a larger ArrayBuffer.
        const small = new Uint8Array(source);
        const expected = bytesToBigint(source.subarray(at, at + length));
        expect(bytesToBigintAt(small, at, length)).toBe(expected);
        expect(bytesToBigintAt(source, at, length)).toBe(expected);
      }
    }
    const ones = new Uint8Array(64).fill(0xff);
    expect(bytesToBigintAt(ones, 0, 64)).toBe((1n << 512n) - 1n);
    expect(bytesToBigintAt(ones, 3, 0)).toBe(0n);
  });

  const curve = CURVES['P-256'];
  /** A P-256 P1363 signature r ‖ s. */
  const p1363 = (r: bigint, s: bigint) => {
    const signature = new Uint8Array(64);
    signature.set(bigintToBytes(r, 32), 0);
    signature.set(bigintToBytes(s, 32), 32);
    return signature;
  };

  it('leaves the witness verdict turning on every byte of r', () => {
    const r = 0x1234_5678_9abc_def0_1122_3344_5566_7788_99aa_bbcc_ddee_ff00_0102_0304_0506_0708n;
    const signature = p1363(r, 5n);
    const x = bigintToBytes(r, 32);
    expect(ecdsaWitnessVerdict(curve, signature, x)).toBe(true);
    for (let i = 0; i < 32; i++) {
      const flipped = signature.slice();
      flipped[i]! ^= 0x01;
      expect(ecdsaWitnessVerdict(curve, flipped, x)).toBe(false);
      // And on every byte of the witness x.
      const wrongX = x.slice();
      wrongX[i]! ^= 0x80;
      expect(ecdsaWitnessVerdict(curve, signature, wrongX)).toBe(false);
    }
    expect(ecdsaWitnessVerdict(curve, signature, null)).toBe(false);
  });

  it('reduces an x at or above n, or not field-length, in bigint: the same verdict', () => {
    const r = 5n;
    const signature = p1363(r, 7n);
    // x = r + n < p: x mod n == r, though its bytes differ from r's.
    expect(ecdsaWitnessVerdict(curve, signature, bigintToBytes(r + curve.n, 32))).toBe(true);
    expect(ecdsaWitnessVerdict(curve, signature, bigintToBytes(r + 1n + curve.n, 32))).toBe(false);
    expect(ecdsaWitnessVerdict(curve, signature, bigintToBytes(curve.n, 32))).toBe(false);
    // A trimmed x (a peer that sent the minimal length): decided on its value.
    expect(ecdsaWitnessVerdict(curve, signature, new Uint8Array([5]))).toBe(true);
    expect(ecdsaWitnessVerdict(curve, signature, new Uint8Array([6]))).toBe(false);
  });
});
