/**
 * The cryptographic operations of the token, each on the accelerator's job
 * queue through core/algorithms (so every job is scheduled, retried and passes
 * the integrity gate like any other; nothing here computes with a private key):
 *
 * - sign: RSASSA-PKCS1-v1_5 on a DigestInfo (or a short T, padded here and signed
 *   with raw RSA), on a hash, or on data hashed here; RSASSA-PSS on a hash or on
 *   data; raw RSA (when allowed); ECDSA on a hash (truncated to the order) or on
 *   data. ECDSA signatures are r‖s, as PKCS#11 defines them.
 * - verify: the same forms with the public key.
 * - decrypt: RSAES-OAEP; RSAES-PKCS1-v1_5 with implicit rejection (a bad padding
 *   answers a synthetic message, never an error: no padding oracle); raw RSA (when allowed).
 *
 * Parameters are checked when the operation starts (`operationParams`), so a bad
 * mechanism parameter is CKR_MECHANISM_PARAM_INVALID from the *Init call.
 */

import { ecdsaSign, ecdsaSignDigest, ecdsaVerify, ecdsaVerifyDigest } from '../../core/algorithms/ecdsa.js';
import { rsaOaepDecrypt, rsaRawPrivate, rsaRawPublic } from '../../core/algorithms/index.js';
import { rsaSign, rsaSignDigest, rsaVerify, rsaVerifyDigest } from '../../core/algorithms/rsa-signature.js';
import { rsaPkcs1DecryptImplicit } from '../../core/algorithms/rsaes-pkcs1-implicit.js';
import { constantTimeEqual } from '../../core/encoding/bytes.js';
import { HASH_BYTES, HASHES, type HashName } from '../../core/encoding/hashes.js';
import {
  EC_FIELD_BYTES,
  type EcPrivateKeyMaterial,
  PkaccelError,
  type PrimitiveExecutor,
  type RsaPrivateKeyMaterial,
} from '../../index.js';
import { CKG, CKM, CKR, CKZ_DATA_SPECIFIED } from './constants.js';
import type { MechanismDef } from './mechanisms.js';
import type { Mechanism } from './message.js';

/** A PKCS#11 failure with its CK_RV. */
export class CkError extends Error {
  override readonly name = 'CkError';
  constructor(
    readonly rv: number,
    message: string,
  ) {
    super(message);
  }
}

const HASH_OF_CKM = new Map<number, HashName>([
  [CKM.SHA_1, 'SHA-1'],
  [CKM.SHA256, 'SHA-256'],
  [CKM.SHA384, 'SHA-384'],
  [CKM.SHA512, 'SHA-512'],
]);
const HASH_OF_MGF = new Map<number, HashName>([
  [CKG.MGF1_SHA1, 'SHA-1'],
  [CKG.MGF1_SHA256, 'SHA-256'],
  [CKG.MGF1_SHA384, 'SHA-384'],
  [CKG.MGF1_SHA512, 'SHA-512'],
]);

export type Purpose = 'sign' | 'verify' | 'decrypt';
type KeyMaterial = RsaPrivateKeyMaterial | EcPrivateKeyMaterial;

/** The checked parameters of one operation. */
export type OperationParams =
  /** With `rejectionSecret` (CKM_RSA_PKCS decryption only): the key's, for implicit rejection. */
  | { readonly form: 'pkcs1'; readonly hash?: HashName; readonly rejectionSecret?: Uint8Array }
  | { readonly form: 'pss'; readonly hash: HashName; readonly saltLength: number; readonly hashData: boolean }
  | { readonly form: 'oaep'; readonly hash: HashName; readonly label: Uint8Array }
  | { readonly form: 'raw' }
  | { readonly form: 'ecdsa'; readonly hash?: HashName };

function paramInvalid(why: string): CkError {
  return new CkError(CKR.MECHANISM_PARAM_INVALID, why);
}

function noParameter(mechanism: Mechanism): void {
  if (mechanism.kind !== 'bytes' || (mechanism.param !== null && mechanism.param.length !== 0))
    throw paramInvalid('this mechanism takes no parameter');
}

