/**
 * A deployment's key policy: stricter than WebCrypto where a deployment wants it.
 * The defaults are WebCrypto's and node's (any RSA modulus from 512 to 16384 bits
 * for every operation, every curve pkaccel has). Pass it as
 * `openAccelerator({ policy })` (or to the AcceleratorSubtle constructor).
 *
 * A key the policy refuses is refused when it is imported or generated and again
 * when it is used, with NotSupportedError naming the policy member.
 */

import type { EcCurveName, OkpCurveName, PrivateKeyMaterial, PublicKeyMaterial } from '../driver/keys.js';
import { RSA_MODULUS_BITS } from '../driver/keys.js';
import type { KeySpec } from '../key-formats/index.js';
import { domError } from './dom-errors.js';

/**
 * A deployment's key policy, stricter than WebCrypto's defaults; every member is
 * optional and absent means WebCrypto's rule. A refused key is a NotSupportedError
 * naming the member, at import/generation and again at use.
 *
 * @example
 * ```ts
 * const accel = await openAccelerator({ policy: { minRsaPrivateBits: 2048, curves: ['P-256', 'P-384', 'Ed25519'] } });
 * ```
 *
 * @category WebCrypto
 */
export interface KeyPolicy {
  /**
   * Smallest RSA modulus, in bits, for private-key operations (sign, decrypt,
   * unwrapKey) and for generating and importing private keys. Default 512 (what
   * node and WebCrypto accept); 2048 is a common production floor.
   */
  readonly minRsaPrivateBits?: number;
  /** Smallest RSA modulus, in bits, for public-key operations and public keys. Default 512. */
  readonly minRsaPublicBits?: number;
  /** The curves keys may be on (ECDSA, ECDH, Ed25519, X25519). Default: all of them. */
  readonly curves?: readonly (EcCurveName | OkpCurveName)[];
}

/** Check a key (or a key about to be generated: `bits` only) against the policy. */
export function checkPolicy(
  policy: KeyPolicy | undefined,
  spec: KeySpec,
  type: 'public' | 'private',
  material?: PublicKeyMaterial | PrivateKeyMaterial,
  bits?: number,
): void {
  if (policy === undefined) return;
  if (spec.family === 'rsa') {
    const size = bits ?? (material && 'bits' in material ? material.bits : undefined);
    const min =
      type === 'private'
        ? (policy.minRsaPrivateBits ?? RSA_MODULUS_BITS.min)
        : (policy.minRsaPublicBits ?? RSA_MODULUS_BITS.min);
    if (size !== undefined && size < min)
      throw domError(
        'NotSupportedError',
        `policy: a ${size}-bit RSA ${type} key is below ${type === 'private' ? 'minRsaPrivateBits' : 'minRsaPublicBits'} (${min})`,
      );
    return;
  }
  const curve = spec.family === 'ec' ? spec.curve : spec.name;
  if (policy.curves !== undefined && !policy.curves.includes(curve))
    throw domError('NotSupportedError', `policy: curve ${curve} is not among the allowed curves`);
}
