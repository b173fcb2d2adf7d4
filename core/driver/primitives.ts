/**
 * The primitive operations drivers see: the analogue of Linux's akcipher/sig/kpp
 * types and DPDK's asymmetric transforms. This set is small and fixed (DESIGN rule 3:
 * no versioned API); a device's capability list says which of them it does and for
 * which parameters. Everything else (hashing, encodings, composing PKCS#1 over raw
 * RSA, ECDSA over scalar multiplication) happens above, in `core/algorithms`.
 */

import type {
  EcCurveName,
  EcPrivateKeyMaterial,
  EcPublicKeyMaterial,
  HashName,
  KeyPairMaterial,
  OkpCurveName,
  OkpPrivateKeyMaterial,
  OkpPublicKeyMaterial,
  RsaPrivateKeyMaterial,
  RsaPublicKeyMaterial,
} from './keys.js';

/**
 * An affine point on a Weierstrass curve (never the point at infinity).
 *
 * @category Driver contracts
 */
export interface EcPoint {
  /** Affine x-coordinate, in [0, p) for the curve's field prime p. */
  readonly x: bigint;
  /** Affine y-coordinate, in [0, p). */
  readonly y: bigint;
}

/**
 * RSA signature padding done by the device (for cards that pad). `digest` is the hash of the message.
 *
 * @category Driver contracts
 */
export type RsaSignaturePadding =
  | {
      /** EMSA-PKCS1-v1_5 (RFC 8017 §9.2): DigestInfo of `hash` around the digest. */
      readonly scheme: 'pkcs1-v1_5';
      /** The hash the digest was made with; selects the DigestInfo prefix. */
      readonly hash: HashName;
    }
  | {
      /** EMSA-PSS (RFC 8017 §9.1). */
      readonly scheme: 'pss';
      /** The hash the digest was made with, also used for M' in the encoding. */
      readonly hash: HashName;
      /** The hash MGF1 uses to mask the encoded message (WebCrypto: the same as `hash`). */
      readonly mgfHash: HashName;
      /** Salt length in bytes, 0 up to (modulus bytes − hash bytes − 2). */
      readonly saltLength: number;
    };

/**
 * RSA encryption padding done by the device. RSAES-PKCS1-v1_5 is deliberately absent (padding oracles).
 *
 * @category Driver contracts
 */
export interface RsaEncryptionPadding {
  /** RSAES-OAEP (RFC 8017 §7.1), the only encryption padding offered. */
  readonly scheme: 'oaep';
  /** The hash of the label (lHash) in the encoding. */
  readonly hash: HashName;
  /** The hash MGF1 uses for the seed and data masks (WebCrypto: the same as `hash`). */
  readonly mgfHash: HashName;
  /** The OAEP label, possibly empty (zero bytes). */
  readonly label: Uint8Array;
}

/**
 * Optional on ECDSA and RSA signature requests: the message `digest` was hashed from. Devices sign
 * and verify the digest and ignore this; it exists for the software provider,
 * whose library (OpenSSL through node:crypto) signs and verifies only messages and
 * otherwise has to fall back to much slower arithmetic. When present, `digest` is
 * `hash(data)` (truncated as the request says).
 *
 * @category Driver contracts
 */
export interface PrehashedMessage {
  /** The hash that turned `data` into the request's digest. */
  readonly hash: HashName;
  /** The whole message, before hashing. */
  readonly data: Uint8Array;
}

/**
 * What a keygen primitive is asked to make.
 *
 * @category Driver contracts
 */
export type KeygenSpec =
  | {
      /** An RSA key pair with two primes. */
      readonly kind: 'rsa';
      /** Modulus length in bits, within {@link RSA_MODULUS_BITS} (and the device's capability). */
      readonly bits: number;
      /** The public exponent e, odd and at least 3 (WebCrypto's usual value is 65537). */
      readonly publicExponent: bigint;
    }
  | {
      /** An EC key pair on a Weierstrass curve. */
      readonly kind: 'ec';
      /** The curve of the key pair. */
      readonly curve: EcCurveName;
    }
  | {
      /** An Ed25519 or X25519 key pair. */
      readonly kind: 'okp';
      /** The curve of the key pair. */
      readonly curve: OkpCurveName;
    };

