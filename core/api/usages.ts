/** Which key usages each algorithm allows on its public and private keys (WebCrypto's tables, plus RSA-RAW). */

import type { AsymmetricName } from './algorithm.js';
import { domError } from './dom-errors.js';
import type { KeyType, KeyUsage } from './key-handle.js';

const ALL_USAGES: readonly KeyUsage[] = [
  'encrypt',
  'decrypt',
  'sign',
  'verify',
  'deriveKey',
  'deriveBits',
  'wrapKey',
  'unwrapKey',
];

const ALLOWED: Readonly<
  Record<AsymmetricName, { public: readonly KeyUsage[]; private: readonly KeyUsage[] }>
> = {
  'RSASSA-PKCS1-v1_5': { public: ['verify'], private: ['sign'] },
  'RSA-PSS': { public: ['verify'], private: ['sign'] },
  'RSA-OAEP': { public: ['encrypt', 'wrapKey'], private: ['decrypt', 'unwrapKey'] },
  'RSA-RAW': { public: ['encrypt'], private: ['decrypt'] },
  ECDSA: { public: ['verify'], private: ['sign'] },
  ECDH: { public: [], private: ['deriveKey', 'deriveBits'] },
  Ed25519: { public: ['verify'], private: ['sign'] },
  X25519: { public: [], private: ['deriveKey', 'deriveBits'] },
};

/** Check a caller's usages list: strings WebCrypto knows (TypeError otherwise), without duplicates. */
export function parseUsages(usages: unknown): KeyUsage[] {
  if (!Array.isArray(usages)) throw new TypeError('keyUsages must be an array');
  const out: KeyUsage[] = [];
  for (const u of usages) {
    if (!ALL_USAGES.includes(u as KeyUsage)) throw new TypeError(`"${String(u)}" is not a key usage`);
    if (!out.includes(u as KeyUsage)) out.push(u as KeyUsage);
  }
  return out;
}

/** Usages for a key of `type`: SyntaxError if any is not allowed, or if a private key would have none. */
export function usagesFor(name: AsymmetricName, type: KeyType, usages: readonly KeyUsage[]): KeyUsage[] {
  const allowed = ALLOWED[name][type];
  for (const u of usages)
    if (!allowed.includes(u))
      throw domError('SyntaxError', `usage "${u}" is not valid for a ${name} ${type} key`);
  if (type === 'private' && usages.length === 0)
    throw domError('SyntaxError', `a ${name} private key needs at least one usage`);
  return [...usages];
}

/** generateKey: split the requested usages between the two halves of the pair. */
export function splitUsages(
  name: AsymmetricName,
  usages: readonly KeyUsage[],
): { publicUsages: KeyUsage[]; privateUsages: KeyUsage[] } {
  const { public: pub, private: priv } = ALLOWED[name];
  for (const u of usages)
    if (!pub.includes(u) && !priv.includes(u))
      throw domError('SyntaxError', `usage "${u}" is not valid for ${name} keys`);
  const privateUsages = usages.filter((u) => priv.includes(u));
  if (privateUsages.length === 0)
    throw domError('SyntaxError', `a ${name} private key needs at least one usage`);
  return { publicUsages: usages.filter((u) => pub.includes(u)), privateUsages };
}
