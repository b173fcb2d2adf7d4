/** MGF1 (RFC 8017 appendix B.2.1), the mask generation function of PSS and OAEP. */

import { digest } from './digest.js';
import { HASH_BYTES, type HashName } from './hashes.js';

export function mgf1(hash: HashName, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  const view = new DataView(counter.buffer);
  const hLen = HASH_BYTES[hash];
  for (let i = 0, offset = 0; offset < length; i++, offset += hLen) {
    view.setUint32(0, i);
    const block = digest(hash, seed, counter);
    out.set(block.subarray(0, Math.min(hLen, length - offset)), offset);
  }
  return out;
}