function hashPair(hashAlg: number, mgf: number): HashName {
  const hash = HASH_OF_CKM.get(hashAlg);
  const mgfHash = HASH_OF_MGF.get(mgf);
  if (hash === undefined) throw paramInvalid(`hash mechanism 0x${hashAlg.toString(16)} is not supported`);
  // core/algorithms does MGF1 over the message hash only (as WebCrypto and TLS use it).
  if (mgfHash !== hash) throw paramInvalid(`MGF1 must use the same hash as the message (${hash})`);
  return hash;
}

const ALLOWED: Readonly<Record<MechanismDef['use']['form'], readonly Purpose[]>> = {
  pkcs1: ['sign', 'verify', 'decrypt'],
  pss: ['sign', 'verify'],
  ecdsa: ['sign', 'verify'],
  oaep: ['decrypt'],
  raw: ['sign', 'verify', 'decrypt'],
};

/** CKM_RSA_PKCS decryption: only with implicit rejection, so only for a key with a rejection secret. */
function pkcs1DecryptParams(def: MechanismDef, rejectionSecret: Uint8Array | undefined): OperationParams {
  if (def.use.form !== 'pkcs1' || def.use.hash !== undefined)
    throw new CkError(CKR.MECHANISM_INVALID, `${def.name} cannot decrypt`);
  if (rejectionSecret === undefined)
    throw new CkError(
      CKR.KEY_FUNCTION_NOT_PERMITTED,
      'this key has no rejection secret (its d was never on the host): no CKM_RSA_PKCS decryption',
    );
  return { form: 'pkcs1', rejectionSecret };
}

/**
 * Check a mechanism against the key and purpose; the parameters the operation will use.
 * `rejectionSecret`: the key's, when it has one (CKM_RSA_PKCS decryption needs it).
 */
export function operationParams(
  def: MechanismDef,
  mechanism: Mechanism,
  material: KeyMaterial,
  purpose: Purpose,
  rejectionSecret?: Uint8Array,
): OperationParams {
  const use = def.use;
  if (!ALLOWED[use.form].includes(purpose))
    throw new CkError(CKR.MECHANISM_INVALID, `${def.name} cannot ${purpose}`);
  if ((use.key === 'rsa') !== (material.kind === 'rsa-private'))
    throw new CkError(CKR.KEY_TYPE_INCONSISTENT, `${def.name} does not take this key type`);
  switch (use.form) {
    case 'pkcs1':
      noParameter(mechanism);
      if (purpose === 'decrypt') return pkcs1DecryptParams(def, rejectionSecret);
      return use.hash === undefined ? { form: 'pkcs1' } : { form: 'pkcs1', hash: use.hash };
    case 'raw':
      noParameter(mechanism);
      return { form: 'raw' };
    case 'ecdsa':
      noParameter(mechanism);
      return use.hash === undefined ? { form: 'ecdsa' } : { form: 'ecdsa', hash: use.hash };
    case 'pss': {
      if (mechanism.kind !== 'pss') throw paramInvalid('PSS needs CK_RSA_PKCS_PSS_PARAMS');
      const hash = hashPair(mechanism.hashAlg, mechanism.mgf);
      if (use.hash !== undefined && use.hash !== hash)
        throw paramInvalid(`${def.name} parameters name ${hash}, not ${use.hash}`);
      const rsa = material as RsaPrivateKeyMaterial;
      const max = Math.ceil((rsa.bits - 1) / 8) - HASH_BYTES[hash] - 2;
      if (mechanism.sLen < 0 || mechanism.sLen > max)
        throw paramInvalid(`PSS salt length ${mechanism.sLen} is outside 0–${max} for this key`);
      return { form: 'pss', hash, saltLength: mechanism.sLen, hashData: use.hash !== undefined };
    }
    case 'oaep': {
      if (mechanism.kind !== 'oaep') throw paramInvalid('OAEP needs CK_RSA_PKCS_OAEP_PARAMS');
      const hash = hashPair(mechanism.hashAlg, mechanism.mgf);
      const label = mechanism.sourceData ?? new Uint8Array(0);
      if (mechanism.source !== CKZ_DATA_SPECIFIED && !(mechanism.source === 0 && label.length === 0))
        throw paramInvalid('OAEP source must be CKZ_DATA_SPECIFIED');
      return { form: 'oaep', hash, label: Uint8Array.from(label) };
    }
  }
}

function modulusLength(key: RsaPrivateKeyMaterial): number {
  return Math.ceil(key.bits / 8);
}

