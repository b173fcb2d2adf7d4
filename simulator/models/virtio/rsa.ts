/**
 * What the simulated virtio-crypto device computes for an akcipher session:
 * RSA with PKCS#1 v1.5 (the device adds the DigestInfo; sign/verify take the
 * bare digest) or RAW, with node:crypto doing the modular arithmetic. Keys arrive
 * as PKCS#1 DER, as the spec defines the session key.
 */

import {
  constants,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
} from 'node:crypto';
import { concat } from '../../../core/encoding/bytes.js';
import { type DigestInfoHash, HASHES } from '../../../core/encoding/hashes.js';
import { RsaHash } from './registers.js';

/** VIRTIO_CRYPTO_RSA_* hash value → the hash whose DigestInfo prefix (core/encoding) the device puts before a digest. */
const DIGEST_INFO_HASH: Readonly<Record<number, DigestInfoHash>> = {
  [RsaHash.md5]: 'MD5',
  [RsaHash.sha1]: 'SHA-1',
  [RsaHash.sha256]: 'SHA-256',
  [RsaHash.sha384]: 'SHA-384',
  [RsaHash.sha512]: 'SHA-512',
  [RsaHash.sha224]: 'SHA-224',
};

export class RsaKeyError extends Error {}
/** The operation ran and the signature did not verify. */
export class VerifyFailed extends Error {}

export interface RsaSessionKey {
  readonly private: boolean;
  readonly key: KeyObject;
  readonly modulusBytes: number;
}

export function importSessionKey(der: Uint8Array, keyType: number): RsaSessionKey {
  try {
    const key =
      keyType === 2
        ? createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs1' })
        : createPublicKey({ key: Buffer.from(der), format: 'der', type: 'pkcs1' });
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return { private: keyType === 2, key, modulusBytes: Math.ceil(bits / 8) };
  } catch (error) {
    throw new RsaKeyError(`not a PKCS#1 RSA ${keyType === 2 ? 'private' : 'public'} key`, { cause: error });
  }
}

function digestInfo(hash: number, digest: Uint8Array): Buffer {
  const name = Object.hasOwn(DIGEST_INFO_HASH, hash) ? DIGEST_INFO_HASH[hash] : undefined;
  if (name === undefined) throw new RsaKeyError(`no DigestInfo for hash ${hash}`);
  return Buffer.from(concat(HASHES[name].digestInfoPrefix, digest));
}

export function rsaSign(session: RsaSessionKey, hash: number, digest: Uint8Array): Uint8Array {
  return privateEncrypt({ key: session.key, padding: constants.RSA_PKCS1_PADDING }, digestInfo(hash, digest));
}

export function rsaVerify(
  session: RsaSessionKey,
  hash: number,
  signature: Uint8Array,
  digest: Uint8Array,
): void {
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key: session.key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    throw new VerifyFailed('bad signature');
  }
  if (!recovered.equals(digestInfo(hash, digest))) throw new VerifyFailed('bad signature');
}

/** RAW (no padding) public or private operation on a modulus-length input. */
export function rsaRaw(session: RsaSessionKey, input: Uint8Array): Uint8Array {
  const options = { key: session.key, padding: constants.RSA_NO_PADDING };
  return session.private ? privateDecrypt(options, input) : publicEncrypt(options, input);
}
