/**
 * Key material as drivers see it. Applications never hold these: they hold key
 * handles (`core/api`), which keep material out of reach. A driver receives the
 * material object inside a request; the object's identity is stable for the key's
 * life, so a driver may cache per key (a WeakMap keyed on the material, a device
 * key slot) without ever copying the material into a place the caller can see.
 *
 * Integers are bigint, big-endian when they travel as bytes (see ./bytes.ts).
 */

/**
 * The NIST Weierstrass curves pkaccel knows (WebCrypto `namedCurve` names); their parameters are in {@link CURVES}.
 *
 * @category Driver contracts
 */
export type EcCurveName = 'P-256' | 'P-384' | 'P-521';
/**
 * The Edwards/Montgomery curves of RFC 8032 and RFC 7748 (octet key pairs, as JOSE calls them):
 * Ed25519 for signatures, X25519 for key agreement.
 *
 * @category Driver contracts
 */
export type OkpCurveName = 'Ed25519' | 'X25519';
export type { HashName } from '../encoding/hashes.js';

/**
 * The RSA modulus sizes pkaccel handles, in bits: the one statement of the limit
 * (OpenSSL's range; node's WebCrypto accepts the same). The algorithms layer
 * checks keys against it and the software device advertises it; a deployment
 * that wants a higher floor sets core/api's `policy`.
 *
 * @category Driver contracts
 */
export const RSA_MODULUS_BITS = {
  /** The smallest modulus accepted, in bits. */
  min: 512,
  /** The largest modulus accepted, in bits. */
  max: 16384,
} as const;

/**
 * Byte length of a field element / scalar on each Weierstrass curve (32, 48, 66).
 *
 * @category Driver contracts
 */
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
  /** What `JSON.stringify` shows of the key: its kind and id, never a secret field. */
  toJSON(): {
    /** The material's kind (`'rsa-private'`, `'ec-private'`, `'okp-private'`). */
    kind: string;
    /** The process-unique key id. */
    id: number;
  } {
    return { kind: this.kind, id: this.id };
  }
  /** What `util.inspect` (console.log) shows: `kind#id [redacted]`. */
  [redacted](): string {
    return `${this.kind}#${this.id} [redacted]`;
  }
  /** `kind#id`, for log lines; carries no key information. */
  toString(): string {
    return `${this.kind}#${this.id}`;
  }
}
let nextKeyId = 1;

/**
 * An RSA public key as drivers receive it.
 *
 * @category Driver contracts
 */
export interface RsaPublicKeyMaterial {
  /** Tells the material kinds apart. */
  readonly kind: 'rsa-public';
  /** The modulus, {@link RSA_MODULUS_BITS} in size. */
  readonly n: bigint;
  /** The public exponent, odd, usually 65537. */
  readonly e: bigint;
  /** Modulus length in bits (the bit length of n). */
  readonly bits: number;
}

/**
 * One extra prime of a multi-prime RSA key (RFC 8017 OtherPrimeInfo).
 *
 * @category Driver contracts
 */
export interface RsaOtherPrime {
  /** The prime factor r_i. */
  readonly r: bigint;
  /** Its CRT exponent d_i = d mod (r_i − 1). */
  readonly d: bigint;
  /** Its CRT coefficient t_i = (r_1·…·r_(i−1))^−1 mod r_i. */
  readonly t: bigint;
}

/**
 * An RSA private key as drivers receive it: RFC 8017's RSAPrivateKey fields, all
 * present (CRT form). Inspecting or serializing it shows only its kind and id. When
 * `held` is set the private part lives in a device and the secret fields are zero.
 *
 * @category Driver contracts
 */
export class RsaPrivateKeyMaterial extends SecretMaterial {
  /** Tells the material kinds apart. */
  readonly kind = 'rsa-private' as const;
  /** The matching public key (n, e); the same object for the key's life. */
  readonly publicKey: RsaPublicKeyMaterial;
  constructor(
    /** The modulus n = p·q. */
    readonly n: bigint,
    /** The public exponent. */
    readonly e: bigint,
    /** The private exponent, d·e ≡ 1 mod λ(n). */
    readonly d: bigint,
    /** The first prime factor. */
    readonly p: bigint,
    /** The second prime factor. */
    readonly q: bigint,
    /** CRT exponent d mod (p − 1). */
    readonly dp: bigint,
    /** CRT exponent d mod (q − 1). */
    readonly dq: bigint,
    /** CRT coefficient q^−1 mod p. */
    readonly qi: bigint,
    /** Present only for multi-prime keys (more than two primes). */
    readonly otherPrimes: readonly RsaOtherPrime[] = [],
  ) {
    super();
    this.publicKey = { kind: 'rsa-public', n, e, bits: n.toString(2).length };
  }
  /** Modulus length in bits (the bit length of n). */
  get bits(): number {
    return this.publicKey.bits;
  }
}

