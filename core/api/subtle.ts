/**
 * `subtle`: WebCrypto's SubtleCrypto method set over pkaccel's devices.
 *
 * Each method converts its arguments as WebIDL does (./webidl.ts), looks the
 * algorithm up in core/algorithms' table (suite.ts), makes WebCrypto's checks in
 * the spec's order and runs the operation with the key the accelerator holds.
 * What is not one of pkaccel's asymmetric algorithms (digest, AES-*, HMAC, HKDF,
 * PBKDF2, Ed448, X448) passes through to node's crypto.subtle (./pass-through.ts),
 * its keys wrapped in the same CryptoKey class, so deriveKey (ECDH -> AES) and
 * wrapKey/unwrapKey (RSA-OAEP, AES-KW) mix the two freely.
 *
 * pkaccel extensions: ECDSA `format: 'der'` (Ecdsa-Sig-Value signatures; the
 * default 'p1363' is WebCrypto's r‖s); `RSA-RAW`, unpadded RSA (encrypt m^e mod n,
 * decrypt c^d mod n; keys imported or generated for it; input exactly the modulus
 * length); a trailing `{ signal }` on every method (AbortError); a deployment's
 * `policy` (./policy.ts). RSAES-PKCS1-v1_5 is refused (padding-oracle risk).
 * Errors are what WebCrypto names (./dom-errors.ts); a PkaccelError stays as `cause`.
 */

import type { Last } from '../algorithms/params.js';
import { asIs } from '../algorithms/results.js';
import {
  type AsymmetricAlgorithm,
  type Call,
  findAlgorithm,
  type KeyUsage,
  type Operation,
  type Params,
} from '../algorithms/suite.js';
import type { PrimitiveExecutor } from '../driver/device.js';
import { domError, lastStep, preparationFailed, settle, settleNow } from './dom-errors.js';
import {
  type Context,
  exportHeld,
  type Held,
  prepareCall,
  prepareGenerate,
  prepareImport,
  prepareOpen,
  toArrayBuffer,
} from './held-keys.js';
import { type CryptoKey, isAcceleratorKey } from './key-handle.js';
import * as node from './pass-through.js';
import type { KeyPolicy } from './policy.js';
import type * as T from './types.js';
import * as idl from './webidl.js';

export type * from './types.js';

type Alg = T.AlgorithmIdentifier;
type Key = T.CryptoKeyLike;
type Bytes = T.BufferSource;
type Opts = T.CallOptions;
type Usages = T.KeyUsages;

/** A device's result bytes as a fresh ArrayBuffer; node's result (already one) as it is. */
function asArrayBuffer(value: Uint8Array | ArrayBuffer): ArrayBuffer {
  return value instanceof ArrayBuffer ? value : toArrayBuffer(value);
}

/** The last steps of sign and verify without a signal (dom-errors.ts settleNow), made once. */
const SIGNED = lastStep<Uint8Array | ArrayBuffer, ArrayBuffer>('sign', asArrayBuffer);
const VERIFIED = lastStep<boolean, boolean>('verify', (verdict) => verdict);

/**
 * The Held of a record and its converted members, one per members object: idl.dictionary hands
 * back the same frozen members for a call like the one before, and so the same Held (no object
 * per call). Keyed by the members alone, the record is checked (a dictionary without members is
 * shared by records).
 */
const helds = new WeakMap<Params, Held>();
/** The Held returned last, when its members hold no caller object (a peer key): a like call is one comparison. */
let lastHeld: Held | undefined;
function heldOf(algorithm: AsymmetricAlgorithm, params: Params): Held {
  if (lastHeld !== undefined && lastHeld.params === params && lastHeld.algorithm === algorithm)
    return lastHeld;
  let held = helds.get(params);
  if (held === undefined || held.algorithm !== algorithm) {
    held = { algorithm, params };
    helds.set(params, held);
  }
  if (params.public === undefined) lastHeld = held;
  return held;
}

