/**
 * What the software provider offers: every primitive, every parameter pkaccel
 * knows. RSA moduli: RSA_MODULUS_BITS (512–16384, OpenSSL's range), the one
 * limit core/algorithms checks keys against too.
 */

import {
  type Capability,
  type EcCurveName,
  type HashName,
  RSA_MODULUS_BITS,
} from '../../core/driver/index.js';

const RSA_BITS = RSA_MODULUS_BITS;
const HASHES: readonly HashName[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
const CURVES: readonly EcCurveName[] = ['P-256', 'P-384', 'P-521'];

export const SOFTWARE_CAPABILITIES: readonly Capability[] = Object.freeze([
  { op: 'rsa-public', modulusBits: RSA_BITS },
  { op: 'rsa-private', modulusBits: RSA_BITS, multiPrime: true },
  {
    op: 'rsa-sign',
    modulusBits: RSA_BITS,
    multiPrime: true,
    paddings: ['pkcs1-v1_5', 'pss'],
    hashes: HASHES,
  },
  { op: 'rsa-verify', modulusBits: RSA_BITS, paddings: ['pkcs1-v1_5', 'pss'], hashes: HASHES },
  { op: 'rsa-encrypt', modulusBits: RSA_BITS, paddings: ['oaep'], hashes: HASHES },
  { op: 'rsa-decrypt', modulusBits: RSA_BITS, multiPrime: true, paddings: ['oaep'], hashes: HASHES },
  { op: 'ecdsa-sign', curves: CURVES },
  { op: 'ecdsa-verify', curves: CURVES },
  { op: 'ecdh', curves: CURVES },
  { op: 'ec-mul', curves: CURVES },
  { op: 'eddsa-sign', okpCurves: ['Ed25519'] },
  { op: 'eddsa-verify', okpCurves: ['Ed25519'] },
  { op: 'x25519', okpCurves: ['X25519'] },
  {
    op: 'keygen',
    keygen: ['rsa', 'ec', 'okp'],
    modulusBits: RSA_BITS,
    curves: CURVES,
    okpCurves: ['Ed25519', 'X25519'],
  },
] satisfies Capability[]);