/**
 * An EC public key: an affine point on the curve. Core validates it (on the curve,
 * not the identity) before it reaches a driver.
 *
 * @category Driver contracts
 */
export interface EcPublicKeyMaterial {
  /** Tells the material kinds apart. */
  readonly kind: 'ec-public';
  /** The curve the point is on. */
  readonly curve: EcCurveName;
  /** Affine x-coordinate, in [0, p). */
  readonly x: bigint;
  /** Affine y-coordinate, in [0, p). */
  readonly y: bigint;
}

/**
 * An EC private key as drivers receive it. Inspecting or serializing it shows only
 * its kind and id. When `held` is set the private part lives in a device and `d` is zero.
 *
 * @category Driver contracts
 */
export class EcPrivateKeyMaterial extends SecretMaterial {
  /** Tells the material kinds apart. */
  readonly kind = 'ec-private' as const;
  constructor(
    /** The curve of the key. */
    readonly curve: EcCurveName,
    /** The private scalar, in [1, n) for the curve's group order n. */
    readonly d: bigint,
    /** The matching public point d·G. */
    readonly publicKey: EcPublicKeyMaterial,
  ) {
    super();
  }
}

/**
 * An Ed25519 or X25519 public key.
 *
 * @category Driver contracts
 */
export interface OkpPublicKeyMaterial {
  /** Tells the material kinds apart. */
  readonly kind: 'okp-public';
  /** Which of the two curves (a key is for signing or for key agreement, never both). */
  readonly curve: OkpCurveName;
  /** The 32-byte public key as RFC 8032 / RFC 7748 encode it. */
  readonly x: Uint8Array;
}

/**
 * An Ed25519 or X25519 private key as drivers receive it. Inspecting or serializing
 * it shows only its kind and id.
 *
 * @category Driver contracts
 */
export class OkpPrivateKeyMaterial extends SecretMaterial {
  /** Tells the material kinds apart. */
  readonly kind = 'okp-private' as const;
  constructor(
    /** Which of the two curves. */
    readonly curve: OkpCurveName,
    /** The 32-byte private key (seed for Ed25519, scalar for X25519). */
    readonly d: Uint8Array,
    /** The matching 32-byte public key. */
    readonly publicKey: OkpPublicKeyMaterial,
  ) {
    super();
  }
}

/**
 * Any public key a request may carry; `kind` tells them apart.
 *
 * @category Driver contracts
 */
export type PublicKeyMaterial = RsaPublicKeyMaterial | EcPublicKeyMaterial | OkpPublicKeyMaterial;
/**
 * Any private key a request may carry; `kind` tells them apart, `held` says whether a device holds it.
 *
 * @category Driver contracts
 */
export type PrivateKeyMaterial = RsaPrivateKeyMaterial | EcPrivateKeyMaterial | OkpPrivateKeyMaterial;

/**
 * A freshly generated key pair, as a keygen primitive returns it (the public key is `privateKey.publicKey`).
 *
 * @category Driver contracts
 */
export type KeyPairMaterial =
  | {
      /** An RSA pair (KeygenSpec kind `'rsa'`). */
      readonly kind: 'rsa';
      /** The new private key. */
      readonly privateKey: RsaPrivateKeyMaterial;
    }
  | {
      /** An EC pair (KeygenSpec kind `'ec'`). */
      readonly kind: 'ec';
      /** The new private key. */
      readonly privateKey: EcPrivateKeyMaterial;
    }
  | {
      /** An Ed25519/X25519 pair (KeygenSpec kind `'okp'`). */
      readonly kind: 'okp';
      /** The new private key. */
      readonly privateKey: OkpPrivateKeyMaterial;
    };

/**
 * Device-held keys (COORDINATION.md section 8): a private key whose private part
 * lives in a device (the `broker:` device's broker, a kernel keyring) and never in
 * this process. The request carries the reference; the job queue pins the job to
 * the holding device (`PrimitiveExecutor` option `device`); capabilities without
 * `keyStorage: ['held']` refuse it; subtle's exportKey refuses it (non-extractable).
 *
 * @category Driver contracts
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
 *
 * @category Driver contracts
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

/**
 * The device reference of a device-held private key, or undefined for key material held here.
 *
 * @category Driver contracts
 */
export function heldRefOf(key: unknown): HeldKeyRef | undefined {
  return key instanceof SecretMaterial ? key.held : undefined;
}
