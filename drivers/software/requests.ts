/**
 * Primitive → node:crypto (OpenSSL) call and back: one primitive, run
 * synchronously (this family's `requests.ts`, see the driver folder convention
 * in DESIGN). The same function
 * runs on the calling thread (single cheap jobs) and in the pool workers
 * (everything else). Key generation is not here: it is asynchronous (keygen.ts).
 *
 * OpenSSL failures become typed errors whose messages name the operation and the
 * parameter, never a key; a signature that does not verify is `false`.
 */

import {
  constants,
  createECDH,
  createPublicKey,
  diffieHellman,
  type ECDH,
  type KeyObject,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import {
  bigintToBytes,
  bytesToBigint,
  CURVES,
  type EcCurveName,
  type EcPoint,
  type EcPrivateKeyMaterial,
  type EcPublicKeyMaterial,
  InvalidInputError,
  type PrimitiveRequest,
  type PrimitiveValue,
  type RequestOf,
  type RsaEncryptionPadding,
  type RsaPrivateKeyMaterial,
  type RsaPublicKeyMaterial,
  UnsupportedError,
} from '../../core/driver/index.js';
import { digestInfo } from '../../core/encoding/emsa-pkcs1v15.js';
import { emsaPssEncode, emsaPssVerify, pssMaxSaltLength } from '../../core/encoding/emsa-pss.js';
import { HASH_BYTES, NODE_HASH } from '../../core/encoding/hashes.js';
import { ecMultiply } from '../../core/math/index.js';
import { ecdsaSignDigest, ecdsaVerifyDigest } from './ecdsa-digest.js';
import { ecdhOf, keyObjectOf, OPENSSL_CURVE } from './key-objects.js';

/** Requests the synchronous executor takes (everything but keygen). */
export type SyncRequest = Exclude<PrimitiveRequest, { op: 'keygen' }>;

export function execute(request: SyncRequest): PrimitiveValue {
  switch (request.op) {
    case 'rsa-public':
      return rsaPublic(request);
    case 'rsa-private':
      return rsaPrivate(request);
    case 'rsa-sign':
      return rsaSign(request);
    case 'rsa-verify':
      return rsaVerify(request);
    case 'rsa-encrypt':
      return rsaEncrypt(request);
    case 'rsa-decrypt':
      return rsaDecrypt(request);
    case 'ecdsa-sign':
      return ecdsaSign(request);
    case 'ecdsa-verify':
      return ecdsaVerify(request);
    case 'ec-mul':
      return ecMul(request);
    case 'ecdh':
      return ecdh(request);
    case 'eddsa-sign':
      return eddsaSign(request);
    case 'eddsa-verify':
      return eddsaVerify(request);
    case 'x25519':
      return x25519(request);
    default:
      throw new UnsupportedError(
        `the software provider has no primitive "${(request as { op: string }).op}"`,
      );
  }
}

// ---- RSA ----------------------------------------------------------------------

/** The modulus size; read from the public half because worker copies of private keys lose getters. */
export function modulusBits(key: RsaPublicKeyMaterial | RsaPrivateKeyMaterial): number {
  return key.kind === 'rsa-private' ? key.publicKey.bits : key.bits;
}

function requireModulusLength(
  op: string,
  what: string,
  key: RsaPublicKeyMaterial | RsaPrivateKeyMaterial,
  input: Uint8Array,
) {
  const bytes = Math.ceil(modulusBits(key) / 8);
  if (input.length !== bytes) {
    throw new InvalidInputError(`${op}: ${what} is ${input.length} bytes, the modulus is ${bytes}`);
  }
  return bytes;
}

/** Runs a raw RSA step; OpenSSL refuses inputs ≥ n, which is the caller's input error. */
function rawRsa(op: string, run: () => Buffer): Uint8Array {
  try {
    return run();
  } catch (cause) {
    throw new InvalidInputError(`${op}: the input is not smaller than the modulus`, { cause });
  }
}

function rsaPublic(r: RequestOf<'rsa-public'>): Uint8Array {
  requireModulusLength(r.op, 'the input', r.key, r.input);
  const key = keyObjectOf(r.key);
  return rawRsa(r.op, () => publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, r.input));
}

function rsaPrivate(r: RequestOf<'rsa-private'>): Uint8Array {
  requireModulusLength(r.op, 'the input', r.key, r.input);
  const key = keyObjectOf(r.key);
  return rawRsa(r.op, () => privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, r.input));
}

