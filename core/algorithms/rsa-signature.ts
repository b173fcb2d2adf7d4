/**
 * RSASSA-PKCS1-v1_5 and RSASSA-PSS over whatever the devices offer: the
 * device's own padded signing first, raw RSA with the encoding done here second.
 */

import type { Alternative, Finish } from '../driver/device.js';
import { InvalidInputError, throwIfAborted } from '../driver/errors.js';
import type { PrimitiveExecutor, RsaSignaturePadding } from '../driver/index.js';
import type { HashName, RsaPrivateKeyMaterial, RsaPublicKeyMaterial } from '../driver/keys.js';
import type { PrimitiveRequest, PrimitiveValue } from '../driver/primitives.js';
import { constantTimeEqual } from '../encoding/bytes.js';
import { digest } from '../encoding/digest.js';
import {
  emsaPkcs1v15Encode,
  encodeReused,
  type Pkcs1v15Reuse,
  pkcs1v15Reuse,
  releaseReused,
} from '../encoding/emsa-pkcs1v15.js';
import { emsaPssEncode, emsaPssVerify, pssMaxSaltLength } from '../encoding/emsa-pss.js';
import { HASH_BYTES } from '../encoding/hashes.js';
import type { Last, Options, RsaSignatureParams } from './params.js';
import { asIs, booleanResult, bytesOf, bytesResult, failedWith, runFirstThen } from './results.js';
import { checkRsaPrivateKey, checkRsaPublicKey } from './rsa-limits.js';
import { isRsaRepresentative, modulusBytes } from './rsa-public.js';

/** A PSS EM (⌈(modBits−1)/8⌉ bytes) widened to the k-byte input of raw RSA. */
function widen(em: Uint8Array, k: number): Uint8Array {
  if (em.length === k) return em;
  const out = new Uint8Array(k);
  out.set(em, k - em.length);
  return out;
}

/** The PSS EM inside a k-byte RSA output, or null if the bytes above it are not zero. */
function narrowPss(opened: Uint8Array, modBits: number): Uint8Array | null {
  const emLen = Math.ceil((modBits - 1) / 8);
  for (let i = 0; i < opened.length - emLen; i++) if (opened[i] !== 0) return null;
  return opened.subarray(opened.length - emLen);
}

/** Whether the k-byte `opened` = s^e mod n is a valid encoding of `mHash`. */
function encodingMatches(
  params: RsaSignatureParams,
  key: RsaPublicKeyMaterial,
  mHash: Uint8Array,
  opened: Uint8Array,
): boolean {
  if (params.scheme === 'pkcs1-v1_5') {
    return constantTimeEqual(opened, emsaPkcs1v15Encode(params.hash, mHash, modulusBytes(key)));
  }
  const em = narrowPss(opened, key.bits);
  return em !== null && emsaPssVerify(params.hash, mHash, em, key.bits, params.saltLength);
}

function checkSaltLength(params: RsaSignatureParams, modBits: number): void {
  if (params.scheme !== 'pss') return;
  const max = pssMaxSaltLength(params.hash, modBits);
  if (!Number.isInteger(params.saltLength) || params.saltLength < 0 || params.saltLength > max) {
    throw new InvalidInputError(
      `PSS salt length ${params.saltLength} is outside 0–${Math.max(max, 0)} for this key and ${params.hash}`,
    );
  }
}

/**
 * Sign `message` (hashed here). With `last` (core/api's last step), the promise settles through
 * it, applied where the job settles (results.ts runFirstThen).
 */
export function rsaSign<T = Uint8Array>(
  exec: PrimitiveExecutor,
  key: RsaPrivateKeyMaterial,
  params: RsaSignatureParams,
  message: Uint8Array,
  options?: Options,
  last: Last<Uint8Array, T> = asIs() as Last<Uint8Array, T>,
): Promise<T> {
  return signDigest(exec, key, params, message, message, options, last);
}

/**
 * Sign a message hash someone else made (PKCS#11's CKM_RSA_PKCS on a DigestInfo,
 * CKM_RSA_PKCS_PSS on a hash): as rsaSign from the hash on.
 */
export function rsaSignDigest(
  exec: PrimitiveExecutor,
  key: RsaPrivateKeyMaterial,
  params: RsaSignatureParams,
  mHash: Uint8Array,
  options?: Options,
): Promise<Uint8Array> {
  return signDigest(exec, key, params, mHash, undefined, options, asIs());
}

