/** Hash facts the provider needs: OpenSSL names, lengths, PKCS#1 DigestInfo prefixes. */

import { createHash } from 'node:crypto';
import type { HashName } from '../../core/driver/index.js';

export const OPENSSL_HASH: Readonly<Record<HashName, string>> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

export const HASH_BYTES: Readonly<Record<HashName, number>> = {
  'SHA-1': 20,
  'SHA-256': 32,
  'SHA-384': 48,
  'SHA-512': 64,
};

/** The DER DigestInfo header that precedes the digest in EMSA-PKCS1-v1_5 (RFC 8017 §9.2 note 1). */
export const DIGEST_INFO_PREFIX: Readonly<Record<HashName, Uint8Array>> = {
  'SHA-1': Uint8Array.from([
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
  ]),
  'SHA-256': hexBytes('3031300d060960864801650304020105000420'),
  'SHA-384': hexBytes('3041300d060960864801650304020205000430'),
  'SHA-512': hexBytes('3051300d060960864801650304020305000440'),
};

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function hash(name: HashName, ...parts: Uint8Array[]): Uint8Array {
  const h = createHash(OPENSSL_HASH[name]);
  for (const p of parts) h.update(p);
  return h.digest();
}