/**
 * The WebCrypto SubtleCrypto method set over an accelerator's devices
 * (`accel.subtle`). RSASSA-PKCS1-v1_5, RSA-PSS, RSA-OAEP, ECDSA, ECDH, Ed25519,
 * X25519 (and pkaccel's `RSA-RAW`) run on the devices through the job queue;
 * digest, AES-*, HMAC, HKDF, PBKDF2, Ed448 and X448 pass through to node's
 * `crypto.subtle`. Errors are DOMExceptions with WebCrypto's names, the
 * PkaccelError as `cause`. Every method takes a trailing `{ signal }`.
 *
 * @example
 * ```ts
 * const accel = await openAccelerator();
 * const { privateKey, publicKey } = await accel.subtle.generateKey(
 *   { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
 *   false, // non-extractable: on a device with a key store, the private key stays there
 *   ['sign', 'verify'],
 * );
 * const data = new TextEncoder().encode('hello');
 * const signature = await accel.subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, privateKey, data, {
 *   signal: AbortSignal.timeout(1000),
 * });
 * await accel.subtle.verify({ name: 'RSA-PSS', saltLength: 32 }, publicKey, signature, data); // true
 * ```
 *
 * @category WebCrypto
 */
export class AcceleratorSubtle {
  readonly #exec: PrimitiveExecutor;
  readonly #policy: KeyPolicy | undefined;
  readonly #keyStores: T.SubtleOptions['keyStores'];
  /** The context of every call without a signal, made once (calls without one are the hot path). */
  readonly #unsignalled: Context;

