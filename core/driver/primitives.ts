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

/** An affine point on a Weierstrass curve. */
export interface EcPoint {
  readonly x: bigint;
  readonly y: bigint;
}

/** RSA signature padding done by the device (for cards that pad). `digest` is the hash of the message. */
export type RsaSignaturePadding =
  | { readonly scheme: 'pkcs1-v1_5'; readonly hash: HashName }
  | {
      readonly scheme: 'pss';
      readonly hash: HashName;
      readonly mgfHash: HashName;
      readonly saltLength: number;
    };

/** RSA encryption padding done by the device. RSAES-PKCS1-v1_5 is deliberately absent (padding oracles). */
export interface RsaEncryptionPadding {
  readonly scheme: 'oaep';
  readonly hash: HashName;
  readonly mgfHash: HashName;
  readonly label: Uint8Array;
}

/**
 * Optional on ECDSA and RSA signature requests: the message `digest` was hashed from. Devices sign
 * and verify the digest and ignore this; it exists for the software provider,
 * whose library (OpenSSL through node:crypto) signs and verifies only messages and
 * otherwise has to fall back to much slower arithmetic. When present, `digest` is
 * `hash(data)` (truncated as the request says).
 */
export interface PrehashedMessage {
  readonly hash: HashName;
  readonly data: Uint8Array;
}

/** What a keygen primitive is asked to make. */
export type KeygenSpec =
  | { readonly kind: 'rsa'; readonly bits: number; readonly publicExponent: bigint }
  | { readonly kind: 'ec'; readonly curve: EcCurveName }
  | { readonly kind: 'okp'; readonly curve: OkpCurveName };

/**
 * One primitive request. Inputs are big-endian byte strings of the sizes the
 * operation defines (RSA: exactly the modulus length; digests: the hash length).
 */
export type PrimitiveRequest =
  /** Raw RSA with the public key: input^e mod n. Input and output are modulus-length. */
  | { readonly op: 'rsa-public'; readonly key: RsaPublicKeyMaterial; readonly input: Uint8Array }
  /** Raw RSA with the private key (CRT where the device does it): input^d mod n. */
  | { readonly op: 'rsa-private'; readonly key: RsaPrivateKeyMaterial; readonly input: Uint8Array }
  /** RSA signature over a digest with padding done by the device. */
  | {
      readonly op: 'rsa-sign';
      readonly key: RsaPrivateKeyMaterial;
      readonly padding: RsaSignaturePadding;
      readonly digest: Uint8Array;
      readonly message?: PrehashedMessage;
    }
  | {
      readonly op: 'rsa-verify';
      readonly key: RsaPublicKeyMaterial;
      readonly padding: RsaSignaturePadding;
      readonly digest: Uint8Array;
      readonly signature: Uint8Array;
      readonly message?: PrehashedMessage;
    }
  | {
      readonly op: 'rsa-encrypt';
      readonly key: RsaPublicKeyMaterial;
      readonly padding: RsaEncryptionPadding;
      readonly input: Uint8Array;
    }
  | {
      readonly op: 'rsa-decrypt';
      readonly key: RsaPrivateKeyMaterial;
      readonly padding: RsaEncryptionPadding;
      readonly input: Uint8Array;
    }
  /** ECDSA over a digest (already hashed and truncated by the caller to at most the order's length). */
  | {
      readonly op: 'ecdsa-sign';
      readonly key: EcPrivateKeyMaterial;
      readonly digest: Uint8Array;
      readonly message?: PrehashedMessage;
    }
  /** `signature` is IEEE P1363 r‖s, each the field length. */
  | {
      readonly op: 'ecdsa-verify';
      readonly key: EcPublicKeyMaterial;
      readonly digest: Uint8Array;
      readonly signature: Uint8Array;
      readonly message?: PrehashedMessage;
    }
  /**
   * EC scalar multiplication: scalar·point, or scalar·G when `point` is absent.
   * The scalar is either a private key (ECDH, deriving a public key; a device may
   * keep it in a key slot) or an ephemeral value (ECDSA nonces composed in core).
   * `point` has been validated (on the curve, not the identity) before it gets here.
   */
  | {
      readonly op: 'ec-mul';
      readonly curve: EcCurveName;
      readonly scalar: EcPrivateKeyMaterial | bigint;
      readonly point?: EcPoint;
    }
  /**
   * ECDH: the x-coordinate of d·Q (field length), for devices that do key
   * agreement as one operation. `peer` has been validated before it gets here.
   */
  | { readonly op: 'ecdh'; readonly key: EcPrivateKeyMaterial; readonly peer: EcPublicKeyMaterial }
  | { readonly op: 'eddsa-sign'; readonly key: OkpPrivateKeyMaterial; readonly message: Uint8Array }
  | {
      readonly op: 'eddsa-verify';
      readonly key: OkpPublicKeyMaterial;
      readonly message: Uint8Array;
      readonly signature: Uint8Array;
    }
  /** X25519: the 32-byte shared secret of `key` and the peer's public u-coordinate. */
  | { readonly op: 'x25519'; readonly key: OkpPrivateKeyMaterial; readonly peer: Uint8Array }
  | { readonly op: 'keygen'; readonly spec: KeygenSpec };

export type PrimitiveOp = PrimitiveRequest['op'];

/** The result type of each primitive. */
export interface PrimitiveResults {
  'rsa-public': Uint8Array;
  'rsa-private': Uint8Array;
  'rsa-sign': Uint8Array;
  'rsa-verify': boolean;
  'rsa-encrypt': Uint8Array;
  'rsa-decrypt': Uint8Array;
  'ecdsa-sign': Uint8Array;
  'ecdsa-verify': boolean;
  'ec-mul': EcPoint;
  ecdh: Uint8Array;
  'eddsa-sign': Uint8Array;
  'eddsa-verify': boolean;
  x25519: Uint8Array;
  keygen: KeyPairMaterial;
}

export type PrimitiveValue = PrimitiveResults[PrimitiveOp];
export type ResultOf<R extends PrimitiveRequest> = PrimitiveResults[R['op']];
export type RequestOf<O extends PrimitiveOp> = Extract<PrimitiveRequest, { op: O }>;

/** The private key a request uses, if any (for key-slot affinity). */
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
