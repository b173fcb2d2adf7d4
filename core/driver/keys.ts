/**
 * Key material as drivers see it. Applications never hold these: they hold key
 * handles (`core/api`), which keep material out of reach. A driver receives the
 * material object inside a request; the object's identity is stable for the key's
 * life, so a driver may cache per key (a WeakMap keyed on the material, a device
 * key slot) without ever copying the material into a place the caller can see.
 *
 * Integers are bigint, big-endian when they travel as bytes (see ./bytes.ts).
 */

export type EcCurveName = 'P-256' | 'P-384' | 'P-521';
export type OkpCurveName = 'Ed25519' | 'X25519';
export type { HashName } from '../encoding/hashes.js';

/**
 * The RSA modulus sizes pkaccel handles, in bits: the one statement of the limit
 * (OpenSSL's range; node's WebCrypto accepts the same). The algorithms layer
 * checks keys against it and the software device advertises it; a deployment
 * that wants a higher floor sets core/api's `policy`.
 */
export const RSA_MODULUS_BITS = { min: 512, max: 16384 } as const;

/** Byte length of a field element / scalar on each Weierstrass curve. */
export const EC_FIELD_BYTES: Readonly<Record<EcCurveName, number>> = {
  'P-256': 32,
  'P-384': 48,
  'P-521': 66,
};

const redacted = Symbol.for('nodejs.util.inspect.custom');

/** Base of every private material: inspect and JSON show the kind and a key id, never a secret. */
abstract class SecretMaterial {
  /** Process-unique number, for logs and slot bookkeeping; carries no key information. */
  readonly id: number = nextKeyId++;
  abstract readonly kind: string;
  /**
   * Set when the private part lives in a device (broker, kernel keyring): this
   * object then holds only the public key and the reference; its secret fields
   * are zero. See {@link heldPrivateKey}.
   */
  held?: HeldKeyRef;
  toJSON(): { kind: string; id: number } {
    return { kind: this.kind, id: this.id };
  }
  [redacted](): string {
    return `${this.kind}#${this.id} [redacted]`;
  }
  toString(): string {
    return `${this.kind}#${this.id}`;
  }
}
let nextKeyId = 1;

export interface RsaPublicKeyMaterial {
  readonly kind: 'rsa-public';
  readonly n: bigint;
  readonly e: bigint;
  /** Modulus length in bits (the bit length of n). */
  readonly bits: number;
}

/** One extra prime of a multi-prime RSA key (RFC 8017 OtherPrimeInfo). */
export interface RsaOtherPrime {
  readonly r: bigint;
  readonly d: bigint;
  readonly t: bigint;
}

export class RsaPrivateKeyMaterial extends SecretMaterial {
  readonly kind = 'rsa-private' as const;
  readonly publicKey: RsaPublicKeyMaterial;
  constructor(
    readonly n: bigint,
    readonly e: bigint,
    readonly d: bigint,
    readonly p: bigint,
    readonly q: bigint,
    readonly dp: bigint,
    readonly dq: bigint,
    readonly qi: bigint,
    /** Present only for multi-prime keys (more than two primes). */
    readonly otherPrimes: readonly RsaOtherPrime[] = [],
  ) {
    super();
    this.publicKey = { kind: 'rsa-public', n, e, bits: n.toString(2).length };
  }
  get bits(): number {
    return this.publicKey.bits;
  }
}

export interface EcPublicKeyMaterial {
  readonly kind: 'ec-public';
  readonly curve: EcCurveName;
  readonly x: bigint;
  readonly y: bigint;
}

export class EcPrivateKeyMaterial extends SecretMaterial {
  readonly kind = 'ec-private' as const;
  constructor(
    readonly curve: EcCurveName,
    readonly d: bigint,
    readonly publicKey: EcPublicKeyMaterial,
  ) {
    super();
  }
}

export interface OkpPublicKeyMaterial {
  readonly kind: 'okp-public';
  readonly curve: OkpCurveName;
  /** The 32-byte public key as RFC 8032 / RFC 7748 encode it. */
  readonly x: Uint8Array;
}

export class OkpPrivateKeyMaterial extends SecretMaterial {
  readonly kind = 'okp-private' as const;
  constructor(
    readonly curve: OkpCurveName,
    /** The 32-byte private key (seed for Ed25519, scalar for X25519). */
    readonly d: Uint8Array,
    readonly publicKey: OkpPublicKeyMaterial,
  ) {
    super();
  }
}

export type PublicKeyMaterial = RsaPublicKeyMaterial | EcPublicKeyMaterial | OkpPublicKeyMaterial;
export type PrivateKeyMaterial = RsaPrivateKeyMaterial | EcPrivateKeyMaterial | OkpPrivateKeyMaterial;

/** A freshly generated key pair, as a keygen primitive returns it. */
export type KeyPairMaterial =
  | { readonly kind: 'rsa'; readonly privateKey: RsaPrivateKeyMaterial }
  | { readonly kind: 'ec'; readonly privateKey: EcPrivateKeyMaterial }
  | { readonly kind: 'okp'; readonly privateKey: OkpPrivateKeyMaterial };

/**
 * Device-held keys (COORDINATION.md section 8): a private key whose private part
 * lives in a device (the `broker:` device's broker, a kernel keyring) and never in
 * this process. The request carries the reference; the job queue pins the job to
 * the holding device (`PrimitiveExecutor` option `device`); capabilities without
 * `keyStorage: ['held']` refuse it; subtle's exportKey refuses it (non-extractable).
 */
export interface HeldKeyRef {
  /** `DeviceInfo.id` of the device that holds the private part. */
  readonly device: string;
  /** The device's reference to the key (a broker handle, a keyring serial): opaque to core. */
  readonly handle: string;
  /** Set by the holding device when the key is destroyed or its holder went away. */
  destroyed?: boolean;
}

/**
 * A private-key object carrying only `publicKey` and a device reference: what a
 * `KeyStore` (core/driver/device.ts) returns. Its secret fields are zero.
 */
export function heldPrivateKey(publicKey: PublicKeyMaterial, ref: HeldKeyRef): PrivateKeyMaterial {
  let key: PrivateKeyMaterial;
  if (publicKey.kind === 'rsa-public')
    key = new RsaPrivateKeyMaterial(publicKey.n, publicKey.e, 0n, 0n, 0n, 0n, 0n, 0n);
  else if (publicKey.kind === 'ec-public') key = new EcPrivateKeyMaterial(publicKey.curve, 0n, publicKey);
  else key = new OkpPrivateKeyMaterial(publicKey.curve, new Uint8Array(32), publicKey);
  key.held = ref;
  return key;
}

/** The device reference of a device-held private key, or undefined for key material held here. */
export function heldRefOf(key: unknown): HeldKeyRef | undefined {
  return key instanceof SecretMaterial ? key.held : undefined;
}
