/**
 * ECDSA (FIPS 186-5 §6.4) over whatever the devices offer: the device's own
 * ECDSA first, scalar multiplication with the rest done here second.
 *
 * The composed signing path does s = k⁻¹(e + r·d) mod n with bigint on this
 * thread, which is not constant-time: it is for cards that only multiply
 * points; the software provider signs with OpenSSL.
 */

import { bigintToBytes, bytesToBigint, p1363InRange } from '../driver/bytes.js';
import type { CurveParams } from '../driver/curves.js';
import { DeviceError, throwIfAborted } from '../driver/errors.js';
import type { Finish, PrimitiveExecutor } from '../driver/index.js';
import type { EcPrivateKeyMaterial, EcPublicKeyMaterial, HashName } from '../driver/keys.js';
import type { EcPoint, PrimitiveRequest, PrimitiveValue } from '../driver/primitives.js';
import { digest } from '../encoding/digest.js';
import { ecAdd } from '../math/ec.js';
import { mod, modInv } from '../math/modular.js';
import { curveParams, validateEcPublicKey } from './ec-keys.js';
import { derToP1363, encodeDer, encodeP1363, p1363ToDer, parseP1363 } from './ecdsa-encoding.js';
import { randomScalar } from './nonce.js';
import type { EcdsaSignatureFormat, Last, Options } from './params.js';
import {
  asIs,
  booleanOf,
  bytesOf,
  endWith,
  failedWith,
  pointOf,
  runFirstThen,
  settledWith,
} from './results.js';

/**
 * The digest as the device takes it: the leftmost orderBits bits of the hash
 * (P-256 with SHA-512 keeps the first 256 bits), as a big-endian byte string of
 * at most the order's byte length.
 */
export function ecdsaDigest(curve: CurveParams, hash: HashName, message: Uint8Array): Uint8Array {
  return truncateToOrder(curve, digest(hash, message));
}

/** The leftmost orderBits bits of a hash of any length (FIPS 186-5 §6.4.1), as ecdsaDigest gives them. */
export function truncateToOrder(curve: CurveParams, h: Uint8Array): Uint8Array {
  const hashBits = 8 * h.length;
  if (hashBits <= curve.orderBits) return h;
  const e = bytesToBigint(h) >> BigInt(hashBits - curve.orderBits);
  return bigintToBytes(e, Math.ceil(curve.orderBits / 8));
}

/** Retries when r or s comes out 0 (probability about 2/n each); more than a few means a broken device. */
const MAX_SIGN_ATTEMPTS = 8;

/**
 * The capability probes of the composed forms, made once per key: every call of ecdsaSign and
 * ecdsaVerify offers them, and they depend on the key alone.
 */
const signProbes = new WeakMap<EcPrivateKeyMaterial, PrimitiveRequest>();

function signProbe(key: EcPrivateKeyMaterial): PrimitiveRequest {
  let probe = signProbes.get(key);
  if (probe === undefined) {
    probe = { op: 'ec-mul', curve: key.curve, scalar: 1n };
    signProbes.set(key, probe);
  }
  return probe;
}

/**
 * What verifying needs of a public key that depends on the key alone, found with one look-up
 * per call: the key validated, its curve, and the capability probe of the composed form.
 */
interface VerifyingKey {
  readonly curve: CurveParams;
  readonly probe: PrimitiveRequest;
  /** The values validated (a key whose values differ is validated again). */
  readonly name: EcPublicKeyMaterial['curve'];
  readonly x: bigint;
  readonly y: bigint;
}
const verifyingKeys = new WeakMap<EcPublicKeyMaterial, VerifyingKey>();

function verifyingKey(key: EcPublicKeyMaterial): VerifyingKey {
  const known = verifyingKeys.get(key);
  if (known !== undefined && known.name === key.curve && known.x === key.x && known.y === key.y) return known;
  validateEcPublicKey(key);
  const { curve: name, x, y } = key;
  const probe: PrimitiveRequest = { op: 'ec-mul', curve: name, scalar: 1n, point: { x, y } };
  const made = { curve: curveParams(name), probe, name, x, y };
  verifyingKeys.set(key, made);
  return made;
}

