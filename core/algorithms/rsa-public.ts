/**
 * Raw RSA with the public key on the host, and the representative checks. They
 * live in core/integrity (the gate opens every RSA private-key result with the
 * public key before release; see core/integrity/rsa.ts for the cost notes);
 * core/algorithms uses the same functions for validating inputs and decoding.
 */

export {
  isRsaRepresentative,
  modulusBytes,
  rsaPublicBigint,
  rsaPublicOnHost,
} from '../integrity/rsa.js';
