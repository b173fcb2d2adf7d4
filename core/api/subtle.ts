/**
 * `subtle`: WebCrypto's SubtleCrypto method set over pkaccel's devices.
 *
 * Asymmetric algorithms (RSASSA-PKCS1-v1_5, RSA-PSS, RSA-OAEP, ECDSA, ECDH,
 * Ed25519, X25519, and pkaccel's RSA-RAW) run through core/algorithms on the
 * accelerator's executor, with keys held as AcceleratorCryptoKey handles.
 * Everything else (digest, AES-*, HMAC, HKDF, PBKDF2) passes through to node's
 * crypto.subtle with node's own CryptoKeys, so deriveKey (ECDH -> AES) and
 * wrapKey/unwrapKey (RSA-OAEP, AES-KW) mix the two freely.
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
 *
 * RSAES-PKCS1-v1_5 is refused with NotSupportedError (padding-oracle risk).
 * Errors are DOMExceptions named as WebCrypto specifies (TypeError where WebIDL
 * throws one); a PkaccelError from below stays as `cause`.
 */

import { webcrypto } from 'node:crypto';
import {
  ecdhDeriveBits,
  ecdsaSign,
  ecdsaVerify,
  ed25519Sign,
  ed25519Verify,
  generateKeyPair,
  rsaOaepDecrypt,
  rsaOaepEncrypt,
  rsaRawPrivate,
  rsaRawPublic,
  rsaSign,
  rsaVerify,
  x25519DeriveBits,
} from '../algorithms/index.js';
import type { PrimitiveExecutor } from '../driver/device.js';
import type {
  EcPrivateKeyMaterial,
  EcPublicKeyMaterial,
  OkpPrivateKeyMaterial,
  OkpPublicKeyMaterial,
  PrivateKeyMaterial,
  PublicKeyMaterial,
  RsaPrivateKeyMaterial,
  RsaPublicKeyMaterial,
} from '../driver/keys.js';
import type { KeygenSpec } from '../driver/primitives.js';
import {
  exportKeyMaterial,
  importKeyMaterial,
  type JsonWebKey,
  type KeyFormat,
  type KeySpec,
} from '../key-formats/index.js';
import {
  type AlgorithmIdentifier,
  type AsymmetricName,
  asymmetricName,
  bufferSource,
  curveParam,
  hashParam,
  integerParam,
  normalize,
  toArrayBuffer,
} from './algorithm.js';
import { domError, type ErrorStage, toWebCryptoError } from './dom-errors.js';
import { AcceleratorCryptoKey, isAcceleratorKey, type KeyUsage, secretOf } from './key-handle.js';
import { parseUsages, splitUsages, usagesFor } from './usages.js';

const nodeSubtle = webcrypto.subtle;
type NodeCryptoKey = webcrypto.CryptoKey;

/** A key `subtle` accepts: one of its own handles, or node's CryptoKey for the pass-through algorithms. */
export type CryptoKeyLike = AcceleratorCryptoKey | NodeCryptoKey;
export interface CryptoKeyPairLike {
  readonly publicKey: CryptoKeyLike;
  readonly privateKey: CryptoKeyLike;
}
export type BufferSource = ArrayBuffer | ArrayBufferView;
export type { AlgorithmIdentifier, JsonWebKey, KeyFormat };

/** The trailing options every method accepts. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

const FORMATS: readonly KeyFormat[] = ['raw', 'spki', 'pkcs8', 'jwk'];

function parseFormat(format: unknown): KeyFormat {
  const f = FORMATS.find((x) => x === format);
  if (!f) throw new TypeError(`"${String(format)}" is not a key format`);
  return f;
}

function jwkObject(value: unknown): JsonWebKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value))
    throw new TypeError('keyData must be a JsonWebKey object for the "jwk" format');
  return value as JsonWebKey;
}

/** What an operation name means for one algorithm, for NotSupportedError on the rest. */
const OPERATIONS: Readonly<Record<string, readonly AsymmetricName[]>> = {
  sign: ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'ECDSA', 'Ed25519'],
  verify: ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'ECDSA', 'Ed25519'],
  encrypt: ['RSA-OAEP', 'RSA-RAW'],
  decrypt: ['RSA-OAEP', 'RSA-RAW'],
  deriveBits: ['ECDH', 'X25519'],
};

function requireOperation(operation: string, name: AsymmetricName): void {
  if (!OPERATIONS[operation]?.includes(name))
    throw domError('NotSupportedError', `${name} does not support ${operation}`);
}