/**
 * Sign `message` hashed with `hash`. With `last` (core/api's last step), the promise settles
 * through it, applied where the job settles (results.ts runFirstThen).
 */
export function ecdsaSign<T = Uint8Array>(
  exec: PrimitiveExecutor,
  key: EcPrivateKeyMaterial,
  hash: HashName,
  message: Uint8Array,
  format: EcdsaSignatureFormat,
  options?: Options,
  last: Last<Uint8Array, T> = asIs() as Last<Uint8Array, T>,
): Promise<T> {
  return sign(exec, key, hash, message, format, options, last);
}

/**
 * Sign a hash someone else made (PKCS#11's CKM_ECDSA): `h` of any length is
 * truncated to the order's bit length, then signed as ecdsaSign signs a digest.
 */
export function ecdsaSignDigest(
  exec: PrimitiveExecutor,
  key: EcPrivateKeyMaterial,
  h: Uint8Array,
  format: EcdsaSignatureFormat,
  options?: Options,
): Promise<Uint8Array> {
  return sign(exec, key, undefined, h, format, options, asIs());
}

/** The device's request: the message rides along for providers that sign messages only (PrehashedMessage). */
function signRequest(
  key: EcPrivateKeyMaterial,
  eBytes: Uint8Array,
  hash: HashName | undefined,
  data: Uint8Array,
): PrimitiveRequest {
  return hash === undefined
    ? { op: 'ecdsa-sign', key, digest: eBytes }
    : { op: 'ecdsa-sign', key, digest: eBytes, message: { hash, data } };
}

/** A settled promise to start further work from, in a later microtask (Finish: never inside a harvest). */
const LATER = Promise.resolve();

/**
 * With `hash`, sign `data` hashed with it; without, `data` is the hash. Not async: the job's own
 * promise, settled through the Signing (its last step), is the operation's; what it throws
 * becomes a rejection all the same.
 */
function sign<T>(
  exec: PrimitiveExecutor,
  key: EcPrivateKeyMaterial,
  hash: HashName | undefined,
  data: Uint8Array,
  format: EcdsaSignatureFormat,
  options: Options | undefined,
  last: Last<Uint8Array, T>,
): Promise<T> {
  try {
    throwIfAborted(options?.signal);
    const curve = curveParams(key.curve);
    const eBytes = hash === undefined ? truncateToOrder(curve, data) : ecdsaDigest(curve, hash, data);
    const device = signRequest(key, eBytes, hash, data);
    const signal = options?.signal;
    const signing = new Signing(exec, key, curve, eBytes, device, format, signal, last);
    return runFirstThen(exec, [device, signing], signing.runOptions, signing);
  } catch (error) {
    return failedWith(last, error);
  }
}

/**
 * One signature: its inputs, shared by its attempts; the composed form's alternative (R = k·G
 * for a fresh nonce k, made only if it is chosen: an object with a method, not a closure per
 * call); and the job's last step (Finish) — the device's own signature, the usual case, is
 * released with no step of its own; the rare retries, when the composed form makes r or s 0,
 * in signAgain.
 */
class Signing<T> implements Finish<T> {
  nonce = 0n;
  readonly probe: PrimitiveRequest;
  readonly runOptions: { readonly signal: AbortSignal } | undefined;
  constructor(
    readonly exec: PrimitiveExecutor,
    readonly key: EcPrivateKeyMaterial,
    readonly curve: CurveParams,
    readonly eBytes: Uint8Array,
    /** The device's own ecdsa-sign request (alternative 0). */
    readonly device: PrimitiveRequest,
    readonly format: EcdsaSignatureFormat,
    signal: AbortSignal | undefined,
    readonly last: Last<Uint8Array, T>,
  ) {
    this.probe = signProbe(key);
    this.runOptions = signal === undefined ? undefined : { signal };
  }

