/**
 * `subtle`: WebCrypto's SubtleCrypto method set over pkaccel's devices.
 *
 * Each method converts its arguments as WebIDL does (core/api/webidl.ts), looks
 * the algorithm up in core/algorithms' table (suite.ts) and runs the operation
 * with the key the accelerator holds, checking in the order WebCrypto specifies.
 * What is not one of pkaccel's asymmetric algorithms (digest, AES-*, HMAC, HKDF,
 * PBKDF2, Ed448, X448) passes through to node's crypto.subtle, and the keys node
 * makes come back wrapped in the same CryptoKey class, so deriveKey (ECDH -> AES)
 * and wrapKey/unwrapKey (RSA-OAEP, AES-KW) mix the two freely.
 *
 * pkaccel extensions:
 * - ECDSA sign/verify take `{ name: 'ECDSA', hash, format: 'der' }` for DER
 *   (Ecdsa-Sig-Value) signatures; the default `'p1363'` is WebCrypto's r‖s.
 * - `RSA-RAW`: unpadded RSA for encrypt (m^e mod n) and decrypt (c^d mod n). It
 *   accepts only keys imported or generated for `{ name: 'RSA-RAW' }` (no hash;
 *   usages encrypt on public keys, decrypt on private keys); the input must be
 *   exactly the modulus length and less than the modulus.
 * - Every method takes an optional trailing `{ signal }`: an aborted signal
 *   rejects the call with an AbortError DOMException.
 * - A deployment's `policy` (core/api/policy.ts) may refuse small RSA keys or curves.
 *
 * RSAES-PKCS1-v1_5 is refused with NotSupportedError (padding-oracle risk).
 * Errors are DOMExceptions named as WebCrypto specifies (TypeError where WebIDL
 * throws one, and a caller's own error, such as a throwing getter, as thrown);
 * a PkaccelError from below stays as `cause`.
 */

import { KeyObject, webcrypto } from 'node:crypto';
import { types } from 'node:util';
import { generateKeyPair } from '../algorithms/index.js';
import { checkKeygenSpec } from '../algorithms/keygen.js';
import {
  type AsymmetricAlgorithm,
  type AsymmetricName,
  type Call,
  findAlgorithm,
  type KeyUsage,
  type Operation,
  type Params,
} from '../algorithms/suite.js';
import type { PrimitiveExecutor } from '../driver/device.js';
import { PkaccelError } from '../driver/errors.js';
import type { PrivateKeyMaterial, PublicKeyMaterial } from '../driver/keys.js';
import {
  exportKeyMaterial,
  importKeyMaterial,
  type JsonWebKey,
  type KeyFormat,
} from '../key-formats/index.js';
import { domError, toWebCryptoError } from './dom-errors.js';
import { CryptoKey, isAcceleratorKey, isCryptoKey, nodeKeyOf, secretOf } from './key-handle.js';
import { checkPolicy, type KeyPolicy } from './policy.js';
import type { AlgorithmIdentifier } from './webidl.js';
import * as idl from './webidl.js';

const nodeSubtle = webcrypto.subtle;
type NodeCryptoKey = webcrypto.CryptoKey;
type NodeAlgorithm = webcrypto.AlgorithmIdentifier;

/** A key `subtle` accepts: its own, or one of node's (for the algorithms node runs, and as an ECDH peer). */
export type CryptoKeyLike = CryptoKey | NodeCryptoKey;
/** A key pair from generateKey. */
export interface CryptoKeyPair {
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
}
/** @deprecated Use CryptoKeyPair. */
export type CryptoKeyPairLike = CryptoKeyPair;
export type BufferSource = ArrayBuffer | ArrayBufferView;
export type { AlgorithmIdentifier, JsonWebKey, KeyFormat };
/** Algorithms whose generateKey makes a key pair. */
export type KeyPairAlgorithm =
  | AsymmetricName
  | 'Ed448'
  | 'X448'
  | { readonly name: AsymmetricName | 'Ed448' | 'X448'; readonly [member: string]: unknown }
  | webcrypto.RsaHashedKeyGenParams
  | webcrypto.EcKeyGenParams;

/** The trailing options every method accepts. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface SubtleOptions {
  /** A deployment's key policy (stricter than WebCrypto's defaults). */
  readonly policy?: KeyPolicy;
}