export function requireDigest(op: string, hashName: keyof typeof HASH_BYTES, digest: Uint8Array): void {
  if (digest.length !== HASH_BYTES[hashName]) {
    throw new InvalidInputError(
      `${op}: a ${hashName} digest is ${HASH_BYTES[hashName]} bytes, got ${digest.length}`,
    );
  }
}

function rsaSign(r: RequestOf<'rsa-sign'>): Uint8Array {
  requireDigest(r.op, r.padding.hash, r.digest);
  const key = keyObjectOf(r.key);
  const bits = modulusBits(r.key);
  if (r.padding.scheme === 'pkcs1-v1_5') {
    try {
      return privateEncrypt(
        { key, padding: constants.RSA_PKCS1_PADDING },
        digestInfo(r.padding.hash, r.digest),
      );
    } catch (cause) {
      throw new InvalidInputError(
        `${r.op}: a ${r.padding.hash} DigestInfo does not fit a ${bits}-bit modulus`,
        {
          cause,
        },
      );
    }
  }
  // node:crypto signs PSS only over a message and the primitive carries the digest: EMSA-PSS
  // here, then OpenSSL's raw private operation.
  const { hash, mgfHash, saltLength } = r.padding;
  if (!Number.isInteger(saltLength) || saltLength < 0 || saltLength > pssMaxSaltLength(hash, bits)) {
    throw new InvalidInputError(
      `${r.op}: PSS salt length ${saltLength} does not fit a ${bits}-bit modulus with ${hash}`,
    );
  }
  const encoded = emsaPssEncode(hash, r.digest, bits, saltLength, undefined, mgfHash);
  // EM is ⌈(modBits−1)/8⌉ bytes: one byte short of the modulus when modBits ≡ 1 (mod 8).
  const em = new Uint8Array(Math.ceil(bits / 8));
  em.set(encoded, em.length - encoded.length);
  return rawRsa(r.op, () => privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, em));
}

function rsaVerify(r: RequestOf<'rsa-verify'>): boolean {
  requireDigest(r.op, r.padding.hash, r.digest);
  const bits = modulusBits(r.key);
  if (r.signature.length !== Math.ceil(bits / 8)) return false;
  const key = keyObjectOf(r.key);
  if (r.padding.scheme === 'pkcs1-v1_5') {
    let recovered: Buffer;
    try {
      recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, r.signature);
    } catch {
      return false;
    }
    const expected = digestInfo(r.padding.hash, r.digest);
    return recovered.length === expected.length && timingSafeEqual(recovered, expected);
  }
  let m: Buffer;
  try {
    m = publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, r.signature);
  } catch {
    return false;
  }
  const { hash, mgfHash, saltLength } = r.padding;
  return emsaPssVerify(hash, r.digest, m, bits, saltLength, mgfHash);
}

/** node:crypto's OAEP uses the OAEP hash for MGF1 too; other combinations are refused, not miscomputed. */
function oaepOptions(op: string, padding: RsaEncryptionPadding) {
  if (padding.mgfHash !== padding.hash) {
    throw new UnsupportedError(
      `${op}: the software provider does OAEP with MGF1 over the OAEP hash only (got ${padding.hash} with MGF1-${padding.mgfHash})`,
    );
  }
  return {
    padding: constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: NODE_HASH[padding.hash],
    ...(padding.label.length > 0 ? { oaepLabel: padding.label } : {}),
  };
}

function rsaEncrypt(r: RequestOf<'rsa-encrypt'>): Uint8Array {
  const options = oaepOptions(r.op, r.padding);
  const key = keyObjectOf(r.key);
  try {
    return publicEncrypt({ key, ...options }, r.input);
  } catch (cause) {
    throw new InvalidInputError(
      `${r.op}: a ${r.input.length}-byte message is too long for OAEP-${r.padding.hash} with a ${modulusBits(r.key)}-bit modulus`,
      { cause },
    );
  }
}

function rsaDecrypt(r: RequestOf<'rsa-decrypt'>): Uint8Array {
  const options = oaepOptions(r.op, r.padding);
  requireModulusLength(r.op, 'the ciphertext', r.key, r.input);
  const key = keyObjectOf(r.key);
  try {
    return privateDecrypt({ key, ...options }, r.input);
  } catch {
    // One message for every failure (RFC 8017 §7.1.2 note): no hint which check failed, and no cause.
    throw new InvalidInputError(`${r.op}: OAEP decryption failed`);
  }
}

// ---- Weierstrass curves -------------------------------------------------------