/** The signature's length (what a size query answers). */
export function signatureLength(material: KeyMaterial): number {
  return material.kind === 'rsa-private' ? modulusLength(material) : 2 * EC_FIELD_BYTES[material.curve];
}

/** The hash a DigestInfo names, and its digest; undefined if `t` is not a DigestInfo of a known hash. */
function parseDigestInfo(t: Uint8Array): { hash: HashName; digest: Uint8Array } | undefined {
  for (const hash of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const) {
    const prefix = HASHES[hash].digestInfoPrefix;
    if (
      t.length === prefix.length + HASH_BYTES[hash] &&
      Buffer.from(t.subarray(0, prefix.length)).equals(prefix)
    )
      return { hash, digest: t.subarray(prefix.length) };
  }
  return undefined;
}

/** EMSA-PKCS1-v1_5 block type 1 around an arbitrary T (CKM_RSA_PKCS on data that is not a DigestInfo). */
function pkcs1Block(t: Uint8Array, k: number): Uint8Array {
  if (t.length > k - 11) throw new CkError(CKR.DATA_LEN_RANGE, `at most ${k - 11} bytes for this key`);
  const em = new Uint8Array(k).fill(0xff, 2, k - t.length - 1);
  em[1] = 0x01;
  em[k - t.length - 1] = 0x00;
  em.set(t, k - t.length);
  return em;
}

/** Raw RSA input: the data left-padded with zeros to the modulus length. */
function rawBlock(data: Uint8Array, k: number): Uint8Array {
  if (data.length > k) throw new CkError(CKR.DATA_LEN_RANGE, `at most ${k} bytes for this key`);
  const out = new Uint8Array(k);
  out.set(data, k - data.length);
  return out;
}

function digestLength(params: { hash: HashName }, data: Uint8Array): void {
  if (data.length !== HASH_BYTES[params.hash])
    throw new CkError(CKR.DATA_LEN_RANGE, `a ${params.hash} hash is ${HASH_BYTES[params.hash]} bytes`);
}

/** Sign `data` (already hashed here for multi-part hash-and-sign: then `prehashed`). */
export async function sign(
  exec: PrimitiveExecutor,
  material: KeyMaterial,
  params: OperationParams,
  data: Uint8Array,
  signal: AbortSignal,
  prehashed = false,
): Promise<Uint8Array> {
  const o = { signal };
  if (material.kind === 'ec-private') {
    if (params.form !== 'ecdsa') throw new CkError(CKR.KEY_TYPE_INCONSISTENT, 'EC key');
    if (params.hash !== undefined && !prehashed)
      return ecdsaSign(exec, material, params.hash, data, 'p1363', o);
    return ecdsaSignDigest(exec, material, data, 'p1363', o);
  }
  const k = modulusLength(material);
  switch (params.form) {
    case 'pkcs1': {
      if (params.hash !== undefined)
        return prehashed
          ? rsaSignDigest(exec, material, { scheme: 'pkcs1-v1_5', hash: params.hash }, data, o)
          : rsaSign(exec, material, { scheme: 'pkcs1-v1_5', hash: params.hash }, data, o);
      const info = parseDigestInfo(data);
      // A DigestInfo goes to a device that pads (the hash named); any other T is padded here.
      if (info !== undefined)
        return rsaSignDigest(exec, material, { scheme: 'pkcs1-v1_5', hash: info.hash }, info.digest, o);
      return rsaRawPrivate(exec, material, pkcs1Block(data, k), o);
    }
    case 'pss': {
      const p = { scheme: 'pss', hash: params.hash, saltLength: params.saltLength } as const;
      if (params.hashData && !prehashed) return rsaSign(exec, material, p, data, o);
      digestLength(params, data);
      return rsaSignDigest(exec, material, p, data, o);
    }
    case 'raw': {
      const block = rawBlock(data, k);
      return rsaRawPrivate(exec, material, block, o);
    }
    default:
      throw new CkError(CKR.MECHANISM_INVALID, `${params.form} does not sign`);
  }
}

