/**
 * The capability model: what a device does, as a list of primitives with their
 * parameter ranges. The scheduler filters devices with `supports()`; nothing
 * above the driver layer asks a device for a version number (DESIGN rule 3).
 */

import type { EcCurveName, HashName, OkpCurveName } from './keys.js';
import { type PrimitiveOp, type PrimitiveRequest, privateKeyOf } from './primitives.js';

/**
 * An inclusive range of RSA modulus sizes in bits.
 *
 * @category Driver contracts
 */
export interface BitRange {
  /** The smallest modulus covered, in bits (inclusive). */
  readonly min: number;
  /** The largest modulus covered, in bits (inclusive). */
  readonly max: number;
}

/**
 * Where a device can take a private key from: inline (the material in the
 * request), its key slots, or `held` (a device-held key, core/driver/keys.ts
 * `heldPrivateKey`: only a device that declares `held` is given one).
 *
 * @category Driver contracts
 */
export type KeyStorage = 'inline' | 'slot' | 'held';

/**
 * One primitive a device does, and the parameters it does it for. Absent fields
 * mean "not restricted" for that parameter (a software device leaves most out).
 *
 * @category Driver contracts
 */
export interface Capability {
  /** The primitive this entry is about; a device lists one entry (or more, for disjoint ranges) per primitive. */
  readonly op: PrimitiveOp;
  /** RSA ops: modulus sizes. */
  readonly modulusBits?: BitRange;
  /** RSA private ops: whether keys with more than two primes are accepted. Absent = false. */
  readonly multiPrime?: boolean;
  /** ECDSA, ec-mul, keygen: Weierstrass curves. */
  readonly curves?: readonly EcCurveName[];
  /** EdDSA, X25519, keygen: Edwards/Montgomery curves. */
  readonly okpCurves?: readonly OkpCurveName[];
  /** Device-padded RSA ops: the schemes done by the device. */
  readonly paddings?: readonly ('pkcs1-v1_5' | 'pss' | 'oaep')[];
  /** Device-padded RSA ops: the hashes the device knows (for DigestInfo, MGF1, OAEP). */
  readonly hashes?: readonly HashName[];
  /** keygen: which kinds of key the device generates. */
  readonly keygen?: readonly ('rsa' | 'ec' | 'okp')[];
  /** Private-key ops: inline keys, key slots, or both. Absent = inline only. */
  readonly keyStorage?: readonly KeyStorage[];
}

function inRange(range: BitRange | undefined, bits: number): boolean {
  return range === undefined || (bits >= range.min && bits <= range.max);
}

function has<T>(list: readonly T[] | undefined, value: T): boolean {
  return list === undefined || list.includes(value);
}

/**
 * Whether one capability entry covers the request's parameters (operation, sizes,
 * curves, padding, hashes, and where the private key lives).
 *
 * @category Driver contracts
 */
export function capabilityCovers(cap: Capability, request: PrimitiveRequest): boolean {
  if (cap.op !== request.op) return false;
  const key = privateKeyOf(request);
  if (key?.held !== undefined && cap.keyStorage?.includes('held') !== true) return false;
  switch (request.op) {
    case 'rsa-public':
    case 'rsa-verify':
    case 'rsa-encrypt':
      return (
        inRange(cap.modulusBits, request.key.bits) &&
        ('padding' in request ? paddingCovered(cap, request.padding) : true)
      );
    case 'rsa-private':
    case 'rsa-sign':
    case 'rsa-decrypt':
      return (
        inRange(cap.modulusBits, request.key.bits) &&
        (request.key.otherPrimes.length === 0 || cap.multiPrime === true) &&
        ('padding' in request ? paddingCovered(cap, request.padding) : true)
      );
    case 'ecdsa-sign':
    case 'ecdsa-verify':
    case 'ecdh':
      return has(cap.curves, request.key.curve);
    case 'ec-mul':
      return has(cap.curves, request.curve);
    case 'eddsa-sign':
    case 'eddsa-verify':
    case 'x25519':
      return has(cap.okpCurves, request.key.curve);
    case 'keygen': {
      const spec = request.spec;
      if (!has(cap.keygen, spec.kind)) return false;
      if (spec.kind === 'rsa') return inRange(cap.modulusBits, spec.bits);
      if (spec.kind === 'ec') return has(cap.curves, spec.curve);
      return has(cap.okpCurves, spec.curve);
    }
  }
}

function paddingCovered(
  cap: Capability,
  padding: {
    readonly scheme: 'pkcs1-v1_5' | 'pss' | 'oaep';
    readonly hash: HashName;
    readonly mgfHash?: HashName;
  },
): boolean {
  return (
    has(cap.paddings, padding.scheme) &&
    has(cap.hashes, padding.hash) &&
    (padding.mgfHash === undefined || has(cap.hashes, padding.mgfHash))
  );
}

/**
 * Whether any entry of a capability list covers the request: what the scheduler
 * asks before giving a device a job.
 *
 * @category Driver contracts
 */
export function supports(capabilities: readonly Capability[], request: PrimitiveRequest): boolean {
  for (const cap of capabilities) if (capabilityCovers(cap, request)) return true;
  return false;
}
