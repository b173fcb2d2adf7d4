/**
 * Primitive → keyctl call and back. Each primitive the kernel does maps to one
 * KEYCTL_PKEY_* call with an info string:
 *   rsa-public   KEYCTL_PKEY_ENCRYPT  enc=raw            (x^e mod n)
 *   rsa-private  KEYCTL_PKEY_DECRYPT  enc=raw            (x^d mod n)
 *   rsa-sign     KEYCTL_PKEY_SIGN     enc=pkcs1 hash=H   (EMSA-PKCS1-v1_5 done in the kernel)
 *   rsa-verify   KEYCTL_PKEY_VERIFY   enc=pkcs1 hash=H
 *   ecdsa-verify KEYCTL_PKEY_VERIFY   enc=x962 hash=H    (signature as DER Ecdsa-Sig-Value)
 * The kernel builds its akcipher from the info string (`pkcs1pad(rsa,sha256)`,
 * bare `rsa`), so the highest-priority implementation it has runs it.
 */

import {
  EC_FIELD_BYTES,
  type EcPublicKeyMaterial,
  type HashName,
  type PrimitiveRequest,
  type PrivateKeyMaterial,
  type PublicKeyMaterial,
} from '../../core/driver/index.js';
import { toHex } from '../../core/encoding/bytes.js';

/** The kernel's hash names. */
export const KERNEL_HASH: Readonly<Record<HashName, string>> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

const HASH_BY_LENGTH: Readonly<Record<number, string>> = {
  20: 'sha1',
  32: 'sha256',
  48: 'sha384',
  64: 'sha512',
};

/** RSA modulus sizes the kernel's rsa takes (crypto/rsa.c: rsa_check_key_length). */
export const KERNEL_RSA_BITS: readonly number[] = [512, 1024, 1536, 2048, 3072, 4096];

/** One keyctl call to make: which operation, on which key, with which info string and operands. */
export interface KeyctlPlan {
  readonly call: 'encrypt' | 'decrypt' | 'sign' | 'verify';
  /** What a refusal of this plan takes away (see KeyringDevice.refuse): e.g. "rsa-sign SHA-256". */
  readonly combination: string;
  readonly info: string;
  readonly input: Uint8Array;
  /** Output length (encrypt/decrypt/sign), or the signature (verify). */
  readonly last: number | Uint8Array;
  /** The key the call uses: a private key (held or inline), or a public key. */
  readonly key: { readonly private: PrivateKeyMaterial } | { readonly public: PublicKeyMaterial };
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

function derUnsigned(bytes: Uint8Array): number[] {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const body = [...bytes.subarray(start)];
  if ((body[0]! & 0x80) !== 0) body.unshift(0);
  return [0x02, ...derLength(body.length), ...body];
}

/** IEEE P1363 r‖s → DER Ecdsa-Sig-Value, as the kernel's x962 encoding takes it. */
export function p1363ToDer(signature: Uint8Array, key: EcPublicKeyMaterial): Uint8Array {
  const size = EC_FIELD_BYTES[key.curve];
  const r = derUnsigned(signature.subarray(0, size));
  const s = derUnsigned(signature.subarray(size, 2 * size));
  return Uint8Array.from([0x30, ...derLength(r.length + s.length), ...r, ...s]);
}

/** The keyctl call for a request, or a reason the kernel cannot do it. */
export function planOf(request: PrimitiveRequest): KeyctlPlan | string {
  switch (request.op) {
    case 'rsa-public': {
      const len = Math.ceil(request.key.bits / 8);
      return {
        call: 'encrypt',
        combination: 'rsa-public',
        info: 'enc=raw',
        input: request.input,
        last: len,
        key: { public: request.key },
      };
    }
    case 'rsa-private':
      return {
        call: 'decrypt',
        combination: 'rsa-private',
        info: 'enc=raw',
        input: request.input,
        last: Math.ceil(request.key.bits / 8),
        key: { private: request.key },
      };
    case 'rsa-sign':
    case 'rsa-verify':
      if (request.padding.scheme !== 'pkcs1-v1_5')
        return 'the kernel pads RSA signatures with PKCS#1 v1.5 only';
      return {
        call: request.op === 'rsa-sign' ? 'sign' : 'verify',
        combination: `${request.op} ${request.padding.hash}`,
        info: `enc=pkcs1 hash=${KERNEL_HASH[request.padding.hash]}`,
        input: request.digest,
        ...(request.op === 'rsa-sign'
          ? { last: Math.ceil(request.key.bits / 8), key: { private: request.key } }
          : { last: request.signature, key: { public: request.key } }),
      };
    case 'ecdsa-verify': {
      const hash = HASH_BY_LENGTH[request.digest.length];
      if (hash === undefined) return `no kernel hash name for a ${request.digest.length}-byte digest`;
      return {
        call: 'verify',
        combination: `ecdsa-verify ${request.key.curve}`,
        info: `enc=x962 hash=${hash}`,
        input: request.digest,
        last: p1363ToDer(request.signature, request.key),
        key: { public: request.key },
      };
    }
    default:
      return `the kernel's keyctl has no ${request.op}`;
  }
}

/** A result the kernel wrote shorter than the modulus, left-padded with zeros. */
export function padTo(bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length >= length) return bytes;
  const out = new Uint8Array(length);
  out.set(bytes, length - bytes.length);
  return out;
}

/** A cache key for a public key (public values only). */
export function publicKeyId(key: PublicKeyMaterial): string {
  if (key.kind === 'rsa-public') return `rsa:${key.e.toString(16)}:${key.n.toString(16)}`;
  if (key.kind === 'ec-public') return `ec:${key.curve}:${key.x.toString(16)}:${key.y.toString(16)}`;
  return `okp:${key.curve}:${toHex(key.x)}`;
}