/**
 * What signing needs of a private key that depends on the key alone, made once per key: the key
 * checked, the modulus length, and the capability probe of the raw-RSA form.
 */
interface SigningKey {
  readonly k: number;
  readonly probe: PrimitiveRequest;
  /** The values the checks passed for (a key whose values differ is checked again). */
  readonly bits: number;
  readonly e: bigint;
  /**
   * PKCS#1 v1.5's encodings of the last hash signed with (template and given-back arrays): looked
   * up here once, not in the encoding's maps twice per signature.
   */
  reuse: Pkcs1v15Reuse | undefined;
}
const signingKeys = new WeakMap<RsaPrivateKeyMaterial, SigningKey>();
function signingKey(key: RsaPrivateKeyMaterial): SigningKey {
  let known = signingKeys.get(key);
  if (known === undefined || known.bits !== key.bits || known.e !== key.e) {
    checkRsaPrivateKey(key);
    const k = modulusBytes(key.publicKey);
    known = {
      k,
      probe: { op: 'rsa-private', key, input: new Uint8Array(k) },
      bits: key.bits,
      e: key.e,
      reuse: undefined,
    };
    signingKeys.set(key, known);
  }
  return known;
}

/** The device's padding of PKCS#1 v1.5, one object per hash (every signature asks for one). */
const pkcs1Paddings = new Map<HashName, RsaSignaturePadding>();
function devicePadding(params: RsaSignatureParams): RsaSignaturePadding {
  if (params.scheme === 'pss')
    return { scheme: 'pss', hash: params.hash, mgfHash: params.hash, saltLength: params.saltLength };
  let padding = pkcs1Paddings.get(params.hash);
  if (padding === undefined) {
    padding = Object.freeze({ scheme: 'pkcs1-v1_5', hash: params.hash });
    pkcs1Paddings.set(params.hash, padding);
  }
  return padding;
}

/**
 * Signing composed from a device's raw RSA: the encoded message (PKCS#1 v1.5's, or PSS's with a
 * fresh salt) made only if this alternative is chosen — an object with a method, not a closure
 * and an encoding per call — and the job's last step (Finish): the signature's length checked
 * (its validity by the integrity gate, before release), the encoding given back, the caller's step.
 */
class RawSignature<T> implements Finish<T> {
  /** The PKCS#1 v1.5 encoding built (the queue builds once per job), to give back once the job settled. */
  em: Uint8Array | undefined = undefined;
  constructor(
    readonly probe: PrimitiveRequest,
    /** PKCS#1 v1.5's encodings (for PSS: undefined). */
    readonly reuse: Pkcs1v15Reuse | undefined,
    readonly key: RsaPrivateKeyMaterial,
    readonly params: RsaSignatureParams,
    readonly mHash: Uint8Array,
    readonly k: number,
    readonly last: Last<Uint8Array, T>,
  ) {}

  value(_index: number, value: PrimitiveValue, device: string): T {
    const signature = bytesOf(value, device, this.k);
    // Settled with a value: no device, retry or check reads the job's request again.
    this.settled(signature);
    return this.last.value(signature);
  }

  error(error: unknown): unknown {
    return this.last.error(error);
  }

  build(): PrimitiveRequest {
    const { key, params, mHash, k } = this;
    let input: Uint8Array;
    if (params.scheme === 'pkcs1-v1_5') {
      // The digest is the hash's own (signDigest made or checked it).
      input = encodeReused(this.reuse!, mHash);
      this.em = input;
    } else input = widen(emsaPssEncode(params.hash, mHash, key.bits, params.saltLength), k);
    return { op: 'rsa-private', key, input, takesBuffer: true };
  }

  /**
   * The job has settled with `signature`: no device, retry or check reads its request again, so
   * the encoding goes back for another signature — unless the device answered with the
   * encoding's own bytes (subtle may hand that very buffer to the caller).
   */
  settled(signature: Uint8Array): void {
    const em = this.em;
    this.em = undefined;
    if (em !== undefined && signature.buffer !== em.buffer) releaseReused(this.reuse!, em);
  }
}

/**
 * With `message`, `data` is that message (hashed here); without, `data` is the hash. Not async
 * (as ECDSA's sign): what it throws becomes a rejection, and the result's check is one reaction.
 */