/** The key spec of an import or generate call: the algorithm's parameters that bind to the key. */
function keySpecOf(name: AsymmetricName, params: Readonly<Record<string, unknown>>): KeySpec {
  switch (name) {
    case 'RSASSA-PKCS1-v1_5':
    case 'RSA-PSS':
    case 'RSA-OAEP':
      return { family: 'rsa', name, hash: hashParam(params, true) };
    case 'RSA-RAW':
      return { family: 'rsa', name, hash: undefined };
    case 'ECDSA':
    case 'ECDH':
      return { family: 'ec', name, curve: curveParam(params) };
    case 'Ed25519':
    case 'X25519':
      return { family: 'okp', name };
  }
}

function ecdsaFormat(params: Readonly<Record<string, unknown>>): 'p1363' | 'der' {
  const format = params.format ?? 'p1363';
  if (format !== 'p1363' && format !== 'der') throw new TypeError('ECDSA "format" must be "p1363" or "der"');
  return format;
}

/** HMAC's default key length is the hash's block size. */
function hmacDefaultBits(hash: unknown): number {
  const name = normalize(hash).name.toUpperCase();
  return name === 'SHA-384' || name === 'SHA-512' ? 1024 : 512;
}

/** The bits deriveKey must derive for a key of `algorithm` (WebCrypto's "get key length"). */
function derivedKeyBits(algorithm: AlgorithmIdentifier): number | null {
  const { name, params } = normalize(algorithm);
  const upper = name.toUpperCase();
  if (['AES-CTR', 'AES-CBC', 'AES-GCM', 'AES-KW'].includes(upper)) {
    const length = integerParam(params, 'length');
    if (![128, 192, 256].includes(length))
      throw domError('OperationError', 'AES key length must be 128, 192 or 256');
    return length;
  }
  if (upper === 'HMAC') {
    if (params.hash === undefined) throw new TypeError('HMAC: the "hash" member is required');
    return params.length === undefined ? hmacDefaultBits(params.hash) : integerParam(params, 'length');
  }
  if (upper === 'HKDF' || upper === 'PBKDF2') return null;
  throw domError('NotSupportedError', `deriveKey cannot make a ${name} key`);
}

/** A stand-in secret key for moving arbitrary bytes through node's wrapKey/unwrapKey. */
const CARRIER = { name: 'HMAC', hash: 'SHA-256' } as const;

/** The WebCrypto SubtleCrypto method set over an accelerator's devices. */
export class AcceleratorSubtle {
  readonly #exec: PrimitiveExecutor;

  constructor(executor: PrimitiveExecutor) {
    this.#exec = executor;
  }

