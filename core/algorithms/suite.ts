/**
 * The algorithm table: one record per asymmetric algorithm pkaccel runs on its
 * devices, in the spirit of the kernel's `akcipher_alg`. A record says which key
 * it binds to (the key spec made from the import/generate parameters), the key
 * usages of its public and private halves, which WebCrypto dictionary members
 * each operation reads, and the operations it has. `subtle` (core/api) checks
 * arguments in the order WebCrypto specifies, looks the algorithm up here, and
 * calls the operation; an operation a record lacks is NotSupportedError.
 *
 * Dictionary members are declared as data (name → WebIDL type); core/api
 * converts them the way WebIDL does and hands the converted values in `Params`.
 */

import type { PrimitiveExecutor } from '../driver/device.js';
import { InvalidInputError, UnsupportedError } from '../driver/errors.js';
import type {
  EcCurveName,
  EcPrivateKeyMaterial,
  EcPublicKeyMaterial,
  HashName,
  OkpPrivateKeyMaterial,
  OkpPublicKeyMaterial,
  PrivateKeyMaterial,
  PublicKeyMaterial,
  RsaPrivateKeyMaterial,
  RsaPublicKeyMaterial,
} from '../driver/keys.js';
import type { KeygenSpec } from '../driver/primitives.js';
import { bytesToBigint } from '../encoding/bytes.js';
import type { KeySpec } from '../key-formats/index.js';
import { ecdhDeriveBits } from './ecdh.js';
import { ecdsaSign, ecdsaVerify } from './ecdsa.js';
import { ed25519Sign, ed25519Verify, x25519DeriveBits } from './okp.js';
import type { Last, Options, RsaSignatureParams } from './params.js';
import { endWith } from './results.js';
import { rsaOaepDecrypt, rsaOaepEncrypt } from './rsa-oaep.js';
import { rsaRawPrivate, rsaRawPublic } from './rsa-raw.js';
import { rsaSign, rsaVerify } from './rsa-signature.js';

/**
 * The asymmetric algorithms pkaccel runs on its devices (RSA-RAW is pkaccel's unpadded RSA).
 *
 * @category WebCrypto
 */
export const ASYMMETRIC_NAMES = [
  'RSASSA-PKCS1-v1_5',
  'RSA-PSS',
  'RSA-OAEP',
  'RSA-RAW',
  'ECDSA',
  'ECDH',
  'Ed25519',
  'X25519',
] as const;
/**
 * The name of one of pkaccel's asymmetric algorithms (an entry of `ASYMMETRIC_NAMES`).
 *
 * @category WebCrypto
 */
export type AsymmetricName = (typeof ASYMMETRIC_NAMES)[number];

/**
 * One of WebCrypto's key usages; which ones a key may have depends on its algorithm and type.
 *
 * @category WebCrypto
 */
export type KeyUsage =
  | 'encrypt'
  | 'decrypt'
  | 'sign'
  | 'verify'
  | 'deriveKey'
  | 'deriveBits'
  | 'wrapKey'
  | 'unwrapKey';

/**
 * WebIDL types of the dictionary members the records read:
 * `hash` HashAlgorithmIdentifier, `ulong` [EnforceRange] unsigned long,
 * `bigInteger` BigInteger (Uint8Array), `bufferSource` BufferSource,
 * `string` DOMString, `key` CryptoKey, `ecdsaFormat` pkaccel's "p1363" | "der".
 */
export type MemberType = 'hash' | 'ulong' | 'bigInteger' | 'bufferSource' | 'string' | 'key' | 'ecdsaFormat';
export interface Member {
  readonly type: MemberType;
  readonly required?: boolean;
}
/** The members of one WebCrypto dictionary (beyond `name`). */
export type Dictionary = Readonly<Record<string, Member>>;

/** Converted dictionary members. */
export interface Params {
  readonly hash?: HashName;
  readonly saltLength?: number;
  readonly label?: Uint8Array;
  readonly namedCurve?: string;
  readonly modulusLength?: number;
  readonly publicExponent?: Uint8Array;
  readonly format?: 'p1363' | 'der';
  /** ECDH/X25519 `public`: the peer's key material, resolved by core/api. */
  readonly public?: PublicKeyMaterial;
}