function signDigest<T>(
  exec: PrimitiveExecutor,
  key: RsaPrivateKeyMaterial,
  params: RsaSignatureParams,
  data: Uint8Array,
  message: Uint8Array | undefined,
  options: Options | undefined,
  last: Last<Uint8Array, T>,
): Promise<T> {
  let alternatives: Alternative[];
  let raw: RawSignature<T>;
  let k: number;
  try {
    throwIfAborted(options?.signal);
    const signing = signingKey(key);
    k = signing.k;
    checkSaltLength(params, key.bits);
    if (message === undefined && data.length !== HASH_BYTES[params.hash])
      throw new InvalidInputError(
        `a ${params.hash} digest is ${HASH_BYTES[params.hash]} bytes, not ${data.length}`,
      );
    const mHash = message === undefined ? data : digest(params.hash, message);
    // PKCS#1 v1.5 is deterministic: its encoding waits for the raw form to be chosen, its length
    // check does not (a modulus too short fails the call whichever form runs: pkcs1v15Reuse).
    let reuse: Pkcs1v15Reuse | undefined;
    if (params.scheme === 'pkcs1-v1_5') {
      reuse = signing.reuse;
      if (reuse?.hash !== params.hash) reuse = signing.reuse = pkcs1v15Reuse(params.hash, k);
    }
    const padding = devicePadding(params);
    raw = new RawSignature(signing.probe, reuse, key, params, mHash, k, last);
    alternatives = [
      // The message rides along for providers whose library signs messages only (PrehashedMessage).
      message === undefined
        ? { op: 'rsa-sign', key, padding, digest: mHash }
        : { op: 'rsa-sign', key, padding, digest: mHash, message: { hash: params.hash, data: message } },
      raw,
    ];
  } catch (error) {
    return failedWith(last, error);
  }
  // The integrity gate (core/integrity) has opened the signature with the public key and
  // compared it with the encoding (device padding) or the input (raw RSA) before release.
  const signal = options?.signal;
  return runFirstThen(exec, alternatives, signal === undefined ? undefined : { signal }, raw);
}

export async function rsaVerify(
  exec: PrimitiveExecutor,
  key: RsaPublicKeyMaterial,
  params: RsaSignatureParams,
  message: Uint8Array,
  signature: Uint8Array,
  options?: Options,
): Promise<boolean> {
  throwIfAborted(options?.signal);
  checkRsaPublicKey(key);
  if (!verifiable(key, params, signature)) return false;
  return verifyDigest(exec, key, params, digest(params.hash, message), signature, message, options);
}

/** Verify a signature over a message hash someone else made: as rsaVerify from the hash on. */
export async function rsaVerifyDigest(
  exec: PrimitiveExecutor,
  key: RsaPublicKeyMaterial,
  params: RsaSignatureParams,
  mHash: Uint8Array,
  signature: Uint8Array,
  options?: Options,
): Promise<boolean> {
  throwIfAborted(options?.signal);
  checkRsaPublicKey(key);
  if (!verifiable(key, params, signature) || mHash.length !== HASH_BYTES[params.hash]) return false;
  return verifyDigest(exec, key, params, mHash, signature, undefined, options);
}

/** Whether the signature could be valid at all (a representative; a PSS salt length that fits). */
function verifiable(key: RsaPublicKeyMaterial, params: RsaSignatureParams, signature: Uint8Array): boolean {
  if (!isRsaRepresentative(key, signature)) return false;
  if (params.scheme !== 'pss') return true;
  const max = pssMaxSaltLength(params.hash, key.bits);
  return Number.isInteger(params.saltLength) && params.saltLength >= 0 && params.saltLength <= max;
}

async function verifyDigest(
  exec: PrimitiveExecutor,
  key: RsaPublicKeyMaterial,
  params: RsaSignatureParams,
  mHash: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array | undefined,
  options: Options | undefined,
): Promise<boolean> {
  const result = await exec.runFirst(
    [
      {
        op: 'rsa-verify',
        key,
        padding: devicePadding(params),
        digest: mHash,
        signature,
        ...(message === undefined ? {} : { message: { hash: params.hash, data: message } }),
      },
      { op: 'rsa-public', key, input: signature },
    ],
    { signal: options?.signal },
  );
  if (result.index === 0) return booleanResult(result);
  return encodingMatches(params, key, mHash, bytesResult(result, modulusBytes(key)));
}