  encrypt(
    algorithm: AlgorithmIdentifier,
    key: CryptoKeyLike,
    data: BufferSource,
    options?: CallOptions,
  ): Promise<ArrayBuffer> {
    return this.#guard('encrypt', 'operation', options, async (signal) => {
      const { name, params } = normalize(algorithm);
      const ours = asymmetricName(name);
      if (!ours)
        return nodeSubtle.encrypt(algorithm as webcrypto.AlgorithmIdentifier, key as NodeCryptoKey, data);
      return toArrayBuffer(
        await this.#encrypt(ours, params, key, bufferSource(data, 'data'), 'encrypt', signal),
      );
    });
  }

  decrypt(
    algorithm: AlgorithmIdentifier,
    key: CryptoKeyLike,
    data: BufferSource,
    options?: CallOptions,
  ): Promise<ArrayBuffer> {
    return this.#guard('decrypt', 'operation', options, async (signal) => {
      const { name, params } = normalize(algorithm);
      const ours = asymmetricName(name);
      if (!ours)
        return nodeSubtle.decrypt(algorithm as webcrypto.AlgorithmIdentifier, key as NodeCryptoKey, data);
      return toArrayBuffer(
        await this.#decrypt(ours, params, key, bufferSource(data, 'data'), 'decrypt', signal),
      );
    });
  }

  sign(
    algorithm: AlgorithmIdentifier,
    key: CryptoKeyLike,
    data: BufferSource,
    options?: CallOptions,
  ): Promise<ArrayBuffer> {
    return this.#guard('sign', 'operation', options, async (signal) => {
      const { name, params } = normalize(algorithm);
      const ours = asymmetricName(name);
      if (!ours)
        return nodeSubtle.sign(algorithm as webcrypto.AlgorithmIdentifier, key as NodeCryptoKey, data);
      requireOperation('sign', ours);
      const message = bufferSource(data, 'data');
      const material = this.#keyFor(key, ours, 'sign') as PrivateKeyMaterial;
      const spec = secretOf(key as AcceleratorCryptoKey).spec;
      const opts = { signal };
      switch (ours) {
        case 'RSASSA-PKCS1-v1_5':
        case 'RSA-PSS': {
          const hash = spec.family === 'rsa' && spec.hash ? spec.hash : hashParam(params, true);
          const scheme =
            ours === 'RSA-PSS'
              ? ({ scheme: 'pss', hash, saltLength: integerParam(params, 'saltLength') } as const)
              : ({ scheme: 'pkcs1-v1_5', hash } as const);
          return toArrayBuffer(
            await rsaSign(this.#exec, material as RsaPrivateKeyMaterial, scheme, message, opts),
          );
        }
        case 'ECDSA':
          return toArrayBuffer(
            await ecdsaSign(
              this.#exec,
              material as EcPrivateKeyMaterial,
              hashParam(params, true),
              message,
              ecdsaFormat(params),
              opts,
            ),
          );
        default:
          return toArrayBuffer(
            await ed25519Sign(this.#exec, material as OkpPrivateKeyMaterial, message, opts),
          );
      }
    });
  }

  verify(
    algorithm: AlgorithmIdentifier,
    key: CryptoKeyLike,
    signature: BufferSource,
    data: BufferSource,
    options?: CallOptions,
  ): Promise<boolean> {
    return this.#guard('verify', 'operation', options, async (signal) => {
      const { name, params } = normalize(algorithm);
      const ours = asymmetricName(name);
      if (!ours)
        return nodeSubtle.verify(
          algorithm as webcrypto.AlgorithmIdentifier,
          key as NodeCryptoKey,
          signature,
          data,
        );
      requireOperation('verify', ours);
      const sig = bufferSource(signature, 'signature');
      const message = bufferSource(data, 'data');
      const material = this.#keyFor(key, ours, 'verify') as PublicKeyMaterial;
      const spec = secretOf(key as AcceleratorCryptoKey).spec;
      const opts = { signal };
      switch (ours) {
        case 'RSASSA-PKCS1-v1_5':
        case 'RSA-PSS': {
          const hash = spec.family === 'rsa' && spec.hash ? spec.hash : hashParam(params, true);
          const scheme =
            ours === 'RSA-PSS'
              ? ({ scheme: 'pss', hash, saltLength: integerParam(params, 'saltLength') } as const)
              : ({ scheme: 'pkcs1-v1_5', hash } as const);
          return rsaVerify(this.#exec, material as RsaPublicKeyMaterial, scheme, message, sig, opts);
        }
        case 'ECDSA':
          return ecdsaVerify(
            this.#exec,
            material as EcPublicKeyMaterial,
            hashParam(params, true),
            message,
            sig,
            ecdsaFormat(params),
            opts,
          );
        default:
          return ed25519Verify(this.#exec, material as OkpPublicKeyMaterial, message, sig, opts);
      }
    });
  }

  digest(algorithm: AlgorithmIdentifier, data: BufferSource, options?: CallOptions): Promise<ArrayBuffer> {
    return this.#guard('digest', 'operation', options, () =>
      nodeSubtle.digest(algorithm as webcrypto.AlgorithmIdentifier, data),
    );
  }

  /** Asymmetric algorithms make a key pair. */
  generateKey(
    algorithm: AsymmetricName | { readonly name: AsymmetricName; readonly [member: string]: unknown },
    extractable: boolean,
    keyUsages: readonly string[],
    options?: CallOptions,
  ): Promise<CryptoKeyPairLike>;
  /** Symmetric algorithms pass through to node and make one (node) key. */
  generateKey(
    algorithm: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: readonly string[],
    options?: CallOptions,
  ): Promise<CryptoKeyPairLike | CryptoKeyLike>;
  generateKey(
    algorithm: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: readonly string[],
    options?: CallOptions,
  ): Promise<CryptoKeyPairLike | CryptoKeyLike> {
    return this.#guard('generateKey', 'operation', options, async (signal) => {
      const { name, params } = normalize(algorithm);
      const ours = asymmetricName(name);
      if (!ours)
        return nodeSubtle.generateKey(
          algorithm as webcrypto.AlgorithmIdentifier,
          extractable,
          keyUsages as webcrypto.KeyUsage[],
        );
      const spec = keySpecOf(ours, params);
      const { publicUsages, privateUsages } = splitUsages(ours, parseUsages(keyUsages));
      let keygen: KeygenSpec;
      if (spec.family === 'rsa') {
        const exponent = bufferSource(params.publicExponent, 'publicExponent');
        keygen = {
          kind: 'rsa',
          bits: integerParam(params, 'modulusLength'),
          publicExponent: exponent.length === 0 ? 0n : BigInt(`0x${Buffer.from(exponent).toString('hex')}`),
        };
      } else if (spec.family === 'ec') keygen = { kind: 'ec', curve: spec.curve };
      else keygen = { kind: 'okp', curve: spec.name };
      const pair = await generateKeyPair(this.#exec, keygen, { signal });
      const privateKey = pair.privateKey;
      return {
        publicKey: AcceleratorCryptoKey.create('public', true, publicUsages, {
          material: privateKey.publicKey,
          spec,
        }),
        privateKey: AcceleratorCryptoKey.create('private', Boolean(extractable), privateUsages, {
          material: privateKey,
          spec,
        }),
      };
    });
  }

  deriveBits(
    algorithm: AlgorithmIdentifier,
    baseKey: CryptoKeyLike,
    length?: number | null,
    options?: CallOptions,
  ): Promise<ArrayBuffer> {
    return this.#guard('deriveBits', 'operation', options, async (signal) => {
      const { name, params } = normalize(algorithm);
      const ours = asymmetricName(name);
      if (!ours)
        return nodeSubtle.deriveBits(
          algorithm as webcrypto.AlgorithmIdentifier,
          baseKey as NodeCryptoKey,
          length as number,
        );
      return toArrayBuffer(
        await this.#deriveBits(ours, params, baseKey, length ?? null, 'deriveBits', signal),
      );
    });
  }

  deriveKey(
    algorithm: AlgorithmIdentifier,
    baseKey: CryptoKeyLike,
    derivedKeyType: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: readonly string[],
    options?: CallOptions,
  ): Promise<CryptoKeyLike> {
    return this.#guard('deriveKey', 'operation', options, async (signal) => {
      const { name, params } = normalize(algorithm);
      const ours = asymmetricName(name);
      if (!ours)
        return nodeSubtle.deriveKey(
          algorithm as webcrypto.AlgorithmIdentifier,
          baseKey as NodeCryptoKey,
          derivedKeyType as webcrypto.AlgorithmIdentifier,
          extractable,
          keyUsages as webcrypto.KeyUsage[],
        );
      const bits = await this.#deriveBits(
        ours,
        params,
        baseKey,
        derivedKeyBits(derivedKeyType),
        'deriveKey',
        signal,
      );
      return (await this.importKey('raw', bits, derivedKeyType, extractable, keyUsages, {
        signal,
      })) as CryptoKeyLike;
    });
  }

  importKey(
    format: KeyFormat,
    keyData: BufferSource | JsonWebKey,
    algorithm: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: readonly string[],
    options?: CallOptions,
  ): Promise<CryptoKeyLike> {
    return this.#guard('importKey', 'import', options, async () => {
      const { name, params } = normalize(algorithm);
      const ours = asymmetricName(name);
      if (!ours)
        return nodeSubtle.importKey(
          format as 'raw',
          keyData as BufferSource,
          algorithm as webcrypto.AlgorithmIdentifier,
          extractable,
          keyUsages as webcrypto.KeyUsage[],
        );
      const fmt = parseFormat(format);
      const usages = parseUsages(keyUsages);
      const spec = keySpecOf(ours, params);
      if (fmt === 'raw' && spec.family === 'rsa')
        throw domError('NotSupportedError', 'RSA keys have no raw format');
      const data = fmt === 'jwk' ? jwkObject(keyData) : bufferSource(keyData, 'keyData');
      // WebCrypto checks usages before parsing when the format tells the key type.
      const typeByFormat = fmt === 'pkcs8' ? 'private' : fmt === 'jwk' ? undefined : 'public';
      if (typeByFormat) usagesFor(ours, typeByFormat, usages);
      const imported = importKeyMaterial(fmt, data, spec, { extractable: Boolean(extractable), usages });
      const finalUsages = usagesFor(ours, imported.type, usages);
      return AcceleratorCryptoKey.create(imported.type, Boolean(extractable), finalUsages, {
        material: imported.material,
        spec,
      });
    });
  }

  exportKey(format: KeyFormat, key: CryptoKeyLike, options?: CallOptions): Promise<ArrayBuffer | JsonWebKey> {
    return this.#guard('exportKey', 'export', options, async () => {
      if (!isAcceleratorKey(key)) return nodeSubtle.exportKey(format as 'raw', key as NodeCryptoKey);
      return this.#export(parseFormat(format), key);
    });
  }

  wrapKey(
    format: KeyFormat,
    key: CryptoKeyLike,
    wrappingKey: CryptoKeyLike,
    wrapAlgorithm: AlgorithmIdentifier,
    options?: CallOptions,
  ): Promise<ArrayBuffer> {
    return this.#guard('wrapKey', 'operation', options, async (signal) => {
      const fmt = parseFormat(format);
      const { name, params } = normalize(wrapAlgorithm);
      const ours = asymmetricName(name);
      const exported = isAcceleratorKey(key)
        ? this.#export(fmt, key)
        : await nodeSubtle.exportKey(fmt as 'raw', key as NodeCryptoKey);
      let bytes: Uint8Array;
      if (fmt === 'jwk') {
        let text = JSON.stringify(exported);
        // WebCrypto's note on wrapKey: pad a JWK to AES-KW's 8-byte block with spaces.
        if (name.toUpperCase() === 'AES-KW' && text.length % 8 !== 0)
          text += ' '.repeat(8 - (text.length % 8));
        bytes = new TextEncoder().encode(text);
      } else bytes = new Uint8Array(exported as ArrayBuffer);
      if (ours)
        return toArrayBuffer(await this.#encrypt(ours, params, wrappingKey, bytes, 'wrapKey', signal));
      // Node wraps only its own CryptoKeys: carry the bytes in a throwaway HMAC key.
      const carrier = await nodeSubtle.importKey('raw', bytes, CARRIER, true, ['sign']);
      return nodeSubtle.wrapKey(
        'raw',
        carrier,
        wrappingKey as NodeCryptoKey,
        wrapAlgorithm as webcrypto.AlgorithmIdentifier,
      );
    });
  }

  unwrapKey(
    format: KeyFormat,
    wrappedKey: BufferSource,
    unwrappingKey: CryptoKeyLike,
    unwrapAlgorithm: AlgorithmIdentifier,
    unwrappedKeyAlgorithm: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: readonly string[],
    options?: CallOptions,
  ): Promise<CryptoKeyLike> {
    return this.#guard('unwrapKey', 'operation', options, async (signal) => {
      const fmt = parseFormat(format);
      const { name, params } = normalize(unwrapAlgorithm);
      const ours = asymmetricName(name);
      let bytes: Uint8Array;
      if (ours) {
        bytes = await this.#decrypt(
          ours,
          params,
          unwrappingKey,
          bufferSource(wrappedKey, 'wrappedKey'),
          'unwrapKey',
          signal,
        );
      } else {
        const carrier = await nodeSubtle.unwrapKey(
          'raw',
          wrappedKey,
          unwrappingKey as NodeCryptoKey,
          unwrapAlgorithm as webcrypto.AlgorithmIdentifier,
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
      return this.importKey(fmt, keyData, unwrappedKeyAlgorithm, extractable, keyUsages, { signal });
    });
  }

  /** Run one call: honour the signal, and convert whatever goes wrong into WebCrypto's errors. */
  async #guard<T>(
    operation: string,
    stage: ErrorStage,
    options: CallOptions | undefined,
    body: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    const signal = options?.signal;
    try {
      if (signal?.aborted) throw domError('AbortError', `${operation} was aborted`, signal.reason);
      if (!signal) return await body(undefined);
      // Pass-through work cannot be stopped, but the caller is released at once.
      return await new Promise<T>((resolve, reject) => {
        const onAbort = (): void => reject(domError('AbortError', `${operation} was aborted`, signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
        body(signal).then(
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
      throw toWebCryptoError(error, stage, operation);
    }
  }

  /** The material of `key` after the checks every operation makes: our handle, same algorithm, usage allowed. */
  #keyFor(key: unknown, name: AsymmetricName, usage: KeyUsage): PublicKeyMaterial | PrivateKeyMaterial {
    if (!isAcceleratorKey(key)) {
      if (typeof key === 'object' && key !== null && 'algorithm' in key)
        throw domError('InvalidAccessError', `${name} needs a key created by this accelerator`);
      throw new TypeError('key must be a CryptoKey');
    }
    const keyName = AcceleratorCryptoKey.algorithmNameOf(key);
    if (keyName !== name) throw domError('InvalidAccessError', `key is a ${keyName} key, not ${name}`);
    if (!AcceleratorCryptoKey.allows(key, usage))
      throw domError('InvalidAccessError', `key usages do not include "${usage}"`);
    return secretOf(key).material;
  }

  #export(format: KeyFormat, key: AcceleratorCryptoKey): ArrayBuffer | JsonWebKey {
    if (!key.extractable) throw domError('InvalidAccessError', 'key is not extractable');
    const { material, spec } = secretOf(key);
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

  async #encrypt(
    name: AsymmetricName,
    params: Readonly<Record<string, unknown>>,
    key: unknown,
    data: Uint8Array,
    usage: KeyUsage,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    requireOperation('encrypt', name);
    const material = this.#keyFor(key, name, usage) as RsaPublicKeyMaterial;
    if (name === 'RSA-RAW') return rsaRawPublic(this.#exec, material, data, { signal });
    const spec = secretOf(key as AcceleratorCryptoKey).spec;
    const hash = spec.family === 'rsa' && spec.hash ? spec.hash : hashParam(params, true);
    const label = params.label === undefined ? undefined : bufferSource(params.label, 'label');
    return rsaOaepEncrypt(this.#exec, material, { hash, ...(label ? { label } : {}) }, data, { signal });
  }

  async #decrypt(
    name: AsymmetricName,
    params: Readonly<Record<string, unknown>>,
    key: unknown,
    data: Uint8Array,
    usage: KeyUsage,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    requireOperation('decrypt', name);
    const material = this.#keyFor(key, name, usage) as RsaPrivateKeyMaterial;
    if (name === 'RSA-RAW') return rsaRawPrivate(this.#exec, material, data, { signal });
    const spec = secretOf(key as AcceleratorCryptoKey).spec;
    const hash = spec.family === 'rsa' && spec.hash ? spec.hash : hashParam(params, true);
    const label = params.label === undefined ? undefined : bufferSource(params.label, 'label');
    return rsaOaepDecrypt(this.#exec, material, { hash, ...(label ? { label } : {}) }, data, { signal });
  }

  async #deriveBits(
    name: AsymmetricName,
    params: Readonly<Record<string, unknown>>,
    baseKey: unknown,
    length: number | null,
    usage: KeyUsage,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    requireOperation('deriveBits', name);
    const material = this.#keyFor(baseKey, name, usage);
    const peer = await this.#peerKey(name, material, params.public);
    if (name === 'ECDH')
      return ecdhDeriveBits(
        this.#exec,
        material as EcPrivateKeyMaterial,
        peer as EcPublicKeyMaterial,
        length,
        { signal },
      );
    return x25519DeriveBits(
      this.#exec,
      material as OkpPrivateKeyMaterial,
      peer as OkpPublicKeyMaterial,
      length,
      {
        signal,
      },
    );
  }

  /**
   * The `public` member of ECDH/X25519 parameters: our public handle of the same
   * algorithm and curve, or node's public CryptoKey (adopted through its SPKI).
   */
  async #peerKey(
    name: AsymmetricName,
    own: PublicKeyMaterial | PrivateKeyMaterial,
    peer: unknown,
  ): Promise<PublicKeyMaterial> {
    if (typeof peer !== 'object' || peer === null || !('type' in peer) || !('algorithm' in peer))
      throw new TypeError(`${name}: "public" must be a CryptoKey`);
    const handle = peer as CryptoKeyLike;
    if (handle.type !== 'public')
      throw domError('InvalidAccessError', `${name}: "public" is not a public key`);
    if (handle.algorithm.name !== name)
      throw domError('InvalidAccessError', `${name}: "public" is a ${handle.algorithm.name} key`);
    let material: PublicKeyMaterial;
    if (isAcceleratorKey(handle)) material = secretOf(handle).material as PublicKeyMaterial;
    else {
      const spki = new Uint8Array(await nodeSubtle.exportKey('spki', handle as NodeCryptoKey));
      const spec: KeySpec =
        name === 'ECDH'
          ? { family: 'ec', name, curve: curveParam(handle.algorithm as unknown as Record<string, unknown>) }
          : { family: 'okp', name: 'X25519' };
      material = importKeyMaterial('spki', spki, spec, { extractable: true, usages: [] })
        .material as PublicKeyMaterial;
    }
    if (material.kind === 'ec-public' && own.kind === 'ec-private' && material.curve !== own.curve)
      throw domError(
        'InvalidAccessError',
        `${name}: "public" is on ${material.curve}, the key on ${own.curve}`,
      );
    return material;
  }
}