/** What an argument list converted to, for one of pkaccel's algorithms or for node. */
type Target = { readonly algorithm: AsymmetricAlgorithm; readonly params: Params } | { readonly node: true };

/** A stand-in secret key for moving arbitrary bytes through node's wrapKey/unwrapKey. */
const CARRIER = { name: 'HMAC', hash: 'SHA-256' } as const;

/** HMAC's default key length is the hash's block size. */
function hmacDefaultBits(hash: unknown): number {
  const name = idl.algorithmName(idl.algorithmIdentifier(hash)).toUpperCase();
  return name === 'SHA-384' || name === 'SHA-512' ? 1024 : 512;
}

/** The bits deriveKey must derive for a key of `algorithm` (WebCrypto's "get key length"). */
function derivedKeyBits(algorithm: string | object): number | null {
  const name = idl.algorithmName(algorithm);
  const upper = name.toUpperCase();
  const params = (typeof algorithm === 'string' ? {} : algorithm) as Record<string, unknown>;
  if (['AES-CTR', 'AES-CBC', 'AES-GCM', 'AES-KW'].includes(upper)) {
    const length = idl.enforcedUnsignedLong(params.length, `${name}.length`);
    if (![128, 192, 256].includes(length))
      throw domError('OperationError', 'AES key length must be 128, 192 or 256');
    return length;
  }
  if (upper === 'HMAC') {
    if (params.hash === undefined) throw new TypeError('HMAC: the "hash" member is required');
    return params.length === undefined
      ? hmacDefaultBits(params.hash)
      : idl.enforcedUnsignedLong(params.length, 'HMAC.length');
  }
  if (upper === 'HKDF' || upper === 'PBKDF2') return null;
  throw domError('NotSupportedError', `deriveKey cannot make a ${name} key`);
}

/** WebIDL's CryptoKey argument: one of ours or node's, else TypeError. */
function cryptoKey(value: unknown, what: string): CryptoKeyLike {
  if (isCryptoKey(value) || types.isCryptoKey(value)) return value as CryptoKeyLike;
  throw new TypeError(`${what} is not of type CryptoKey`);
}

/** node's key for a key handed to node: a wrapped one unwrapped; a key the accelerator holds is refused. */
function forNode(key: CryptoKeyLike): NodeCryptoKey {
  if (!isCryptoKey(key)) return key;
  const node = nodeKeyOf(key);
  if (node === undefined)
    throw domError('InvalidAccessError', `a ${key.algorithm.name} key cannot be used with this algorithm`);
  return node;
}

/** An algorithm object for node with CryptoKey members (ECDH/X448 `public`) unwrapped. */
function nodeAlgorithm(algorithm: string | object): NodeAlgorithm {
  if (typeof algorithm === 'string') return algorithm;
  const pub = (algorithm as { public?: unknown }).public;
  if (!isCryptoKey(pub)) return algorithm as NodeAlgorithm;
  return { ...(algorithm as object), public: forNode(pub) } as unknown as NodeAlgorithm;
}