function ecdsaSign(r: RequestOf<'ecdsa-sign'>): Uint8Array {
  if (r.message === undefined) return ecdsaSignDigest(r.key, r.digest);
  const key = keyObjectOf(r.key);
  return sign(NODE_HASH[r.message.hash], r.message.data, { key, dsaEncoding: 'ieee-p1363' });
}

function ecdsaVerify(r: RequestOf<'ecdsa-verify'>): boolean {
  if (r.signature.length !== 2 * CURVES[r.key.curve].bytes) return false;
  if (r.message === undefined) return ecdsaVerifyDigest(r.key, r.digest, r.signature);
  const key = keyObjectOf(r.key);
  try {
    return verify(NODE_HASH[r.message.hash], r.message.data, { key, dsaEncoding: 'ieee-p1363' }, r.signature);
  } catch {
    return false;
  }
}

/** One ECDH context per curve for fixed-base multiplications (setPrivateKey computes k·G). */
const generatorContexts = new Map<EcCurveName, ECDH>();

function ecMul(r: RequestOf<'ec-mul'>): EcPoint {
  const curve = CURVES[r.curve];
  const k = (typeof r.scalar === 'bigint' ? r.scalar : r.scalar.d) % curve.n;
  if (k <= 0n) {
    throw new InvalidInputError(`${r.op}: the scalar is zero or negative modulo the ${r.curve} group order`);
  }
  if (r.point !== undefined) {
    const point = ecMultiply(curve, k, r.point);
    if (point === null) throw new InvalidInputError(`${r.op}: the product is the point at infinity`);
    return point;
  }
  let ecdh = generatorContexts.get(r.curve);
  if (ecdh === undefined) {
    ecdh = createECDH(OPENSSL_CURVE[r.curve]);
    generatorContexts.set(r.curve, ecdh);
  }
  ecdh.setPrivateKey(bigintToBytes(k, curve.bytes));
  const encoded = ecdh.getPublicKey();
  return {
    x: bytesToBigint(encoded.subarray(1, 1 + curve.bytes)),
    y: bytesToBigint(encoded.subarray(1 + curve.bytes)),
  };
}

function uncompressed(point: EcPublicKeyMaterial): Uint8Array {
  const bytes = CURVES[point.curve].bytes;
  const out = new Uint8Array(1 + 2 * bytes);
  out[0] = 4;
  out.set(bigintToBytes(point.x, bytes), 1);
  out.set(bigintToBytes(point.y, bytes), 1 + bytes);
  return out;
}

function ecdh(r: { op: 'ecdh'; key: EcPrivateKeyMaterial; peer: EcPublicKeyMaterial }): Uint8Array {
  if (r.peer.curve !== r.key.curve) {
    throw new InvalidInputError(
      `${r.op}: the peer key is on ${r.peer.curve}, the private key on ${r.key.curve}`,
    );
  }
  const context = ecdhOf(r.key);
  let peer: Uint8Array;
  try {
    peer = uncompressed(r.peer);
  } catch (cause) {
    throw new InvalidInputError(`${r.op}: the peer point's coordinates do not fit ${r.peer.curve}`, {
      cause,
    });
  }
  try {
    return context.computeSecret(peer);
  } catch (cause) {
    throw new InvalidInputError(`${r.op}: the peer point is not a valid ${r.peer.curve} point`, { cause });
  }
}

// ---- Ed25519 / X25519 ------------------------------------------------------------

function eddsaSign(r: RequestOf<'eddsa-sign'>): Uint8Array {
  return sign(null, r.message, keyObjectOf(r.key));
}

function eddsaVerify(r: RequestOf<'eddsa-verify'>): boolean {
  if (r.signature.length !== 64) return false;
  const key = keyObjectOf(r.key);
  try {
    return verify(null, r.message, key, r.signature);
  } catch {
    return false;
  }
}

function x25519(r: RequestOf<'x25519'>): Uint8Array {
  if (r.peer.length !== 32) {
    throw new InvalidInputError(`${r.op}: the peer public key is ${r.peer.length} bytes, not 32`);
  }
  const privateKey: KeyObject = keyObjectOf(r.key);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(r.peer).toString('base64url') },
      format: 'jwk',
    });
  } catch (cause) {
    throw new InvalidInputError(`${r.op}: the peer public key is not an X25519 key`, { cause });
  }
  try {
    return diffieHellman({ privateKey, publicKey });
  } catch (cause) {
    throw new InvalidInputError(`${r.op}: the peer public key gives no shared secret (a low-order point)`, {
      cause,
    });
  }
}