export type Operation = 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'deriveBits';

/** What an operation gets: the executor, the key, its spec, the converted members, the call options. */
export interface Call<K> {
  readonly exec: PrimitiveExecutor;
  readonly key: K;
  readonly spec: KeySpec;
  readonly params: Params;
  readonly options: Options;
}

export interface AsymmetricAlgorithm {
  readonly name: AsymmetricName;
  readonly family: KeySpec['family'];
  /** The usages each half of a key pair may have (WebCrypto's tables). */
  readonly usages: { readonly public: readonly KeyUsage[]; readonly private: readonly KeyUsage[] };
  /** Members read by importKey (RsaHashedImportParams, EcKeyImportParams, …). */
  readonly importParams: Dictionary;
  /** Members read by generateKey (RsaHashedKeyGenParams, EcKeyGenParams, …). */
  readonly generateParams: Dictionary;
  /** The key spec the members bind to. May throw NotSupported (unknown curve). */
  keySpec(params: Params): KeySpec;
  /** What to ask a keygen primitive for. InvalidInputError (OperationError) for bad parameters. */
  keygen(spec: KeySpec, params: Params): KeygenSpec;
  /** Members each operation reads, for the operations the algorithm has. */
  readonly operationParams: Readonly<Partial<Record<Operation, Dictionary>>>;
  // The operations use no `this`: core/api calls them unbound (subtle.ts).
  // sign and verify take the caller's last step (params.ts Last; results.ts asIs for none): their
  // promise settles through it, applied where the job settles when the algorithm can.
  sign?<T>(call: Call<PrivateKeyMaterial>, data: Uint8Array, last: Last<Uint8Array, T>): Promise<T>;
  verify?<T>(
    call: Call<PublicKeyMaterial>,
    signature: Uint8Array,
    data: Uint8Array,
    last: Last<boolean, T>,
  ): Promise<T>;
  encrypt?(call: Call<PublicKeyMaterial>, data: Uint8Array): Promise<Uint8Array>;
  decrypt?(call: Call<PrivateKeyMaterial>, data: Uint8Array): Promise<Uint8Array>;
  deriveBits?(call: Call<PrivateKeyMaterial>, length: number | null): Promise<Uint8Array>;
}

const NONE: Dictionary = {};
const HASH: Dictionary = { hash: { type: 'hash', required: true } };
/** RsaHashedKeyGenParams: WebIDL reads the base dictionary's members first (RsaKeyGenParams), then `hash`. */
const RSA_GEN: Dictionary = {
  modulusLength: { type: 'ulong', required: true },
  publicExponent: { type: 'bigInteger', required: true },
  hash: { type: 'hash', required: true },
};
const CURVE: Dictionary = { namedCurve: { type: 'string', required: true } };
const PEER: Dictionary = { public: { type: 'key', required: true } };
const SIGNING = { public: ['verify'], private: ['sign'] } as const;
const AGREEMENT = { public: [], private: ['deriveKey', 'deriveBits'] } as const;

/** The hash bound to an RSA key at import (WebCrypto: the key's hash, not the call's). */
function keyHash(call: Call<unknown>): HashName {
  if (call.spec.family === 'rsa' && call.spec.hash) return call.spec.hash;
  throw new InvalidInputError(`${call.spec.name} key without a hash`);
}

function rsaKeygen(spec: KeySpec, params: Params): KeygenSpec {
  const exponent = params.publicExponent ?? new Uint8Array(0);
  // WebCrypto's BigInteger is big-endian; node refuses exponents beyond 32 bits.
  if (exponent.length > 4) throw new InvalidInputError('RSA public exponent must fit in 32 bits');
  if (spec.family !== 'rsa') throw new InvalidInputError('not an RSA key spec');
  return { kind: 'rsa', bits: params.modulusLength ?? 0, publicExponent: bytesToBigint(exponent) };
}

