/**
 * The RSA key sizes this layer accepts: RSA_MODULUS_BITS (core/driver/keys.ts),
 * the one statement of the limit, for public and private operations alike (as
 * WebCrypto and node accept them). A deployment sets a higher floor with
 * core/api's `policy`; devices may cover less (their capabilities say so).
 */

import { InvalidKeyError } from '../driver/errors.js';
import { RSA_MODULUS_BITS, type RsaPrivateKeyMaterial, type RsaPublicKeyMaterial } from '../driver/keys.js';

export { RSA_MODULUS_BITS } from '../driver/keys.js';

function checkExponent(e: bigint): void {
  if (e < 3n || (e & 1n) === 0n) throw new InvalidKeyError('RSA public exponent must be odd and at least 3');
}

function checkBits(bits: number, what: string): void {
  if (bits < RSA_MODULUS_BITS.min || bits > RSA_MODULUS_BITS.max) {
    throw new InvalidKeyError(
      `RSA modulus of ${bits} bits is outside ${RSA_MODULUS_BITS.min}–${RSA_MODULUS_BITS.max} for ${what}`,
    );
  }
}

export function checkRsaPublicKey(key: RsaPublicKeyMaterial): void {
  if (key.kind !== 'rsa-public') throw new InvalidKeyError('expected an RSA public key');
  checkBits(key.bits, 'public operations');
  checkExponent(key.e);
}

export function checkRsaPrivateKey(key: RsaPrivateKeyMaterial): void {
  if (key.kind !== 'rsa-private') throw new InvalidKeyError('expected an RSA private key');
  checkBits(key.bits, 'private operations');
  checkExponent(key.e);
}