  build(): PrimitiveRequest {
    this.nonce = randomScalar(this.curve);
    return { op: 'ec-mul', curve: this.curve.name, scalar: this.nonce };
  }

  value(index: number, value: PrimitiveValue, device: string): T | Promise<T> {
    const signature = signatureOf(this, index, value, device);
    if (signature !== null) return this.last.value(signature);
    return endWith(
      LATER.then(() => signAgain(this)),
      this.last,
    );
  }

  error(error: unknown): unknown {
    return this.last.error(error);
  }
}

/**
 * The signature an attempt made: the device's own (range and validity checked by the integrity
 * gate, core/integrity, before release), or s = k⁻¹(e + r·d) mod n from R = k·G of the composed
 * form; null when r or s came out 0 (try again with a new nonce).
 */
function signatureOf(
  signing: Signing<unknown>,
  index: number,
  value: PrimitiveValue,
  device: string,
): Uint8Array | null {
  const { curve, format } = signing;
  if (index === 0) {
    const signature = bytesOf(value, device, 2 * curve.bytes);
    return format === 'der' ? p1363ToDer(signature, curve.bytes)! : signature;
  }
  const R = pointOf(value, device);
  const { n } = curve;
  const r = mod(R.x, n);
  if (r === 0n) return null;
  const s = mod(modInv(signing.nonce, n) * (bytesToBigint(signing.eBytes) + r * signing.key.d), n);
  if (s === 0n) return null;
  return format === 'der' ? encodeDer(r, s) : encodeP1363(r, s, curve.bytes);
}

/** The attempts after a first that made r or s 0 (one at a time: each builds its own nonce). */
async function signAgain(signing: Signing<unknown>): Promise<Uint8Array> {
  for (let attempt = 1; attempt < MAX_SIGN_ATTEMPTS; attempt++) {
    const result = await signing.exec.runFirst([signing.device, signing], signing.runOptions);
    const signature = signatureOf(signing, result.index, result.value, result.device);
    if (signature !== null) return signature;
  }
  throw new DeviceError(
    'ECDSA signing kept producing r = 0 or s = 0; the device multiplying points is suspect',
  );
}

/** Verify `signature` over `message` hashed with `hash`; `last` as ecdsaSign's. */
export function ecdsaVerify<T = boolean>(
  exec: PrimitiveExecutor,
  key: EcPublicKeyMaterial,
  hash: HashName,
  message: Uint8Array,
  signature: Uint8Array,
  format: EcdsaSignatureFormat,
  options?: Options,
  last: Last<boolean, T> = asIs() as Last<boolean, T>,
): Promise<T> {
  return verify(exec, key, hash, message, signature, format, options, last);
}

/** Verify a signature over a hash someone else made (PKCS#11's CKM_ECDSA): `h` truncated as ecdsaSignDigest does. */
export function ecdsaVerifyDigest(
  exec: PrimitiveExecutor,
  key: EcPublicKeyMaterial,
  h: Uint8Array,
  signature: Uint8Array,
  format: EcdsaSignatureFormat,
  options?: Options,
): Promise<boolean> {
  return verify(exec, key, undefined, h, signature, format, options, asIs());
}

/**
 * With `hash`, verify over `data` hashed with it; without, `data` is the hash. Not async, as
 * `sign`: the job's own promise, settled through the Verification, is the operation's.
 */
