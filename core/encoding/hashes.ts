/**
 * The one table of hash facts: WebCrypto names, digest lengths, node:crypto
 * (OpenSSL) names, and the DER DigestInfo prefix EMSA-PKCS1-v1_5 puts before a
 * digest (RFC 8017 §9.2 note 1). Ground floor: core, every driver and the
 * simulator import it; it imports nothing but ./bytes (hashing itself is ./digest.ts).
 */

import { fromHex } from './bytes.js';

/**
 * The hashes pkaccel's algorithms use (WebCrypto names).
 *
 * @category Driver contracts
 */
export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** Every hash a DigestInfo prefix is known for: pkaccel's, plus those a device protocol may name (virtio-crypto). */
export type DigestInfoHash = HashName | 'MD5' | 'SHA-224';

export const HASH_NAMES: readonly HashName[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];

/** Facts about one hash. */
export interface HashFacts {
  /** Digest length in bytes. */
  readonly bytes: number;
  /** The name node:crypto (OpenSSL) knows it by. */
  readonly node: string;
  /** DER of DigestInfo up to the digest octets. */
  readonly digestInfoPrefix: Uint8Array;
}

/** The table. Every other hash fact in the repository is read from here. */
export const HASHES: Readonly<Record<DigestInfoHash, HashFacts>> = {
  MD5: { bytes: 16, node: 'md5', digestInfoPrefix: fromHex('3020300c06082a864886f70d020505000410') },
  'SHA-1': { bytes: 20, node: 'sha1', digestInfoPrefix: fromHex('3021300906052b0e03021a05000414') },
  'SHA-224': {
    bytes: 28,
    node: 'sha224',
    digestInfoPrefix: fromHex('302d300d06096086480165030402040500041c'),
  },
  'SHA-256': {
    bytes: 32,
    node: 'sha256',
    digestInfoPrefix: fromHex('3031300d060960864801650304020105000420'),
  },
  'SHA-384': {
    bytes: 48,
    node: 'sha384',
    digestInfoPrefix: fromHex('3041300d060960864801650304020205000430'),
  },
  'SHA-512': {
    bytes: 64,
    node: 'sha512',
    digestInfoPrefix: fromHex('3051300d060960864801650304020305000440'),
  },
};

function project<K extends keyof HashFacts>(key: K): Readonly<Record<HashName, HashFacts[K]>> {
  return Object.fromEntries(HASH_NAMES.map((name) => [name, HASHES[name][key]])) as Record<
    HashName,
    HashFacts[K]
  >;
}

/** Digest length in bytes, by hash. */
export const HASH_BYTES: Readonly<Record<HashName, number>> = project('bytes');
/** node:crypto / OpenSSL name, by hash. */
export const NODE_HASH: Readonly<Record<HashName, string>> = project('node');
/** DigestInfo prefix, by hash. */
export const DIGEST_INFO_PREFIX: Readonly<Record<HashName, Uint8Array>> = project('digestInfoPrefix');

/** Whether `name` is one of pkaccel's hash names (exact WebCrypto spelling). */
export function isHashName(name: unknown): name is HashName {
  return typeof name === 'string' && (HASH_NAMES as readonly string[]).includes(name);
}
