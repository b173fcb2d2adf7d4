/**
 * The keys the accelerator holds, on `subtle`'s side of core/algorithms'
 * table: WebCrypto's key checks (usages, algorithm, the ECDH peer), the policy,
 * and generateKey / importKey / exportKey for pkaccel's asymmetric algorithms.
 * Each `prepare…` makes its checks now and returns the work, as `settle` runs it.
 */

import { generateKeyPair } from '../algorithms/index.js';
import { checkKeygenSpec } from '../algorithms/keygen.js';
import type { AsymmetricAlgorithm, Call, KeyUsage, Operation, Params } from '../algorithms/suite.js';
import type { PrimitiveExecutor } from '../driver/device.js';
import type { KeyStore } from '../driver/key-store.js';
import type { PrivateKeyMaterial, PublicKeyMaterial } from '../driver/keys.js';
import { ownedBuffer } from '../encoding/bytes.js';
import {
  exportKeyMaterial,
  importKeyMaterial,
  type JsonWebKey,
  type KeyFormat,
  type KeySpec,
} from '../key-formats/index.js';
import { executorFor, fitsSpec, generateInKeyStore, intoKeyStore, openInKeyStores } from './device-keys.js';
import { domError, toWebCryptoError } from './dom-errors.js';
import { CryptoKey, isAcceleratorKey, secretOf } from './key-handle.js';
import { forNode, nodePublicMaterial } from './pass-through.js';
import { checkPolicy, type KeyPolicy } from './policy.js';
import type { CryptoKeyLike, CryptoKeyPair } from './types.js';

/** One of pkaccel's algorithms with its dictionary members converted. */
export interface Held {
  readonly algorithm: AsymmetricAlgorithm;
  readonly params: Params;
}

/** What every preparation needs from the accelerator. */
export interface Context {
  readonly exec: PrimitiveExecutor;
  readonly policy: KeyPolicy | undefined;
  readonly signal: AbortSignal | undefined;
  /** Key stores of the accelerator's devices: non-extractable private keys go there (device-keys.ts). */
  readonly keyStores?: readonly KeyStore[] | undefined;
}

/**
 * A result's bytes as the ArrayBuffer WebCrypto returns, one the caller alone holds: a buffer
 * a driver handed over (core/encoding ownedBuffer) as it is, anything else copied.
 */
export const toArrayBuffer: (bytes: Uint8Array) => ArrayBuffer = ownedBuffer;

/** Usages for a key of `type`: SyntaxError if any is not allowed, or if a private key would have none. */
function usagesFor(alg: AsymmetricAlgorithm, type: 'public' | 'private', usages: readonly KeyUsage[]) {
  for (const u of usages)
    if (!alg.usages[type].includes(u))
      throw domError('SyntaxError', `usage "${u}" is not valid for a ${alg.name} ${type} key`);
  if (type === 'private' && usages.length === 0)
    throw domError('SyntaxError', `a ${alg.name} private key needs at least one usage`);
  return [...usages];
}

/**
 * WebCrypto's checks on the key of an operation (this accelerator's, same
 * algorithm, the usage), the policy, the ECDH/X25519 peer; the call to make.
 */
export function prepareCall(
  held: Held,
  key: CryptoKeyLike,
  operation: Operation,
  usage: KeyUsage,
  context: Context,
): Call<never> {
  const memo = calls.get(key);
  if (
    memo !== undefined &&
    memo.held === held &&
    memo.context === context &&
    memo.operation === operation &&
    memo.usage === usage
  ) {
    // The same checks passed for these very values (a key's attributes never change); the
    // policy is the caller's object, so it is asked again.
    const call = memo.call;
    if (context.policy !== undefined)
      checkPolicy(context.policy, call.spec, privateOperation(operation) ? 'private' : 'public', call.key);
    return call;
  }
  const call = makeCall(held, key, operation, usage, context);
  // Remembered for calls without a signal and without a peer key (those are made per call anyway).
  if (context.signal === undefined && held.params.public === undefined)
    calls.set(key, { held, context, operation, usage, call });
  return call;
}

