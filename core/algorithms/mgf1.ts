/** MGF1 (RFC 8017 appendix B.2.1), the mask generation function of PSS and OAEP. */

import type { HashName } from '../driver/keys.js';
import { digest, HASH_BYTES } from './hash.js';

export function mgf1(hash: HashName, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  const hLen = HASH_BYTES[hash];
  for (let i = 0, offset = 0; offset < length; i++, offset += hLen) {
    new DataView(counter.buffer).setUint32(0, i);
    const block = digest(hash, seed, counter);
    out.set(block.subarray(0, Math.min(hLen, length - offset)), offset);
  }
  return out;
}