/** Whether `signature` is valid for `data`. */
export async function verify(
  exec: PrimitiveExecutor,
  material: KeyMaterial,
  params: OperationParams,
  data: Uint8Array,
  signature: Uint8Array,
  signal: AbortSignal,
): Promise<boolean> {
  const o = { signal };
  if (signature.length !== signatureLength(material))
    throw new CkError(
      CKR.SIGNATURE_LEN_RANGE,
      `a signature of this key is ${signatureLength(material)} bytes`,
    );
  if (material.kind === 'ec-private') {
    const pub = material.publicKey;
    if (params.form !== 'ecdsa') throw new CkError(CKR.KEY_TYPE_INCONSISTENT, 'EC key');
    if (params.hash !== undefined) return ecdsaVerify(exec, pub, params.hash, data, signature, 'p1363', o);
    return ecdsaVerifyDigest(exec, pub, data, signature, 'p1363', o);
  }
  const pub = material.publicKey;
  const k = modulusLength(material);
  switch (params.form) {
    case 'pkcs1': {
      if (params.hash !== undefined)
        return rsaVerify(exec, pub, { scheme: 'pkcs1-v1_5', hash: params.hash }, data, signature, o);
      const info = parseDigestInfo(data);
      if (info !== undefined)
        return rsaVerifyDigest(
          exec,
          pub,
          { scheme: 'pkcs1-v1_5', hash: info.hash },
          info.digest,
          signature,
          o,
        );
      return constantTimeEqual(await rsaRawPublic(exec, pub, signature, o), pkcs1Block(data, k));
    }
    case 'pss': {
      const p = { scheme: 'pss', hash: params.hash, saltLength: params.saltLength } as const;
      if (params.hashData) return rsaVerify(exec, pub, p, data, signature, o);
      digestLength(params, data);
      return rsaVerifyDigest(exec, pub, p, data, signature, o);
    }
    case 'raw':
      return constantTimeEqual(await rsaRawPublic(exec, pub, signature, o), rawBlock(data, k));
    default:
      throw new CkError(CKR.MECHANISM_INVALID, `${params.form} does not verify`);
  }
}

/** Decrypt `data` (OAEP, PKCS#1 v1.5 with implicit rejection, or raw RSA when allowed). */
export async function decrypt(
  exec: PrimitiveExecutor,
  material: KeyMaterial,
  params: OperationParams,
  data: Uint8Array,
  signal: AbortSignal,
): Promise<Uint8Array> {
  if (material.kind !== 'rsa-private') throw new CkError(CKR.KEY_TYPE_INCONSISTENT, 'not an RSA key');
  if (data.length !== modulusLength(material))
    throw new CkError(
      CKR.ENCRYPTED_DATA_LEN_RANGE,
      `a ciphertext of this key is ${modulusLength(material)} bytes`,
    );
  try {
    if (params.form === 'oaep')
      return await rsaOaepDecrypt(exec, material, { hash: params.hash, label: params.label }, data, {
        signal,
      });
    // No error for a bad padding: the key's synthetic message for this ciphertext comes back instead.
    if (params.form === 'pkcs1' && params.rejectionSecret !== undefined)
      return await rsaPkcs1DecryptImplicit(exec, material, params.rejectionSecret, data, { signal });
    if (params.form === 'raw') return await rsaRawPrivate(exec, material, data, { signal });
  } catch (error) {
    // Every OAEP failure (bad padding, ciphertext ≥ n) is the same answer: no oracle. (PKCS#1
    // v1.5 fails only for a ciphertext ≥ n, which is public.)
    if (error instanceof PkaccelError && error.code === 'invalid-input')
      throw new CkError(CKR.ENCRYPTED_DATA_INVALID, 'decryption failed');
    throw error;
  }
  throw new CkError(CKR.MECHANISM_INVALID, `${params.form} does not decrypt`);
}

/** The CK_RV for an error an operation ended with. */
export function returnValueOf(error: unknown): number {
  if (error instanceof CkError) return error.rv;
  if (error instanceof PkaccelError) {
    switch (error.code) {
      case 'invalid-input':
        return CKR.DATA_INVALID;
      case 'invalid-key':
        return CKR.KEY_HANDLE_INVALID;
      case 'unsupported':
        return CKR.KEY_SIZE_RANGE;
      case 'device-gone':
        return CKR.DEVICE_REMOVED;
      case 'aborted':
        return CKR.FUNCTION_CANCELED;
      default:
        return CKR.DEVICE_ERROR;
    }
  }
  return CKR.GENERAL_ERROR;
}