  /** @internal Made by openAccelerator; use `accel.subtle`. */
  constructor(executor: PrimitiveExecutor, options: T.SubtleOptions = {}) {
    this.#exec = executor;
    this.#policy = options.policy;
    this.#keyStores = options.keyStores;
    this.#unsignalled = {
      exec: executor,
      policy: options.policy,
      signal: undefined,
      keyStores: options.keyStores,
    };
  }

  /**
   * @internal `accel.keys.open(name, algorithm, usages)`: a key a device holds by
   * name (a broker's named key, a keyring key) as a non-extractable key pair.
   */
  openDeviceKey(name: string, algorithm: Alg, usages: Usages, options?: Opts): Promise<T.CryptoKeyPair> {
    return settle('importKey', options?.signal, () => {
      const held = this.#normalize(idl.algorithmIdentifier(algorithm), 'importKey');
      if (!held) throw domError('NotSupportedError', 'not an asymmetric algorithm of the accelerator');
      return prepareOpen(held, String(name), [...usages] as KeyUsage[], this.#context(options));
    });
  }

  /**
   * Encrypt `data` with a public key: RSA-OAEP (at most modulus bytes − 2·hash bytes − 2
   * of data), `RSA-RAW` (exactly the modulus length, less than n), or a secret key of
   * node's (AES-*). Resolves to the ciphertext (modulus-length for RSA).
   */
  encrypt(algorithm: Alg, key: Key, data: Bytes, options?: Opts) {
    return this.#crypt('encrypt', algorithm, key, data, options);
  }

  /**
   * Decrypt `data` with a private key (RSA-OAEP, `RSA-RAW`; the ciphertext is
   * modulus-length) or a secret key of node's. A padding failure is an OperationError
   * that says nothing more (no padding oracle).
   */
  decrypt(algorithm: Alg, key: Key, data: Bytes, options?: Opts) {
    return this.#crypt('decrypt', algorithm, key, data, options);
  }

  /**
   * Sign `data` (the whole message: hashing is part of the algorithm) with a private
   * key: RSASSA-PKCS1-v1_5, RSA-PSS (`saltLength` in bytes), ECDSA (`hash`; r‖s, or
   * DER with `format: 'der'`), Ed25519; HMAC passes through to node. Resolves to the signature.
   */
  sign(algorithm: Alg, key: Key, data: Bytes, options?: Opts): Promise<ArrayBuffer> {
    return this.#signOrVerify('sign', algorithm, key, data, undefined, options, SIGNED);
  }

  /**
   * Check `signature` over `data` with a public key; resolves to the verdict. A
   * malformed signature is `false`, not an error. A device's verdict is checked
   * by the integrity gate before it is returned.
   */
  verify(algorithm: Alg, key: Key, signature: Bytes, data: Bytes, options?: Opts): Promise<boolean> {
    return this.#signOrVerify('verify', algorithm, key, signature, data, options, VERIFIED);
  }

  /**
   * sign (`a` the data) and verify (`a` the signature, `b` the data) in settle's two phases. Without
   * a signal (the hot path) the operation is started with `last`, sign's or verify's last step,
   * and its own promise is the call's (dom-errors.ts settleNow): no closure, reaction or promise
   * of subtle's per call.
   */
  #signOrVerify<T>(
    operation: 'sign' | 'verify',
    algorithm: Alg,
    key: Key,
    a: Bytes,
    b: Bytes | undefined,
    options: Opts | undefined,
    last: Last<never, T>,
  ): Promise<T> {
    const signal = options?.signal;
    if (signal !== undefined)
      return settle(
        operation,
        signal,
        () => this.#start(operation, asIs(), algorithm, key, a, b, options),
        last.value as (value: unknown) => T,
      );
    let prepared: (() => Promise<unknown>) | Promise<T>;
    try {
      prepared = this.#start(operation, last, algorithm, key, a, b, undefined);
    } catch (error) {
      return preparationFailed(error, operation);
    }
    return settleNow(operation, last as Last<unknown, T>, prepared);
  }

  /**
   * The first phase of sign or verify: the arguments converted left to right, as WebIDL converts
   * them (no array per call), the algorithm normalised, the key checked; then the work — node's to
   * start, or ours started with `last` (what it throws is the work's failure, through `last`).
   */
  #start<T>(
    operation: 'sign' | 'verify',
    last: Last<never, T>,
    algorithm: Alg,
    key: Key,
    a: Bytes,
    b: Bytes | undefined,
    options: Opts | undefined,
  ): (() => Promise<unknown>) | Promise<T> {
    const alg = idl.algorithmIdentifier(algorithm);
    const k = idl.cryptoKey(key, 'key');
    const verifying = operation === 'verify';
    const first = idl.bufferSource(a, verifying ? 'signature' : 'data');
    const data = verifying ? idl.bufferSource(b, 'data') : first;
    const held = this.#normalize(alg, operation);
    if (!held) {
      const [nodeAlg, nodeKey] = [node.nodeAlgorithm(alg), node.forNode(k)];
      return verifying
        ? () => node.nodeSubtle.verify(nodeAlg, nodeKey, first, data)
        : () => node.nodeSubtle.sign(nodeAlg, nodeKey, data);
    }
    const call = this.#use(held, k, operation, operation, options);
    try {
      return verifying
        ? held.algorithm.verify!(call, first, data, last as Last<boolean, T>)
        : held.algorithm.sign!(call, data, last as Last<Uint8Array, T>);
    } catch (error) {
      return Promise.reject(last.error(error));
    }
  }

  /** Hash `data` (SHA-1, SHA-256, SHA-384, SHA-512); always node's, never a device. */
  digest(algorithm: Alg, data: Bytes, options?: Opts): Promise<ArrayBuffer> {
    return settle('digest', options?.signal, () => {
      const [alg, bytes] = [idl.algorithmIdentifier(algorithm), idl.bufferSource(data, 'data')];
      return () => node.nodeSubtle.digest(alg as node.NodeAlgorithm, bytes);
    });
  }

  /** Asymmetric algorithms make a key pair. */
  generateKey(
    algorithm: T.KeyPairAlgorithm,
    extractable: boolean,
    keyUsages: Usages,
    options?: Opts,
  ): Promise<T.CryptoKeyPair>;
  /** Symmetric algorithms pass through to node and make one key. */
  generateKey(
    algorithm: T.SecretKeyAlgorithm,
    extractable: boolean,
    keyUsages: Usages,
    options?: Opts,
  ): Promise<CryptoKey>;
  generateKey(
    algorithm: Alg,
    extractable: boolean,
    keyUsages: Usages,
    options?: Opts,
  ): Promise<T.CryptoKeyPair | CryptoKey>;
  generateKey(
    algorithm: Alg,
    extractable: boolean,
    keyUsages: Usages,
    options?: Opts,
  ): Promise<T.CryptoKeyPair | CryptoKey> {
    return settle('generateKey', options?.signal, () => {
      const [alg, ext, usages] = [
        idl.algorithmIdentifier(algorithm),
        idl.boolean(extractable),
        idl.keyUsages(keyUsages),
      ];
      const held = this.#normalize(alg, 'generateKey');
      if (!held)
        return async () =>
          node.wrapResult(await node.nodeSubtle.generateKey(node.nodeAlgorithm(alg), ext, usages));
      return prepareGenerate(held, ext, usages, this.#context(options));
    });
  }

  /**
   * Key agreement: ECDH (`public`: the peer's key; `length` in bits, at most the
   * field size; `null` for all of it) or X25519 (up to 256 bits); HKDF and PBKDF2
   * pass through to node. Resolves to the shared secret's first `length` bits.
   */
  deriveBits(algorithm: Alg, baseKey: Key, length?: number | null, options?: Opts): Promise<ArrayBuffer> {
    return settle('deriveBits', options?.signal, () => {
      const [alg, k, bits] = [
        idl.algorithmIdentifier(algorithm),
        idl.cryptoKey(baseKey, 'baseKey'),
        idl.optionalLength(length),
      ];
      const held = this.#normalize(alg, 'deriveBits');
      if (!held)
        return () => node.nodeSubtle.deriveBits(node.nodeAlgorithm(alg), node.forNode(k), bits as number);
      const call = this.#use(held, k, 'deriveBits', 'deriveBits', options);
      return () => held.algorithm.deriveBits!(call, bits).then(toArrayBuffer);
    });
  }

  /**
   * deriveBits for the length `derivedKeyType` needs (AES: its `length`; HMAC: its
   * `length`, else its hash's block size), imported as that key (made by node): ECDH → AES-GCM, for example.
   */
  deriveKey(
    algorithm: Alg,
    baseKey: Key,
    derivedKeyType: Alg,
    extractable: boolean,
    keyUsages: Usages,
    options?: Opts,
  ): Promise<CryptoKey> {
    return settle('deriveKey', options?.signal, () => {
      const [alg, k] = [idl.algorithmIdentifier(algorithm), idl.cryptoKey(baseKey, 'baseKey')];
      const [derived, ext, usages] = [
        idl.algorithmIdentifier(derivedKeyType),
        idl.boolean(extractable),
        idl.keyUsages(keyUsages),
      ];
      const held = this.#normalize(alg, 'deriveBits', 'deriveKey');
      if (!held) {
        const [a, d] = [node.nodeAlgorithm(alg), derived as node.NodeAlgorithm];
        return async () =>
          node.wrapResult(await node.nodeSubtle.deriveKey(a, node.forNode(k), d, ext, usages));
      }
      const length = node.derivedKeyBits(derived);
      const call = this.#use(held, k, 'deriveBits', 'deriveKey', options);
      return async () => {
        const bits = await held.algorithm.deriveBits!(call, length);
        return this.importKey('raw', bits, derived as Alg, ext, usages, options);
      };
    });
  }

  /**
   * Import a key: `spki` (public), `pkcs8` (private), `jwk`, or `raw` (EC, Ed25519,
   * X25519 public points; secret keys). Bad key data is a DataError. A non-extractable
   * private key imported on an accelerator with a key-store device goes into that
   * device's store and never stays in this process.
   */
  importKey(
    format: T.KeyFormat,
    keyData: Bytes | T.JsonWebKey,
    algorithm: Alg,
    extractable: boolean,
    keyUsages: Usages,
    options?: Opts,
  ): Promise<CryptoKey> {
    return settle('importKey', options?.signal, () => {
      const fmt = idl.keyFormat(format);
      if (
        !idl.isBufferSource(keyData) &&
        keyData !== null &&
        !['object', 'undefined'].includes(typeof keyData)
      )
        throw new TypeError('keyData must be a BufferSource or a JsonWebKey');
      const [alg, ext, usages] = [
        idl.algorithmIdentifier(algorithm),
        idl.boolean(extractable),
        idl.keyUsages(keyUsages),
      ];
      const held = this.#normalize(alg, 'importKey');
      const data = idl.keyData(keyData, fmt);
      if (!held) {
        const a = node.nodeAlgorithm(alg);
        return async () =>
          node.wrapResult(await node.nodeSubtle.importKey(fmt as 'raw', data as Uint8Array, a, ext, usages));
      }
      return prepareImport(held, fmt, data, ext, usages, this.#context(options));
    });
  }

  /** Export a key as a JSON Web Key. A non-extractable key is refused (InvalidAccessError). */
  exportKey(format: 'jwk', key: Key, options?: Opts): Promise<T.JsonWebKey>;
  /** Export a key as bytes: `spki`, `pkcs8` or `raw`. A non-extractable key is refused (InvalidAccessError). */
  exportKey(format: Exclude<T.KeyFormat, 'jwk'>, key: Key, options?: Opts): Promise<ArrayBuffer>;
  /** Export a key in `format`: a JSON Web Key for `jwk`, bytes otherwise. A non-extractable key is refused. */
  exportKey(format: T.KeyFormat, key: Key, options?: Opts): Promise<ArrayBuffer | T.JsonWebKey>;
  exportKey(format: T.KeyFormat, key: Key, options?: Opts): Promise<ArrayBuffer | T.JsonWebKey> {
    return settle('exportKey', options?.signal, () => {
      const [fmt, k] = [idl.keyFormat(format), idl.cryptoKey(key, 'key')];
      if (!isAcceleratorKey(k)) return () => node.nodeSubtle.exportKey(fmt as 'raw', node.forNode(k));
      return async () => exportHeld(fmt, k);
    });
  }

  /**
   * exportKey(`format`, `key`) encrypted with `wrappingKey`: RSA-OAEP on a device, or
   * AES-KW/AES-GCM by node. Resolves to the wrapped bytes.
   */
  wrapKey(
    format: T.KeyFormat,
    key: Key,
    wrappingKey: Key,
    wrapAlgorithm: Alg,
    options?: Opts,
  ): Promise<ArrayBuffer> {
    return settle('wrapKey', options?.signal, () => {
      const [fmt, k, wk] = [
        idl.keyFormat(format),
        idl.cryptoKey(key, 'key'),
        idl.cryptoKey(wrappingKey, 'wrappingKey'),
      ];
      const alg = idl.algorithmIdentifier(wrapAlgorithm);
      const held = this.#normalize(alg, 'encrypt', 'wrapKey');
      const call = held && this.#use(held, wk, 'encrypt', 'wrapKey', options);
      return async () => {
        const exported = isAcceleratorKey(k)
          ? exportHeld(fmt, k)
          : await node.nodeSubtle.exportKey(fmt as 'raw', node.forNode(k));
        let bytes = exported instanceof ArrayBuffer ? new Uint8Array(exported) : undefined;
        if (!bytes) {
          let text = JSON.stringify(exported);
          // WebCrypto's note on wrapKey: pad a JWK to AES-KW's 8-byte block with spaces.
          if (idl.algorithmName(alg).toUpperCase() === 'AES-KW' && text.length % 8 !== 0)
            text += ' '.repeat(8 - (text.length % 8));
          bytes = new TextEncoder().encode(text);
        }
        if (!call) return node.wrapBytes(bytes, wk, alg);
        return toArrayBuffer(await held.algorithm.encrypt!(call, bytes));
      };
    });
  }

  /**
   * Decrypt `wrappedKey` with `unwrappingKey` (RSA-OAEP on a device, or AES-KW/AES-GCM
   * by node) and import the result as importKey(`format`, …) would.
   */
  unwrapKey(
    format: T.KeyFormat,
    wrappedKey: Bytes,
    unwrappingKey: Key,
    unwrapAlgorithm: Alg,
    unwrappedKeyAlgorithm: Alg,
    extractable: boolean,
    keyUsages: Usages,
    options?: Opts,
  ): Promise<CryptoKey> {
    return settle('unwrapKey', options?.signal, () => {
      const [fmt, wrapped] = [idl.keyFormat(format), idl.bufferSource(wrappedKey, 'wrappedKey')];
      const [uk, alg] = [
        idl.cryptoKey(unwrappingKey, 'unwrappingKey'),
        idl.algorithmIdentifier(unwrapAlgorithm),
      ];
      const keyAlg = idl.algorithmIdentifier(unwrappedKeyAlgorithm) as Alg;
      const [ext, usages] = [idl.boolean(extractable), idl.keyUsages(keyUsages)];
      const held = this.#normalize(alg, 'decrypt', 'unwrapKey');
      const call = held && this.#use(held, uk, 'decrypt', 'unwrapKey', options);
      return async () => {
        const bytes = call
          ? await held.algorithm.decrypt!(call, wrapped)
          : await node.unwrapBytes(wrapped, uk, alg);
        if (fmt !== 'jwk') return this.importKey(fmt, bytes, keyAlg, ext, usages, options);
        let jwk: T.JsonWebKey;
        try {
          jwk = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as T.JsonWebKey;
        } catch (error) {
          throw domError('DataError', 'unwrapped data is not a JSON Web Key', error);
        }
        return this.importKey(fmt, jwk, keyAlg, ext, usages, options);
      };
    });
  }

  #crypt(
    operation: 'encrypt' | 'decrypt',
    algorithm: Alg,
    key: Key,
    data: Bytes,
    options: Opts | undefined,
  ): Promise<ArrayBuffer> {
    return settle(operation, options?.signal, () => {
      const [alg, k, bytes] = [
        idl.algorithmIdentifier(algorithm),
        idl.cryptoKey(key, 'key'),
        idl.bufferSource(data, 'data'),
      ];
      const held = this.#normalize(alg, operation);
      if (!held) return () => node.nodeSubtle[operation](node.nodeAlgorithm(alg), node.forNode(k), bytes);
      const call = this.#use(held, k, operation, operation, options);
      return () => held.algorithm[operation]!(call, bytes).then(toArrayBuffer);
    });
  }

  /**
   * WebCrypto's "normalize an algorithm" for `operation`: one of pkaccel's
   * algorithms with its dictionary members converted, or undefined for node's.
   */
  #normalize(
    algorithm: string | object,
    operation: Operation | 'generateKey' | 'importKey',
    caller: string = operation,
  ): Held | undefined {
    const name = idl.algorithmName(algorithm);
    const record = findAlgorithm(name);
    if (!record) {
      // Not in the table (checked only then: no upper-case copy of the name per call).
      if (name.toUpperCase() === 'RSAES-PKCS1-V1_5')
        throw domError(
          'NotSupportedError',
          'RSAES-PKCS1-v1_5 is not offered (padding-oracle risk); use RSA-OAEP',
        );
      return undefined;
    }
    const members =
      operation === 'generateKey'
        ? record.generateParams
        : operation === 'importKey'
          ? record.importParams
          : record.operationParams[operation];
    if (members === undefined)
      throw domError('NotSupportedError', `${record.name} does not support ${caller}`);
    return heldOf(record, idl.dictionary(algorithm, record.name, members));
  }

  #context(options: Opts | undefined): Context {
    const signal = options?.signal;
    if (signal === undefined) return this.#unsignalled;
    return { exec: this.#exec, policy: this.#policy, signal, keyStores: this.#keyStores };
  }

  /** The call of an operation with a held key, after WebCrypto's key checks (made in phase 1, as before). */
  #use(held: Held, key: Key, operation: Operation, usage: KeyUsage, options: Opts | undefined): Call<never> {
    return prepareCall(held, key, operation, usage, this.#context(options));
  }
}
