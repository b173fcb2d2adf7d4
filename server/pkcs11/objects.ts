/**
 * The token's objects: each named RSA or EC key of the broker becomes a private
 * key object and a public key object with the same CKA_ID and CKA_LABEL (libp11
 * reads EC_POINT from the public object of the private key's ID). Handles are
 * fixed by the key's place in the named-key list: 2i+1 private, 2i+2 public.
 *
 * Attribute values are held in the encoding the client reads (p11-kit's value
 * types); private values are listed as `sensitive` and never leave the broker.
 * Ed25519/X25519 named keys are not served (p11-kit 0.24 forwards no EdDSA
 * mechanism); the broker's own `broker:` clients still use them.
 */

import { bigintToBytes } from '../../core/encoding/bytes.js';
import { digest } from '../../core/encoding/digest.js';
import { derOctetString, derOid } from '../../core/key-formats/der.js';
import { CURVE_OID, ecToRaw } from '../../core/key-formats/ec.js';
import type { EcPrivateKeyMaterial, RsaPrivateKeyMaterial } from '../../index.js';
import type { NamedKey } from '../named-keys.js';
import type { AttributeValue } from './codec.js';
import { CKA, CKK, CKO } from './constants.js';

/** An attribute the object has: its value, or `sensitive` (exists, never readable). */
export type ObjectAttribute = AttributeValue | 'sensitive';

export interface TokenObject {
  readonly handle: number;
  readonly key: NamedKey;
  readonly material: RsaPrivateKeyMaterial | EcPrivateKeyMaterial;
  readonly isPrivate: boolean;
  readonly attributes: ReadonlyMap<number, ObjectAttribute>;
}

const bool = (v: boolean): AttributeValue => ({ kind: 'byte', value: v ? 1 : 0 });
const ulong = (v: number): AttributeValue => ({ kind: 'ulong', value: v });
const bytes = (v: Uint8Array): AttributeValue => ({ kind: 'bytes', value: v });

function unsigned(v: bigint): Uint8Array {
  const length = Math.max(1, Math.ceil(v.toString(16).length / 2));
  return bigintToBytes(v, length);
}

/** The key's CKA_ID: SHA-1 of its public value (modulus, or the EC point), as OpenSC makes it. */
function keyId(material: RsaPrivateKeyMaterial | EcPrivateKeyMaterial): Uint8Array {
  const pub = material.kind === 'rsa-private' ? unsigned(material.publicKey.n) : ecToRaw(material.publicKey);
  return digest('SHA-1', pub);
}

function objectsOf(key: NamedKey, index: number): TokenObject[] {
  const material = key.material;
  if (material.kind !== 'rsa-private' && material.kind !== 'ec-private') return [];
  const common = (isPrivate: boolean): [number, ObjectAttribute][] => [
    [CKA.CLASS, ulong(isPrivate ? CKO.PRIVATE_KEY : CKO.PUBLIC_KEY)],
    [CKA.TOKEN, bool(true)],
    [CKA.PRIVATE, bool(isPrivate)],
    [CKA.MODIFIABLE, bool(false)],
    [CKA.COPYABLE, bool(false)],
    [CKA.DESTROYABLE, bool(false)],
    [CKA.LABEL, bytes(Buffer.from(key.name, 'utf8'))],
    [CKA.ID, bytes(keyId(material))],
    [CKA.KEY_TYPE, ulong(material.kind === 'rsa-private' ? CKK.RSA : CKK.EC)],
    [CKA.LOCAL, bool(false)],
    [CKA.DERIVE, bool(false)],
    [CKA.SUBJECT, bytes(new Uint8Array(0))],
  ];
  const rsa = material.kind === 'rsa-private';
  const shape: [number, ObjectAttribute][] = rsa
    ? [
        [CKA.MODULUS, bytes(unsigned(material.publicKey.n))],
        [CKA.PUBLIC_EXPONENT, bytes(unsigned(material.publicKey.e))],
        [CKA.MODULUS_BITS, ulong(material.publicKey.bits)],
      ]
    : [[CKA.EC_PARAMS, bytes(derOid(CURVE_OID[material.curve]))]];
  const privateOnly: [number, ObjectAttribute][] = [
    [CKA.SENSITIVE, bool(true)],
    [CKA.ALWAYS_SENSITIVE, bool(true)],
    [CKA.EXTRACTABLE, bool(false)],
    [CKA.NEVER_EXTRACTABLE, bool(true)],
    [CKA.ALWAYS_AUTHENTICATE, bool(false)],
    [CKA.SIGN, bool(true)],
    [CKA.SIGN_RECOVER, bool(false)],
    [CKA.DECRYPT, bool(rsa)],
    [CKA.UNWRAP, bool(false)],
    ...(rsa
      ? [CKA.PRIVATE_EXPONENT, CKA.PRIME_1, CKA.PRIME_2, CKA.EXPONENT_1, CKA.EXPONENT_2, CKA.COEFFICIENT]
      : [CKA.VALUE]
    ).map((t): [number, ObjectAttribute] => [t, 'sensitive']),
  ];
  const publicOnly: [number, ObjectAttribute][] = [
    [CKA.VERIFY, bool(true)],
    [CKA.VERIFY_RECOVER, bool(false)],
    [CKA.ENCRYPT, bool(false)],
    [CKA.WRAP, bool(false)],
    ...(rsa
      ? []
      : [[CKA.EC_POINT, bytes(derOctetString(ecToRaw(material.publicKey)))] as [number, ObjectAttribute]]),
  ];
  return [
    {
      handle: 2 * index + 1,
      key,
      material,
      isPrivate: true,
      attributes: new Map([...common(true), ...shape, ...privateOnly]),
    },
    {
      handle: 2 * index + 2,
      key,
      material,
      isPrivate: false,
      attributes: new Map([...common(false), ...shape, ...publicOnly]),
    },
  ];
}

/** Every object of the token, in handle order. */
export function tokenObjects(keys: readonly NamedKey[]): TokenObject[] {
  return keys.flatMap((key, i) => objectsOf(key, i));
}

/** The attribute's C length as the client sizes it: 1 for a CK_BBOOL, 8 for a CK_ULONG, the byte count otherwise. */
export function cLength(value: AttributeValue): number {
  switch (value.kind) {
    case 'byte':
      return 1;
    case 'ulong':
      return 8;
    case 'bytes':
      return value.value?.length ?? 0;
    case 'attributes':
      // sizeof(CK_ATTRIBUTE) on LP64: type, pointer, length.
      return 24 * value.value.length;
    case 'mechanisms':
      return 8 * (value.value?.length ?? 0);
  }
}

/** Whether a template attribute matches the object's (absent or sensitive attributes never match). */
export function attributeMatches(
  have: ObjectAttribute | undefined,
  want: AttributeValue | undefined,
): boolean {
  if (have === undefined || have === 'sensitive' || want === undefined) return false;
  if (have.kind === 'bytes' && want.kind === 'bytes')
    return Buffer.from(have.value ?? []).equals(Buffer.from(want.value ?? []));
  if ((have.kind === 'byte' || have.kind === 'ulong') && have.kind === want.kind)
    return have.value === want.value;
  return false;
}