function rsaSignature(name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS'): AsymmetricAlgorithm {
  const scheme = (call: Call<unknown>): RsaSignatureParams =>
    name === 'RSA-PSS'
      ? { scheme: 'pss', hash: keyHash(call), saltLength: call.params.saltLength ?? 0 }
      : { scheme: 'pkcs1-v1_5', hash: keyHash(call) };
  const params: Dictionary = name === 'RSA-PSS' ? { saltLength: { type: 'ulong', required: true } } : NONE;
  return {
    name,
    ...rsaKey(name),
    usages: SIGNING,
    operationParams: { sign: params, verify: params },
    sign: (call, data, last) =>
      rsaSign(call.exec, call.key as RsaPrivateKeyMaterial, scheme(call), data, call.options, last),
    verify: (call, signature, data, last) =>
      endWith(
        rsaVerify(call.exec, call.key as RsaPublicKeyMaterial, scheme(call), data, signature, call.options),
        last,
      ),
  };
}

function oaepParams(call: Call<unknown>) {
  const label = call.params.label;
  return label === undefined ? { hash: keyHash(call) } : { hash: keyHash(call), label };
}

const OAEP_PARAMS: Dictionary = { label: { type: 'bufferSource' } };

function ecCurve(params: Params): EcCurveName {
  const curve = params.namedCurve;
  if (curve === 'P-256' || curve === 'P-384' || curve === 'P-521') return curve;
  throw new UnsupportedError(`unsupported named curve "${String(curve)}"`);
}

/** What a record says about its key: the family, the members import and generate read, the spec and keygen they make. */
type KeyPart = Pick<AsymmetricAlgorithm, 'family' | 'importParams' | 'generateParams' | 'keySpec' | 'keygen'>;

/** RSA keys: the hash is bound at import or generation (RsaHashedImportParams, RsaHashedKeyGenParams). */
function rsaKey(name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'RSA-OAEP'): KeyPart {
  return {
    family: 'rsa',
    importParams: HASH,
    generateParams: RSA_GEN,
    keySpec: (p) => ({ family: 'rsa', name, hash: p.hash }),
    keygen: rsaKeygen,
  };
}

/** EC keys: the named curve (EcKeyImportParams, EcKeyGenParams). */
function ecKey(name: 'ECDSA' | 'ECDH'): KeyPart {
  return {
    family: 'ec',
    importParams: CURVE,
    generateParams: CURVE,
    keySpec: (p) => ({ family: 'ec', name, curve: ecCurve(p) }),
    keygen: (spec) => ({ kind: 'ec', curve: spec.family === 'ec' ? spec.curve : 'P-256' }),
  };
}

/** Ed25519 and X25519 keys: the name is the curve; nothing to read. */
function okpKey(name: 'Ed25519' | 'X25519'): KeyPart {
  return {
    family: 'okp',
    importParams: NONE,
    generateParams: NONE,
    keySpec: () => ({ family: 'okp', name }),
    keygen: () => ({ kind: 'okp', curve: name }),
  };
}

/** A key-agreement operation, called with the private key and the peer's public key (`public`, resolved by core/api). */
type Agreement<K extends PrivateKeyMaterial, P extends PublicKeyMaterial> = (
  exec: PrimitiveExecutor,
  key: K,
  peer: P,
  lengthBits: number | null,
  options?: Options,
) => Promise<Uint8Array>;

/** deriveBits of ECDH and X25519: the call's key and its `public` member handed to the agreement. */
function agreement<K extends PrivateKeyMaterial, P extends PublicKeyMaterial>(
  derive: Agreement<K, P>,
): NonNullable<AsymmetricAlgorithm['deriveBits']> {
  return (call, length) => derive(call.exec, call.key as K, call.params.public as P, length, call.options);
}