/**
 * One primitive request. Inputs are big-endian byte strings of the sizes the
 * operation defines (RSA: exactly the modulus length; digests: the hash length).
 * `op` tells the variants apart; the result of each is in {@link PrimitiveResults}.
 *
 * @category Driver contracts
 */
export type PrimitiveRequest =
  /** Raw RSA with the public key: input^e mod n. Input and output are modulus-length. */
  | {
      /** Raw RSA public operation. */
      readonly op: 'rsa-public';
      /** The public key (n, e). */
      readonly key: RsaPublicKeyMaterial;
      /** The integer to raise to e, modulus-length big-endian, less than n. */
      readonly input: Uint8Array;
    }
  /** Raw RSA with the private key (CRT where the device does it): input^d mod n. */
  | {
      /** Raw RSA private operation. */
      readonly op: 'rsa-private';
      /** The private key (may be device-held: see {@link HeldKeyRef}). */
      readonly key: RsaPrivateKeyMaterial;
      /** The integer to raise to d, modulus-length big-endian, less than n. */
      readonly input: Uint8Array;
      /**
       * The caller takes the result's ArrayBuffer (RSA signing sets it: subtle returns the signature
       * as an ArrayBuffer, core/encoding ownedBuffer).
       * A device may then answer with a copy made by handOverCopy, which ownedBuffer returns
       * without copying again; without it, a plain array. Devices may ignore it.
       */
      readonly takesBuffer?: boolean;
    }
  /** RSA signature over a digest with padding done by the device. */
  | {
      /** Padded RSA signature (the result is the modulus-length signature). */
      readonly op: 'rsa-sign';
      /** The signing key. */
      readonly key: RsaPrivateKeyMaterial;
      /** How the device pads the digest before the private operation. */
      readonly padding: RsaSignaturePadding;
      /** The message hash, exactly the length of `padding.hash`. */
      readonly digest: Uint8Array;
      /** The message `digest` was hashed from, when the caller has it (software provider only). */
      readonly message?: PrehashedMessage;
    }
  /** RSA signature check over a digest with padding checked by the device. */
  | {
      /** Padded RSA verification (the result is the verdict). */
      readonly op: 'rsa-verify';
      /** The public key to verify with. */
      readonly key: RsaPublicKeyMaterial;
      /** The padding the signature must carry. */
      readonly padding: RsaSignaturePadding;
      /** The message hash, exactly the length of `padding.hash`. */
      readonly digest: Uint8Array;
      /** The signature, modulus-length big-endian (the caller has checked its length). */
      readonly signature: Uint8Array;
      /** The message `digest` was hashed from, when the caller has it (software provider only). */
      readonly message?: PrehashedMessage;
    }
  /** RSA-OAEP encryption with padding done by the device. */
  | {
      /** RSA-OAEP encryption (the result is the modulus-length ciphertext). */
      readonly op: 'rsa-encrypt';
      /** The recipient's public key. */
      readonly key: RsaPublicKeyMaterial;
      /** The OAEP parameters. */
      readonly padding: RsaEncryptionPadding;
      /** The plaintext: at most modulus bytes − 2·(hash bytes) − 2 long. */
      readonly input: Uint8Array;
    }
  /** RSA-OAEP decryption with the padding removed by the device. */
  | {
      /** RSA-OAEP decryption (the result is the plaintext). */
      readonly op: 'rsa-decrypt';
      /** The private key. */
      readonly key: RsaPrivateKeyMaterial;
      /** The OAEP parameters the ciphertext was made with. */
      readonly padding: RsaEncryptionPadding;
      /** The ciphertext, modulus-length big-endian. */
      readonly input: Uint8Array;
    }
  /** ECDSA over a digest (already hashed and truncated by the caller to at most the order's length). */
  | {
      /** ECDSA signature (the result is IEEE P1363 r‖s, each the field length). */
      readonly op: 'ecdsa-sign';
      /** The signing key; its curve is the curve of the operation. */
      readonly key: EcPrivateKeyMaterial;
      /** The message hash, truncated to at most the byte length of the group order. */
      readonly digest: Uint8Array;
      /** The message `digest` was hashed from, when the caller has it (software provider only). */
      readonly message?: PrehashedMessage;
    }
  /** `signature` is IEEE P1363 r‖s, each the field length. */
  | {
      /** ECDSA verification (the result is the verdict). */
      readonly op: 'ecdsa-verify';
      /** The public key to verify with (validated: on the curve, not the identity). */
      readonly key: EcPublicKeyMaterial;
      /** The message hash, truncated to at most the byte length of the group order. */
      readonly digest: Uint8Array;
      /** IEEE P1363 r‖s, each the curve's field length (2 × {@link CurveParams.bytes} bytes). */
      readonly signature: Uint8Array;
      /** The message `digest` was hashed from, when the caller has it (software provider only). */
      readonly message?: PrehashedMessage;
    }
  /**
   * EC scalar multiplication: scalar·point, or scalar·G when `point` is absent.
   * The scalar is either a private key (ECDH, deriving a public key; a device may
   * keep it in a key slot) or an ephemeral value (ECDSA nonces composed in core).
   * `point` has been validated (on the curve, not the identity) before it gets here.
   */
  | {
      /** EC scalar multiplication (the result is an {@link EcPoint}). */
      readonly op: 'ec-mul';
      /** The curve both the scalar and the point belong to. */
      readonly curve: EcCurveName;
      /** A private key, or an ephemeral scalar in [1, n) for the group order n. */
      readonly scalar: EcPrivateKeyMaterial | bigint;
      /** The point to multiply; absent: the curve's generator G. */
      readonly point?: EcPoint;
    }
  /**
   * ECDH: the x-coordinate of d·Q (field length), for devices that do key
   * agreement as one operation. `peer` has been validated before it gets here.
   */
  | {
      /** ECDH key agreement (the result is x of d·Q, the field length). */
      readonly op: 'ecdh';
      /** Our private key d. */
      readonly key: EcPrivateKeyMaterial;
      /** The peer's public point Q, on the same curve as `key`. */
      readonly peer: EcPublicKeyMaterial;
    }
  /** Ed25519 signature (RFC 8032, pure: the device hashes the message). */
  | {
      /** Ed25519 signature (the result is 64 bytes, R‖S). */
      readonly op: 'eddsa-sign';
      /** The Ed25519 private key. */
      readonly key: OkpPrivateKeyMaterial;
      /** The whole message, any length. */
      readonly message: Uint8Array;
    }
  /** Ed25519 verification (RFC 8032, pure). */
  | {
      /** Ed25519 verification (the result is the verdict). */
      readonly op: 'eddsa-verify';
      /** The Ed25519 public key. */
      readonly key: OkpPublicKeyMaterial;
      /** The whole message, any length. */
      readonly message: Uint8Array;
      /** The 64-byte signature R‖S. */
      readonly signature: Uint8Array;
    }
  /** X25519: the 32-byte shared secret of `key` and the peer's public u-coordinate. */
  | {
      /** X25519 key agreement (RFC 7748; the result is 32 bytes). */
      readonly op: 'x25519';
      /** Our X25519 private key. */
      readonly key: OkpPrivateKeyMaterial;
      /** The peer's 32-byte public u-coordinate, little-endian as RFC 7748 encodes it. */
      readonly peer: Uint8Array;
    }
  /** Key-pair generation on the device. */
  | {
      /** Key-pair generation (the result is a {@link KeyPairMaterial}). */
      readonly op: 'keygen';
      /** Which kind of key pair, and its size or curve. */
      readonly spec: KeygenSpec;
    };

