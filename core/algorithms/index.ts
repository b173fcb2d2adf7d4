/**
 * The algorithms layer: per algorithm, validate, encode, choose among the
 * primitives a device offers, post-check. Every function takes the executor it
 * runs primitives on, and an optional AbortSignal.
 *
 * CONTRACT FILE (foundation): these signatures are what core/api calls. The
 * bodies live in this folder's modules; this file is the layer's surface.
 *
 * Composition: each operation asks `exec.runFirst` for the device-level
 * primitive first and the form composed here second (PKCS#1 / PSS / OAEP over
 * raw RSA, ECDSA and ECDH and EC keygen over scalar multiplication), so a card
 * that only does raw RSA or point multiplication still gets the work. Every
 * RSA private-key result is checked with the public key before release.
 * ECDSA sign/verify and RSA sign take the caller's last step (params.ts Last), applied where the
 * job settles through `exec.runFirstThen` (results.ts), so core/api makes no promise of its own.
 */

export { ecPublicKeyFromPrivate, validateEcPublicKey } from './ec-keys.js';
export { ecdhDeriveBits } from './ecdh.js';
export { ecdsaSign, ecdsaVerify } from './ecdsa.js';
export { derToP1363, p1363ToDer } from './ecdsa-encoding.js';
export { generateKeyPair } from './keygen.js';
export { ed25519Sign, ed25519Verify, x25519DeriveBits } from './okp.js';
export type { EcdsaSignatureFormat, Last, Options, RsaOaepParams, RsaSignatureParams } from './params.js';
export { rsaOaepDecrypt, rsaOaepEncrypt } from './rsa-oaep.js';
export { rsaRawPrivate, rsaRawPublic } from './rsa-raw.js';
export { rsaSign, rsaVerify } from './rsa-signature.js';