function verify<T>(
  exec: PrimitiveExecutor,
  key: EcPublicKeyMaterial,
  hash: HashName | undefined,
  data: Uint8Array,
  signature: Uint8Array,
  format: EcdsaSignatureFormat,
  options: Options | undefined,
  last: Last<boolean, T>,
): Promise<T> {
  try {
    throwIfAborted(options?.signal);
    const verifying = verifyingKey(key);
    const curve = verifying.curve;
    const p1363 = checkedP1363(curve, signature, format);
    // A signature that cannot be valid: false, with no job.
    if (p1363 === null) return settledWith(last, false);
    const eBytes = hash === undefined ? truncateToOrder(curve, data) : ecdsaDigest(curve, hash, data);
    const device: PrimitiveRequest =
      hash === undefined
        ? { op: 'ecdsa-verify', key, digest: eBytes, signature: p1363 }
        : { op: 'ecdsa-verify', key, digest: eBytes, signature: p1363, message: { hash, data } };
    const verification = new Verification(verifying, key, p1363, eBytes, exec, options?.signal, last);
    return runFirstThen(exec, [device, verification], verification.runOptions, verification);
  } catch (error) {
    return failedWith(last, error);
  }
}

/** The signature as P1363 r‖s with both halves in [1, n−1], or null if it cannot be valid. */
function checkedP1363(
  curve: CurveParams,
  signature: Uint8Array,
  format: EcdsaSignatureFormat,
): Uint8Array | null {
  const p1363 =
    format === 'der'
      ? derToP1363(signature, curve.bytes)
      : signature.length === 2 * curve.bytes
        ? signature
        : null;
  return p1363 !== null && p1363InRange(curve, p1363) ? p1363 : null;
}

/**
 * One verification: the composed form's alternative — u2·Q, with u1 = e·w and u2 = r·w
 * (w = s⁻¹ mod n) worked out only if it is chosen — and the job's last step (Finish): the
 * device's own verdict (the usual case, checked by the integrity gate before release) is
 * released with no step of its own; the composed form's goes on in composedVerdict.
 */
class Verification<T> implements Finish<T> {
  r = 0n;
  u1 = 0n;
  readonly probe: PrimitiveRequest;
  readonly curve: CurveParams;
  readonly runOptions: { readonly signal: AbortSignal } | undefined;
  constructor(
    verifying: VerifyingKey,
    readonly key: EcPublicKeyMaterial,
    readonly p1363: Uint8Array,
    readonly eBytes: Uint8Array,
    readonly exec: PrimitiveExecutor,
    signal: AbortSignal | undefined,
    readonly last: Last<boolean, T>,
  ) {
    this.probe = verifying.probe;
    this.curve = verifying.curve;
    this.runOptions = signal === undefined ? undefined : { signal };
  }

  build(): PrimitiveRequest {
    const { n, bytes } = this.curve;
    const rs = parseP1363(this.p1363, bytes)!;
    this.r = rs.r;
    const w = modInv(rs.s, n);
    this.u1 = mod(bytesToBigint(this.eBytes) * w, n);
    const point = { x: this.key.x, y: this.key.y };
    return { op: 'ec-mul', curve: this.key.curve, scalar: mod(rs.r * w, n), point };
  }

  value(index: number, value: PrimitiveValue, device: string): T | Promise<T> {
    if (index === 0) return this.last.value(booleanOf(value, device));
    const uQ = pointOf(value, device);
    return endWith(
      LATER.then(() => composedVerdict(this, uQ)),
      this.last,
    );
  }

  error(error: unknown): unknown {
    return this.last.error(error);
  }
}

/**
 * The verdict of the composed form from u2·Q: add u1·G and compare x mod n with r. u2 = r·w is
 * never 0, so u2·Q is a finite point any ec-mul device can return; u1 is 0 when e ≡ 0 (mod n),
 * and then u1·G is the identity, not asked for.
 */
async function composedVerdict(composed: Verification<unknown>, uQ: EcPoint): Promise<boolean> {
  const { curve, key, exec, runOptions } = composed;
  let sum = uQ;
  if (composed.u1 !== 0n) {
    const uG = await exec.run({ op: 'ec-mul', curve: key.curve, scalar: composed.u1 }, runOptions);
    const total = ecAdd(curve, uG, uQ);
    if (total === null) return false;
    sum = total;
  }
  return mod(sum.x, curve.n) === composed.r;
}