/**
 * The name of a primitive operation (`'rsa-sign'`, `'ec-mul'`, …): what capabilities list and stats count.
 *
 * @category Driver contracts
 */
export type PrimitiveOp = PrimitiveRequest['op'];

/**
 * Every primitive, in a fixed order. The order is part of the broker's wire
 * format (an operation's byte is its index here) and of the queue's class keys:
 * append new primitives, never reorder.
 *
 * @category Driver contracts
 */
export const PRIMITIVE_OPS: readonly PrimitiveOp[] = [
  'rsa-public',
  'rsa-private',
  'rsa-sign',
  'rsa-verify',
  'rsa-encrypt',
  'rsa-decrypt',
  'ecdsa-sign',
  'ecdsa-verify',
  'ec-mul',
  'ecdh',
  'eddsa-sign',
  'eddsa-verify',
  'x25519',
  'keygen',
];

/**
 * The result type of each primitive, by operation name. Byte strings are big-endian
 * and of the length the operation defines; `boolean` is a verification verdict.
 *
 * @category Driver contracts
 */
export interface PrimitiveResults {
  /** input^e mod n, modulus-length. */
  'rsa-public': Uint8Array;
  /** input^d mod n, modulus-length. */
  'rsa-private': Uint8Array;
  /** The signature, modulus-length. */
  'rsa-sign': Uint8Array;
  /** Whether the signature is valid for the digest and padding. */
  'rsa-verify': boolean;
  /** The ciphertext, modulus-length. */
  'rsa-encrypt': Uint8Array;
  /** The recovered plaintext (its length is the message's). */
  'rsa-decrypt': Uint8Array;
  /** IEEE P1363 r‖s, each the curve's field length. */
  'ecdsa-sign': Uint8Array;
  /** Whether the signature is valid for the digest and key. */
  'ecdsa-verify': boolean;
  /** The product point (never the identity for a validated point and a scalar in [1, n)). */
  'ec-mul': EcPoint;
  /** The shared secret: x of d·Q, the curve's field length. */
  ecdh: Uint8Array;
  /** The 64-byte Ed25519 signature. */
  'eddsa-sign': Uint8Array;
  /** Whether the Ed25519 signature is valid. */
  'eddsa-verify': boolean;
  /** The 32-byte X25519 shared secret. */
  x25519: Uint8Array;
  /** The new key pair (the private material holds its public key). */
  keygen: KeyPairMaterial;
}