/**
 * The last call made with each key (prepareCall): a key used again the same way (the same
 * algorithm object, members, operation and accelerator: nearly every call in a loop) gets the
 * same Call, without its checks redone, five WeakMap look-ups and an object per call.
 */
interface CallMemo {
  readonly held: Held;
  readonly context: Context;
  readonly operation: Operation;
  readonly usage: KeyUsage;
  readonly call: Call<never>;
}
const calls = new WeakMap<CryptoKeyLike, CallMemo>();

function privateOperation(operation: Operation): boolean {
  return operation === 'sign' || operation === 'decrypt' || operation === 'deriveBits';
}

function makeCall(
  held: Held,
  key: CryptoKeyLike,
  operation: Operation,
  usage: KeyUsage,
  context: Context,
): Call<never> {
  const { algorithm, params } = held;
  if (!isAcceleratorKey(key))
    throw domError('InvalidAccessError', `${algorithm.name} needs a key created by this accelerator`);
  const keyName = CryptoKey.algorithmNameOf(key);
  if (keyName !== algorithm.name)
    throw domError('InvalidAccessError', `key is a ${keyName} key, not ${algorithm.name}`);
  if (!CryptoKey.allows(key, usage))
    throw domError('InvalidAccessError', `key usages do not include "${usage}"`);
  const { material, spec } = secretOf(key);
  checkPolicy(context.policy, spec, privateOperation(operation) ? 'private' : 'public', material);
  const peer = params.public && peerMaterial(algorithm, material, params.public as unknown as CryptoKeyLike);
  return {
    exec: executorFor(context.exec, material),
    key: material as never,
    spec,
    params: peer ? { ...params, public: peer } : params,
    options: context.signal === undefined ? NO_SIGNAL : { signal: context.signal },
  };
}

/** The call options of every call without a signal (one object, not one per call). */
const NO_SIGNAL = Object.freeze({ signal: undefined });

/** The `public` member of ECDH/X25519: a public key of the same algorithm and curve (ours or node's). */
function peerMaterial(
  alg: AsymmetricAlgorithm,
  own: PublicKeyMaterial | PrivateKeyMaterial,
  peer: CryptoKeyLike,
): PublicKeyMaterial {
  if (peer.type !== 'public')
    throw domError('InvalidAccessError', `${alg.name}: "public" is not a public key`);
  if (peer.algorithm.name !== alg.name)
    throw domError('InvalidAccessError', `${alg.name}: "public" is a ${peer.algorithm.name} key`);
  const material = isAcceleratorKey(peer)
    ? (secretOf(peer).material as PublicKeyMaterial)
    : nodePublicMaterial(alg.name, forNode(peer));
  if (material.kind === 'ec-public' && own.kind === 'ec-private' && material.curve !== own.curve)
    throw domError(
      'InvalidAccessError',
      `${alg.name}: "public" is on ${material.curve}, the key on ${own.curve}`,
    );
  return material;
}

/** A key pair's usages split between its halves; a usage neither half allows is a SyntaxError. */
function pairUsages(
  algorithm: AsymmetricAlgorithm,
  usages: readonly KeyUsage[],
): { publicUsages: KeyUsage[]; privateUsages: KeyUsage[] } {
  const { public: publicAllowed, private: privateAllowed } = algorithm.usages;
  for (const u of usages)
    if (!publicAllowed.includes(u) && !privateAllowed.includes(u))
      throw domError('SyntaxError', `usage "${u}" is not valid for ${algorithm.name} keys`);
  return {
    publicUsages: usages.filter((u) => publicAllowed.includes(u)),
    privateUsages: usages.filter((u) => privateAllowed.includes(u)),
  };
}

/** The CryptoKey pair of a private key (its public half always extractable). */
function keyPair(
  privateKey: PrivateKeyMaterial,
  spec: KeySpec,
  extractable: boolean,
  publicUsages: KeyUsage[],
  privateUsages: KeyUsage[],
): CryptoKeyPair {
  return {
    publicKey: CryptoKey.create('public', true, publicUsages, { material: privateKey.publicKey, spec }),
    privateKey: CryptoKey.create('private', extractable, privateUsages, { material: privateKey, spec }),
  };
}