/** The table. */
export const ALGORITHMS: Readonly<Record<AsymmetricName, AsymmetricAlgorithm>> = {
  'RSASSA-PKCS1-v1_5': rsaSignature('RSASSA-PKCS1-v1_5'),
  'RSA-PSS': rsaSignature('RSA-PSS'),
  'RSA-OAEP': {
    name: 'RSA-OAEP',
    ...rsaKey('RSA-OAEP'),
    usages: { public: ['encrypt', 'wrapKey'], private: ['decrypt', 'unwrapKey'] },
    operationParams: { encrypt: OAEP_PARAMS, decrypt: OAEP_PARAMS },
    encrypt: (call, data) =>
      rsaOaepEncrypt(call.exec, call.key as RsaPublicKeyMaterial, oaepParams(call), data, call.options),
    decrypt: (call, data) =>
      rsaOaepDecrypt(call.exec, call.key as RsaPrivateKeyMaterial, oaepParams(call), data, call.options),
  },
  'RSA-RAW': {
    name: 'RSA-RAW',
    family: 'rsa',
    usages: { public: ['encrypt'], private: ['decrypt'] },
    importParams: NONE,
    generateParams: { modulusLength: RSA_GEN.modulusLength!, publicExponent: RSA_GEN.publicExponent! },
    keySpec: () => ({ family: 'rsa', name: 'RSA-RAW', hash: undefined }),
    keygen: rsaKeygen,
    operationParams: { encrypt: NONE, decrypt: NONE },
    encrypt: (call, data) => rsaRawPublic(call.exec, call.key as RsaPublicKeyMaterial, data, call.options),
    decrypt: (call, data) => rsaRawPrivate(call.exec, call.key as RsaPrivateKeyMaterial, data, call.options),
  },
  ECDSA: {
    name: 'ECDSA',
    ...ecKey('ECDSA'),
    usages: SIGNING,
    operationParams: {
      sign: { ...HASH, format: { type: 'ecdsaFormat' } },
      verify: { ...HASH, format: { type: 'ecdsaFormat' } },
    },
    sign: (call, data, last) =>
      ecdsaSign(
        call.exec,
        call.key as EcPrivateKeyMaterial,
        call.params.hash!,
        data,
        call.params.format ?? 'p1363',
        call.options,
        last,
      ),
    verify: (call, signature, data, last) =>
      ecdsaVerify(
        call.exec,
        call.key as EcPublicKeyMaterial,
        call.params.hash!,
        data,
        signature,
        call.params.format ?? 'p1363',
        call.options,
        last,
      ),
  },
  ECDH: {
    name: 'ECDH',
    ...ecKey('ECDH'),
    usages: AGREEMENT,
    operationParams: { deriveBits: PEER },
    deriveBits: agreement(ecdhDeriveBits),
  },
  Ed25519: {
    name: 'Ed25519',
    ...okpKey('Ed25519'),
    usages: SIGNING,
    operationParams: { sign: NONE, verify: NONE },
    sign: (call, data, last) =>
      endWith(ed25519Sign(call.exec, call.key as OkpPrivateKeyMaterial, data, call.options), last),
    verify: (call, signature, data, last) =>
      endWith(
        ed25519Verify(call.exec, call.key as OkpPublicKeyMaterial, data, signature, call.options),
        last,
      ),
  },
  X25519: {
    name: 'X25519',
    ...okpKey('X25519'),
    usages: AGREEMENT,
    operationParams: { deriveBits: PEER },
    deriveBits: agreement(x25519DeriveBits),
  },
};

/** The record of an algorithm name (matched case-insensitively, as WebCrypto does), or undefined. */
export function findAlgorithm(name: string): AsymmetricAlgorithm | undefined {
  // Every call of `subtle` looks its algorithm up: spellings seen before are one map lookup.
  const known = bySpelling.get(name);
  if (known !== undefined) return known ?? undefined;
  const upper = name.toUpperCase();
  const found = ASYMMETRIC_NAMES.find((n) => n.toUpperCase() === upper);
  const record = found === undefined ? undefined : ALGORITHMS[found];
  // Node's names (AES-GCM, HMAC, …) are remembered as null; the map stays small unless a
  // caller invents names, so it stops growing at a bound.
  if (bySpelling.size < 256) bySpelling.set(name, record ?? null);
  return record;
}

const bySpelling = new Map<string, AsymmetricAlgorithm | null>();