/**
 * The value of any successful primitive: a union of {@link PrimitiveResults}' members.
 *
 * @category Driver contracts
 */
export type PrimitiveValue = PrimitiveResults[PrimitiveOp];
/**
 * The result type of a given request type (`ResultOf<RequestOf<'ecdh'>>` is `Uint8Array`).
 *
 * @category Driver contracts
 */
export type ResultOf<R extends PrimitiveRequest> = PrimitiveResults[R['op']];
/**
 * The request variant of one operation (`RequestOf<'rsa-sign'>`).
 *
 * @category Driver contracts
 */
export type RequestOf<O extends PrimitiveOp> = Extract<
  PrimitiveRequest,
  {
    /** The operation name selecting the variant. */
    op: O;
  }
>;

/**
 * The private key a request uses, if any (for key-slot affinity): the request's
 * `key` for private-key operations, `scalar` of an `ec-mul` when it is a key,
 * otherwise undefined.
 *
 * @category Driver contracts
 */
export function privateKeyOf(request: PrimitiveRequest) {
  switch (request.op) {
    case 'rsa-private':
    case 'rsa-sign':
    case 'rsa-decrypt':
    case 'ecdsa-sign':
    case 'ecdh':
    case 'eddsa-sign':
    case 'x25519':
      return request.key;
    case 'ec-mul':
      return typeof request.scalar === 'bigint' ? undefined : request.scalar;
    default:
      return undefined;
  }
}
