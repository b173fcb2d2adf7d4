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

/** DigestInfo prefixes (RFC 8017 §9.2 note 1) by VIRTIO_CRYPTO_RSA_* hash value. */
export const DIGEST_INFO: Readonly<Record<number, { readonly prefix: string; readonly length: number }>> = {
  4: { prefix: '3020300c06082a864886f70d020505000410', length: 16 }, // MD5
  5: { prefix: '3021300906052b0e03021a05000414', length: 20 }, // SHA-1
  6: { prefix: '3031300d060960864801650304020105000420', length: 32 }, // SHA-256
  7: { prefix: '3041300d060960864801650304020205000430', length: 48 }, // SHA-384
  8: { prefix: '3051300d060960864801650304020305000440', length: 64 }, // SHA-512
  9: { prefix: '302d300d06096086480165030402040500041c', length: 28 }, // SHA-224
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
  const info = DIGEST_INFO[hash];
  if (info === undefined) throw new RsaKeyError(`no DigestInfo for hash ${hash}`);
  return Buffer.concat([Buffer.from(info.prefix, 'hex'), digest]);
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