/** node's keys in the one key class. */
function wrapResult(result: NodeCryptoKey): CryptoKey;
function wrapResult(result: NodeCryptoKey | webcrypto.CryptoKeyPair): CryptoKey | CryptoKeyPair;
function wrapResult(result: NodeCryptoKey | webcrypto.CryptoKeyPair): CryptoKey | CryptoKeyPair {
  if (types.isCryptoKey(result)) return CryptoKey.wrap(result as NodeCryptoKey);
  result = result as webcrypto.CryptoKeyPair;
  return { publicKey: CryptoKey.wrap(result.publicKey), privateKey: CryptoKey.wrap(result.privateKey) };
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

/** Usages for a key of `type`: SyntaxError if any is not allowed, or if a private key would have none. */
function usagesFor(alg: AsymmetricAlgorithm, type: 'public' | 'private', usages: readonly KeyUsage[]) {
  const allowed = alg.usages[type];
  for (const u of usages)
    if (!allowed.includes(u))
      throw domError('SyntaxError', `usage "${u}" is not valid for a ${alg.name} ${type} key`);
  if (type === 'private' && usages.length === 0)
    throw domError('SyntaxError', `a ${alg.name} private key needs at least one usage`);
  return [...usages];
}

/** The WebCrypto SubtleCrypto method set over an accelerator's devices. */
export class AcceleratorSubtle {
  readonly #exec: PrimitiveExecutor;
  readonly #policy: KeyPolicy | undefined;

  constructor(executor: PrimitiveExecutor, options: SubtleOptions = {}) {
    this.#exec = executor;
    this.#policy = options.policy;
  }

  encrypt(algorithm: AlgorithmIdentifier, key: CryptoKeyLike, data: BufferSource, options?: CallOptions) {
    return this.#crypt('encrypt', algorithm, key, data, options);
  }

  decrypt(algorithm: AlgorithmIdentifier, key: CryptoKeyLike, data: BufferSource, options?: CallOptions) {
    return this.#crypt('decrypt', algorithm, key, data, options);
  }

  sign(
    algorithm: AlgorithmIdentifier,
    key: CryptoKeyLike,
    data: BufferSource,
    options?: CallOptions,
  ): Promise<ArrayBuffer> {
    return this.#guard('sign', options, (signal) => {
      const [alg, k, bytes] = [
        idl.algorithmIdentifier(algorithm),
        cryptoKey(key, 'key'),
        idl.bufferSource(data, 'data'),
      ];
      const target = this.#normalize(alg, 'sign');
      if ('node' in target) return () => nodeSubtle.sign(nodeAlgorithm(alg), forNode(k), bytes);
      const call = this.#use(target, k, 'sign', 'sign', signal);
      return async () => toArrayBuffer(await target.algorithm.sign!(call(), bytes));
    });
  }

  verify(
    algorithm: AlgorithmIdentifier,
    key: CryptoKeyLike,
    signature: BufferSource,
    data: BufferSource,
    options?: CallOptions,
  ): Promise<boolean> {
    return this.#guard('verify', options, (signal) => {
      const alg = idl.algorithmIdentifier(algorithm);
      const k = cryptoKey(key, 'key');
      const sig = idl.bufferSource(signature, 'signature');
      const bytes = idl.bufferSource(data, 'data');
      const target = this.#normalize(alg, 'verify');
      if ('node' in target) return () => nodeSubtle.verify(nodeAlgorithm(alg), forNode(k), sig, bytes);
      const call = this.#use(target, k, 'verify', 'verify', signal);
      return () => target.algorithm.verify!(call(), sig, bytes);
    });
  }

  digest(algorithm: AlgorithmIdentifier, data: BufferSource, options?: CallOptions): Promise<ArrayBuffer> {
    return this.#guard('digest', options, () => {
      const alg = idl.algorithmIdentifier(algorithm);
      const bytes = idl.bufferSource(data, 'data');
      return () => nodeSubtle.digest(alg as NodeAlgorithm, bytes);
    });
  }

  /** Asymmetric algorithms make a key pair. */
  generateKey(
    algorithm: KeyPairAlgorithm,
    extractable: boolean,
    keyUsages: Iterable<KeyUsage | string>,
    options?: CallOptions,
  ): Promise<CryptoKeyPair>;
  /** Symmetric algorithms pass through to node and make one key. */
  generateKey(
    algorithm: webcrypto.AesKeyGenParams | webcrypto.HmacKeyGenParams | webcrypto.Pbkdf2Params,
    extractable: boolean,
    keyUsages: Iterable<KeyUsage | string>,
    options?: CallOptions,
  ): Promise<CryptoKey>;
  generateKey(
    algorithm: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: Iterable<KeyUsage | string>,
    options?: CallOptions,
  ): Promise<CryptoKeyPair | CryptoKey>;
  generateKey(
    algorithm: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: Iterable<KeyUsage | string>,
    options?: CallOptions,
  ): Promise<CryptoKeyPair | CryptoKey> {
    return this.#guard('generateKey', options, (signal) => {
      const alg = idl.algorithmIdentifier(algorithm);
      const ext = idl.boolean(extractable);
      const usages = idl.keyUsages(keyUsages);
      const target = this.#normalize(alg, 'generateKey');
      if ('node' in target)
        return async () =>
          wrapResult(await nodeSubtle.generateKey(nodeAlgorithm(alg), ext, usages as webcrypto.KeyUsage[]));
      const { algorithm: record, params } = target;
      // WebCrypto's order: the algorithm's parameters, the usages it allows, the
      // key parameters (OperationError), and only then "no usage" (SyntaxError).
      const spec = record.keySpec(params);
      for (const u of usages)
        if (!record.usages.public.includes(u) && !record.usages.private.includes(u))
          throw domError('SyntaxError', `usage "${u}" is not valid for ${record.name} keys`);
      const keygen = record.keygen(spec, params);
      checkKeygenSpec(keygen);
      const privateUsages = usages.filter((u) => record.usages.private.includes(u));
      if (privateUsages.length === 0)
        throw domError('SyntaxError', `a ${record.name} private key needs at least one usage`);
      checkPolicy(this.#policy, spec, 'private', undefined, keygen.kind === 'rsa' ? keygen.bits : undefined);
      return async () => {
        const { privateKey } = await generateKeyPair(this.#exec, keygen, { signal });
        const publicUsages = usages.filter((u) => record.usages.public.includes(u));
        return {
          publicKey: CryptoKey.create('public', true, publicUsages, { material: privateKey.publicKey, spec }),
          privateKey: CryptoKey.create('private', ext, privateUsages, { material: privateKey, spec }),
        };
      };
    });
  }

  deriveBits(
    algorithm: AlgorithmIdentifier,
    baseKey: CryptoKeyLike,
    length?: number | null,
    options?: CallOptions,
  ): Promise<ArrayBuffer> {
    return this.#guard('deriveBits', options, (signal) => {
      const alg = idl.algorithmIdentifier(algorithm);
      const k = cryptoKey(baseKey, 'baseKey');
      const bits = idl.optionalLength(length);
      const target = this.#normalize(alg, 'deriveBits');
      if ('node' in target)
        return () => nodeSubtle.deriveBits(nodeAlgorithm(alg), forNode(k), bits as number);
      const call = this.#use(target, k, 'deriveBits', 'deriveBits', signal);
      return async () => toArrayBuffer(await target.algorithm.deriveBits!(call(), bits));
    });
  }

  deriveKey(
    algorithm: AlgorithmIdentifier,
    baseKey: CryptoKeyLike,
    derivedKeyType: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: Iterable<KeyUsage | string>,
    options?: CallOptions,
  ): Promise<CryptoKey> {
    return this.#guard('deriveKey', options, (signal) => {
      const alg = idl.algorithmIdentifier(algorithm);
      const k = cryptoKey(baseKey, 'baseKey');
      const derived = idl.algorithmIdentifier(derivedKeyType);
      const ext = idl.boolean(extractable);
      const usages = idl.keyUsages(keyUsages);
      const target = this.#normalize(alg, 'deriveBits');
      if ('node' in target)
        return async () =>
          wrapResult(
            await nodeSubtle.deriveKey(
              nodeAlgorithm(alg),
              forNode(k),
              derived as NodeAlgorithm,
              ext,
              usages as webcrypto.KeyUsage[],
            ),
          );
      const length = derivedKeyBits(derived);
      const call = this.#use(target, k, 'deriveBits', 'deriveKey', signal);
      return async () => {
        const bits = await target.algorithm.deriveBits!(call(), length);
        return this.importKey('raw', bits, derived as AlgorithmIdentifier, ext, usages, { signal });
      };
    });
  }

  importKey(
    format: KeyFormat,
    keyData: BufferSource | JsonWebKey,
    algorithm: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: Iterable<KeyUsage | string>,
    options?: CallOptions,
  ): Promise<CryptoKey> {
    return this.#guard('importKey', options, () => {
      const fmt = idl.keyFormat(format);
      const isBuffer = idl.isBufferSource(keyData);
      if (!isBuffer && keyData !== undefined && keyData !== null && typeof keyData !== 'object')
        throw new TypeError('keyData must be a BufferSource or a JsonWebKey');
      const alg = idl.algorithmIdentifier(algorithm);
      const ext = idl.boolean(extractable);
      const usages = idl.keyUsages(keyUsages);
      const target = this.#normalize(alg, 'importKey');
      const data = fmt === 'jwk' ? jwkObject(keyData, isBuffer) : idl.bufferSource(keyData, 'keyData');
      if ('node' in target)
        return async () =>
          wrapResult(
            await nodeSubtle.importKey(
              fmt as 'raw',
              data as Uint8Array,
              nodeAlgorithm(alg),
              ext,
              usages as webcrypto.KeyUsage[],
            ),
          );
      const { algorithm: record, params } = target;
      const spec = record.keySpec(params);
      if (fmt === 'raw' && spec.family === 'rsa')
        throw domError('NotSupportedError', 'RSA keys have no raw format');
      // WebCrypto checks usages before parsing when the format tells the key type.
      const typeByFormat = fmt === 'pkcs8' ? 'private' : fmt === 'jwk' ? undefined : 'public';
      if (typeByFormat) usagesFor(record, typeByFormat, usages);
      return async () => {
        let imported: ReturnType<typeof importKeyMaterial>;
        try {
          imported = importKeyMaterial(fmt, data, spec, { extractable: ext, usages });
        } catch (error) {
          throw toWebCryptoError(error, 'import', 'importKey');
        }
        const finalUsages = usagesFor(record, imported.type, usages);
        checkPolicy(this.#policy, spec, imported.type, imported.material);
        return CryptoKey.create(imported.type, ext, finalUsages, { material: imported.material, spec });
      };
    });
  }

  exportKey(format: 'jwk', key: CryptoKeyLike, options?: CallOptions): Promise<JsonWebKey>;
  exportKey(
    format: Exclude<KeyFormat, 'jwk'>,
    key: CryptoKeyLike,
    options?: CallOptions,
  ): Promise<ArrayBuffer>;
  exportKey(format: KeyFormat, key: CryptoKeyLike, options?: CallOptions): Promise<ArrayBuffer | JsonWebKey>;
  exportKey(format: KeyFormat, key: CryptoKeyLike, options?: CallOptions): Promise<ArrayBuffer | JsonWebKey> {
    return this.#guard('exportKey', options, () => {
      const fmt = idl.keyFormat(format);
      const k = cryptoKey(key, 'key');
      if (!isAcceleratorKey(k)) return () => nodeSubtle.exportKey(fmt as 'raw', forNode(k));
      return async () => this.#export(fmt, k);
    });
  }

  wrapKey(
    format: KeyFormat,
    key: CryptoKeyLike,
    wrappingKey: CryptoKeyLike,
    wrapAlgorithm: AlgorithmIdentifier,
    options?: CallOptions,
  ): Promise<ArrayBuffer> {
    return this.#guard('wrapKey', options, (signal) => {
      const fmt = idl.keyFormat(format);
      const k = cryptoKey(key, 'key');
      const wk = cryptoKey(wrappingKey, 'wrappingKey');
      const alg = idl.algorithmIdentifier(wrapAlgorithm);
      const target = this.#normalize(alg, 'encrypt', 'wrapKey');
      const call = 'node' in target ? undefined : this.#use(target, wk, 'encrypt', 'wrapKey', signal);
      return async () => {
        const exported = isAcceleratorKey(k)
          ? this.#export(fmt, k)
          : await nodeSubtle.exportKey(fmt as 'raw', forNode(k));
        let bytes: Uint8Array;
        if (fmt === 'jwk') {
          let text = JSON.stringify(exported);
          // WebCrypto's note on wrapKey: pad a JWK to AES-KW's 8-byte block with spaces.
          if (idl.algorithmName(alg).toUpperCase() === 'AES-KW' && text.length % 8 !== 0)
            text += ' '.repeat(8 - (text.length % 8));
          bytes = new TextEncoder().encode(text);
        } else bytes = new Uint8Array(exported as ArrayBuffer);
        if (call && 'algorithm' in target)
          return toArrayBuffer(await target.algorithm.encrypt!(call(), bytes));
        // Node wraps only its own CryptoKeys: carry the bytes in a throwaway HMAC key.
        const carrier = await nodeSubtle.importKey('raw', bytes, CARRIER, true, ['sign']);
        return nodeSubtle.wrapKey('raw', carrier, forNode(wk), nodeAlgorithm(alg));
      };
    });
  }

  unwrapKey(
    format: KeyFormat,
    wrappedKey: BufferSource,
    unwrappingKey: CryptoKeyLike,
    unwrapAlgorithm: AlgorithmIdentifier,
    unwrappedKeyAlgorithm: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: Iterable<KeyUsage | string>,
    options?: CallOptions,
  ): Promise<CryptoKey> {
    return this.#guard('unwrapKey', options, (signal) => {
      const fmt = idl.keyFormat(format);
      const wrapped = idl.bufferSource(wrappedKey, 'wrappedKey');
      const uk = cryptoKey(unwrappingKey, 'unwrappingKey');
      const alg = idl.algorithmIdentifier(unwrapAlgorithm);
      const keyAlg = idl.algorithmIdentifier(unwrappedKeyAlgorithm);
      const ext = idl.boolean(extractable);
      const usages = idl.keyUsages(keyUsages);
      const target = this.#normalize(alg, 'decrypt', 'unwrapKey');
      const call = 'node' in target ? undefined : this.#use(target, uk, 'decrypt', 'unwrapKey', signal);
      return async () => {
        let bytes: Uint8Array;
        if (call && 'algorithm' in target) bytes = await target.algorithm.decrypt!(call(), wrapped);
        else {
          const carrier = await nodeSubtle.unwrapKey(
            'raw',
            wrapped,
            forNode(uk),
            nodeAlgorithm(alg),
            CARRIER,
            true,
            ['sign'],
          );
          bytes = new Uint8Array(await nodeSubtle.exportKey('raw', carrier));
        }
        let keyData: BufferSource | JsonWebKey = bytes;
        if (fmt === 'jwk') {
          try {
            keyData = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as JsonWebKey;
          } catch (error) {
            throw domError('DataError', 'unwrapped data is not a JSON Web Key', error);
          }
        }
        return this.importKey(fmt, keyData, keyAlg as AlgorithmIdentifier, ext, usages, { signal });
      };
    });
  }

  #crypt(
    operation: 'encrypt' | 'decrypt',
    algorithm: AlgorithmIdentifier,
    key: CryptoKeyLike,
    data: BufferSource,
    options: CallOptions | undefined,
  ): Promise<ArrayBuffer> {
    return this.#guard(operation, options, (signal) => {
      const alg = idl.algorithmIdentifier(algorithm);
      const k = cryptoKey(key, 'key');
      const bytes = idl.bufferSource(data, 'data');
      const target = this.#normalize(alg, operation);
      if ('node' in target) return () => nodeSubtle[operation](nodeAlgorithm(alg), forNode(k), bytes);
      const call = this.#use(target, k, operation, operation, signal);
      return async () => toArrayBuffer(await target.algorithm[operation]!(call(), bytes));
    });
  }

  /**
   * WebCrypto's "normalize an algorithm" for `operation`: one of pkaccel's
   * algorithms with its dictionary members converted, or node's.
   */
  #normalize(
    algorithm: string | object,
    operation: Operation | 'generateKey' | 'importKey',
    caller: string = operation,
  ): Target {
    const name = idl.algorithmName(algorithm);
    if (name.toUpperCase() === 'RSAES-PKCS1-V1_5')
      throw domError(
        'NotSupportedError',
        'RSAES-PKCS1-v1_5 is not offered (padding-oracle risk); use RSA-OAEP',
      );
    const record = findAlgorithm(name);
    if (!record) return { node: true };
    const members =
      operation === 'generateKey'
        ? record.generateParams
        : operation === 'importKey'
          ? record.importParams
          : record.operationParams[operation];
    if (members === undefined)
      throw domError('NotSupportedError', `${record.name} does not support ${caller}`);
    return {
      algorithm: record,
      params: idl.dictionary(algorithm, record.name, members, (v) => cryptoKey(v, `${record.name}.public`)),
    };
  }

  /**
   * WebCrypto's checks on the key of an operation (same algorithm, the usage),
   * the policy, and the call to make. ECDH/X25519 peers are resolved here.
   */
  #use(
    target: Extract<Target, { algorithm: unknown }>,
    key: CryptoKeyLike,
    operation: Operation,
    usage: KeyUsage,
    signal: AbortSignal | undefined,
  ): () => Call<never> {
    const { algorithm, params } = target;
    if (!isAcceleratorKey(key))
      throw domError('InvalidAccessError', `${algorithm.name} needs a key created by this accelerator`);
    const keyName = CryptoKey.algorithmNameOf(key);
    if (keyName !== algorithm.name)
      throw domError('InvalidAccessError', `key is a ${keyName} key, not ${algorithm.name}`);
    if (!CryptoKey.allows(key, usage))
      throw domError('InvalidAccessError', `key usages do not include "${usage}"`);
    const { material, spec } = secretOf(key);
    const isPrivate = operation === 'sign' || operation === 'decrypt' || operation === 'deriveBits';
    checkPolicy(this.#policy, spec, isPrivate ? 'private' : 'public', material);
    const resolved =
      params.public === undefined
        ? params
        : { ...params, public: this.#peer(algorithm.name, material, params.public) };
    return () => ({ exec: this.#exec, key: material as never, spec, params: resolved, options: { signal } });
  }

  /**
   * The `public` member of ECDH/X25519 parameters: our public key of the same
   * algorithm and curve, or node's public CryptoKey (adopted through its key data).
   */
  #peer(name: AsymmetricName, own: PublicKeyMaterial | PrivateKeyMaterial, peer: unknown): PublicKeyMaterial {
    const handle = peer as CryptoKeyLike;
    if (handle.type !== 'public')
      throw domError('InvalidAccessError', `${name}: "public" is not a public key`);
    if (handle.algorithm.name !== name)
      throw domError('InvalidAccessError', `${name}: "public" is a ${handle.algorithm.name} key`);
    let material: PublicKeyMaterial;
    if (isAcceleratorKey(handle)) material = secretOf(handle).material as PublicKeyMaterial;
    else {
      const node = forNode(handle);
      const curve = (node.algorithm as { namedCurve?: string }).namedCurve;
      const spec = findAlgorithm(name)!.keySpec({ namedCurve: curve });
      // Node's own key data of a public key; its export is synchronous in effect (no device involved).
      material = importKeyMaterial('jwk', exportPublicJwk(node), spec, { extractable: true, usages: [] })
        .material as PublicKeyMaterial;
    }
    if (material.kind === 'ec-public' && own.kind === 'ec-private' && material.curve !== own.curve)
      throw domError(
        'InvalidAccessError',
        `${name}: "public" is on ${material.curve}, the key on ${own.curve}`,
      );
    return material;
  }

  #export(format: KeyFormat, key: CryptoKey): ArrayBuffer | JsonWebKey {
    const { material, spec } = secretOf(key);
    if (!key.extractable) throw domError('InvalidAccessError', 'key is not extractable');
    if (format === 'raw' && spec.family === 'rsa')
      throw domError('NotSupportedError', 'RSA keys have no raw format');
    try {
      const out = exportKeyMaterial(format, material, spec, {
        extractable: key.extractable,
        usages: key.usages,
      });
      return out instanceof Uint8Array ? toArrayBuffer(out) : out;
    } catch (error) {
      throw domError(
        'InvalidAccessError',
        `cannot export a ${key.type} ${spec.name} key as ${format}`,
        error,
      );
    }
  }

  /**
   * Run one call in two phases, as WebCrypto does: `prepare` converts and checks
   * the arguments (its errors reach the caller as thrown: TypeError, the
   * DOMException the spec names, or the caller's own error from a getter), and
   * returns the work, whose failures become WebCrypto's errors. The signal
   * releases the caller at once, even from pass-through work that cannot stop.
   */
  async #guard<T>(
    operation: string,
    options: CallOptions | undefined,
    prepare: (signal: AbortSignal | undefined) => () => Promise<T>,
  ): Promise<T> {
    const signal = options?.signal;
    if (signal?.aborted) throw domError('AbortError', `${operation} was aborted`, signal.reason);
    let work: () => Promise<T>;
    try {
      work = prepare(signal);
    } catch (error) {
      throw error instanceof PkaccelError ? toWebCryptoError(error, 'operation', operation) : error;
    }
    try {
      if (!signal) return await work();
      return await new Promise<T>((resolve, reject) => {
        const onAbort = (): void => reject(domError('AbortError', `${operation} was aborted`, signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
        work().then(
          (value) => {
            signal.removeEventListener('abort', onAbort);
            resolve(value);
          },
          (error: unknown) => {
            signal.removeEventListener('abort', onAbort);
            reject(error);
          },
        );
      });
    } catch (error) {
      throw toWebCryptoError(error, 'operation', operation);
    }
  }
}

/** The JWK of one of node's public keys (KeyObject.from converts without a device or a promise). */
function exportPublicJwk(key: NodeCryptoKey): JsonWebKey {
  return KeyObject.from(key).export({ format: 'jwk' });
}

/** A JsonWebKey argument (for the "jwk" format): an object, not a buffer. */
function jwkObject(value: unknown, isBuffer: boolean): JsonWebKey {
  if (isBuffer || typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError('keyData must be a JsonWebKey object for the "jwk" format');
  return value as JsonWebKey;
}