/**
 * generateKey in WebCrypto's order: the algorithm's parameters, the usages it
 * allows (SyntaxError), the key parameters (OperationError), and only then "no
 * usage" (SyntaxError) and the policy.
 */
export function prepareGenerate(
  { algorithm, params }: Held,
  extractable: boolean,
  usages: readonly KeyUsage[],
  context: Context,
): () => Promise<CryptoKeyPair> {
  const spec = algorithm.keySpec(params);
  const { publicUsages, privateUsages } = pairUsages(algorithm, usages);
  const keygen = algorithm.keygen(spec, params);
  checkKeygenSpec(keygen);
  if (privateUsages.length === 0)
    throw domError('SyntaxError', `a ${algorithm.name} private key needs at least one usage`);
  checkPolicy(context.policy, spec, 'private', undefined, keygen.kind === 'rsa' ? keygen.bits : undefined);
  return async () => {
    const stores = extractable ? undefined : context.keyStores;
    const { privateKey } =
      (await generateInKeyStore(stores, keygen, context.signal)) ??
      (await generateKeyPair(context.exec, keygen, { signal: context.signal }));
    return keyPair(privateKey, spec, extractable, publicUsages, privateUsages);
  };
}

/** importKey: usages checked before parsing when the format tells the key type, and after. */
export function prepareImport(
  { algorithm, params }: Held,
  format: KeyFormat,
  data: Uint8Array | JsonWebKey,
  extractable: boolean,
  usages: readonly KeyUsage[],
  context: Context,
): () => Promise<CryptoKey> {
  const spec = algorithm.keySpec(params);
  if (format === 'raw' && spec.family === 'rsa')
    throw domError('NotSupportedError', 'RSA keys have no raw format');
  if (format !== 'jwk') usagesFor(algorithm, format === 'pkcs8' ? 'private' : 'public', usages);
  return async () => {
    let imported: ReturnType<typeof importKeyMaterial>;
    try {
      imported = importKeyMaterial(format, data, spec, { extractable, usages });
    } catch (error) {
      throw toWebCryptoError(error, 'import', 'importKey');
    }
    const finalUsages = usagesFor(algorithm, imported.type, usages);
    checkPolicy(context.policy, spec, imported.type, imported.material);
    const material =
      imported.type === 'private' && !extractable && context.keyStores?.length
        ? await intoKeyStore(context.keyStores, imported.material as PrivateKeyMaterial, context.signal)
        : imported.material;
    return CryptoKey.create(imported.type, extractable, finalUsages, { material, spec });
  };
}

/** exportKey of a held key: InvalidAccessError unless extractable, then the format. */
export function exportHeld(format: KeyFormat, key: CryptoKey): ArrayBuffer | JsonWebKey {
  const { material, spec } = secretOf(key);
  if (!key.extractable) throw domError('InvalidAccessError', 'key is not extractable');
  if (format === 'raw' && spec.family === 'rsa')
    throw domError('NotSupportedError', 'RSA keys have no raw format');
  try {
    const out = exportKeyMaterial(format, material, spec, { extractable: true, usages: key.usages });
    return out instanceof Uint8Array ? toArrayBuffer(out) : out;
  } catch (error) {
    throw domError('InvalidAccessError', `cannot export a ${key.type} ${spec.name} key as ${format}`, error);
  }
}

/** `accel.keys.open`: a key a device holds by name, as a non-extractable key pair of `algorithm`. */
export function prepareOpen(
  { algorithm, params }: Held,
  name: string,
  usages: readonly KeyUsage[],
  context: Context,
): () => Promise<CryptoKeyPair> {
  const spec = algorithm.keySpec(params);
  const { publicUsages, privateUsages } = pairUsages(algorithm, usages);
  return async () => {
    const privateKey = await openInKeyStores(context.keyStores, name, context.signal);
    if (!fitsSpec(privateKey, spec))
      throw domError('InvalidAccessError', `key "${name}" is not a ${algorithm.name} key`);
    checkPolicy(context.policy, spec, 'private', privateKey);
    return keyPair(privateKey, spec, false, publicUsages, privateUsages);
  };
}
