/** The RSA key sizes this layer accepts (devices may cover less; the software provider covers all). */

import { InvalidKeyError } from '../driver/errors.js';
import type { RsaPrivateKeyMaterial, RsaPublicKeyMaterial } from '../driver/keys.js';

export const RSA_PUBLIC_BITS = { min: 1024, max: 8192 } as const;
export const RSA_PRIVATE_BITS = { min: 2048, max: 8192 } as const;

function checkExponent(e: bigint): void {
  if (e < 3n || (e & 1n) === 0n) throw new InvalidKeyError('RSA public exponent must be odd and at least 3');
}

export function checkRsaPublicKey(key: RsaPublicKeyMaterial): void {
  if (key.kind !== 'rsa-public') throw new InvalidKeyError('expected an RSA public key');
  if (key.bits < RSA_PUBLIC_BITS.min || key.bits > RSA_PUBLIC_BITS.max) {
    throw new InvalidKeyError(
      `RSA modulus of ${key.bits} bits is outside ${RSA_PUBLIC_BITS.min}–${RSA_PUBLIC_BITS.max} for public operations`,
    );
  }
  checkExponent(key.e);
}

export function checkRsaPrivateKey(key: RsaPrivateKeyMaterial): void {
  if (key.kind !== 'rsa-private') throw new InvalidKeyError('expected an RSA private key');
  if (key.bits < RSA_PRIVATE_BITS.min || key.bits > RSA_PRIVATE_BITS.max) {
    throw new InvalidKeyError(
      `RSA modulus of ${key.bits} bits is outside ${RSA_PRIVATE_BITS.min}–${RSA_PRIVATE_BITS.max} for private operations`,
    );
  }
  checkExponent(key.e);
}
