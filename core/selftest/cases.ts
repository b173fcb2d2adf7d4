/**
 * Known-answer cases at the primitive level: each vector of vectors/kat.json
 * turned into the primitive requests a device may be asked (raw RSA, RSA with
 * device padding, ECDSA verify, ECDH / EC scalar multiplication, X25519, EdDSA),
 * each with the answer it must give. A device is tested with the cases its
 * capability list covers. Verdict ops get a negative case too (a corrupted
 * signature must be rejected), so a card that answers "valid" to everything fails.
 *
 * ECDSA signing is randomised, so it has no fixed answer: its cases sign a digest
 * with the private key of an ECDH vector and check the signature with node:crypto.
 */

import { createPrivateKey, verify as nodeVerify } from 'node:crypto';
import { bytesToBigint } from '../driver/bytes.js';
import type {
  EcPrivateKeyMaterial,
  EcPublicKeyMaterial,
  OkpPrivateKeyMaterial,
  OkpPublicKeyMaterial,
  RsaPrivateKeyMaterial,
  RsaPublicKeyMaterial,
} from '../driver/keys.js';
import { EC_FIELD_BYTES } from '../driver/keys.js';
import type { EcPoint, PrimitiveRequest, PrimitiveValue } from '../driver/primitives.js';
import { constantTimeEqual } from '../encoding/bytes.js';
import { digest } from '../encoding/digest.js';
import { emsaPkcs1v15Encode } from '../encoding/emsa-pkcs1v15.js';
import { importKeyMaterial, type KeySpec } from '../key-formats/index.js';
import type { KatVector } from './vectors.js';

/** One primitive request and the check of its result. */
export interface KnownAnswerCase {
  /** The vector's id and what this case does with it, e.g. `rsa2048-raw/rsa-private`. */
  readonly id: string;
  readonly request: PrimitiveRequest;
  /** Undefined when the value is right, else what is wrong with it. */
  check(value: PrimitiveValue): string | undefined;
}

const fromHex = (hex: string | undefined): Uint8Array => Uint8Array.from(Buffer.from(hex ?? '', 'hex'));

function flipped(data: Uint8Array): Uint8Array {
  const out = Uint8Array.from(data);
  const i = out.length >> 1;
  out[i] = (out[i] ?? 0) ^ 1;
  return out;
}

function expectBytes(expected: Uint8Array, what: string): (value: PrimitiveValue) => string | undefined {
  return (value) =>
    value instanceof Uint8Array && value.length === expected.length && constantTimeEqual(value, expected)
      ? undefined
      : `${what} differs from the known answer`;
}

function expectVerdict(expected: boolean): (value: PrimitiveValue) => string | undefined {
  return (value) =>
    value === expected ? undefined : `verdict ${String(value)}, expected ${String(expected)}`;
}

const ATTRS = { extractable: true, usages: [] as string[] };

function imported(format: 'spki' | 'pkcs8', hex: string | undefined, spec: KeySpec) {
  return importKeyMaterial(format, fromHex(hex), spec, ATTRS).material;
}

const RSA_SPEC: KeySpec = { family: 'rsa', name: 'RSA-RAW', hash: undefined };

function casesOf(v: KatVector): KnownAnswerCase[] {
  const out: KnownAnswerCase[] = [];
  const add = (what: string, request: PrimitiveRequest, check: KnownAnswerCase['check']): void => {
    out.push({ id: `${v.id}/${what}`, request, check });
  };
  /** A verification that accepts the known signature, and refuses it with one bit flipped. */
  const addVerify = (what: string, request: Extract<PrimitiveRequest, { signature: Uint8Array }>): void => {
    add(what, request, expectVerdict(true));
    add(`${what}-corrupted`, { ...request, signature: flipped(request.signature) }, expectVerdict(false));
  };
  switch (v.kind) {
    case 'rsa-raw': {
      const pub = imported('spki', v.spki, RSA_SPEC) as RsaPublicKeyMaterial;
      const priv = imported('pkcs8', v.pkcs8, RSA_SPEC) as RsaPrivateKeyMaterial;
      const input = fromHex(v.input);
      const output = fromHex(v.output);
      add('rsa-public', { op: 'rsa-public', key: pub, input }, expectBytes(output, 'public-key result'));
      add(
        'rsa-private',
        { op: 'rsa-private', key: priv, input: output },
        expectBytes(input, 'private-key result'),
      );
      return out;
    }
    case 'rsa-pkcs1-sign': {
      const hash = v.hash ?? 'SHA-256';
      const pub = imported('spki', v.spki, RSA_SPEC) as RsaPublicKeyMaterial;
      const priv = imported('pkcs8', v.pkcs8, RSA_SPEC) as RsaPrivateKeyMaterial;
      const mHash = digest(hash, fromHex(v.msg));
      const sig = fromHex(v.sig);
      const em = emsaPkcs1v15Encode(hash, mHash, sig.length);
      const padding = { scheme: 'pkcs1-v1_5', hash } as const;
      add('rsa-sign', { op: 'rsa-sign', key: priv, padding, digest: mHash }, expectBytes(sig, 'signature'));
      add('rsa-private', { op: 'rsa-private', key: priv, input: em }, expectBytes(sig, 'signature'));
      add('rsa-public', { op: 'rsa-public', key: pub, input: sig }, expectBytes(em, 'opened signature'));
      addVerify('rsa-verify', { op: 'rsa-verify', key: pub, padding, digest: mHash, signature: sig });
      return out;
    }
    case 'rsa-pss-verify': {
      const hash = v.hash ?? 'SHA-256';
      const pub = imported('spki', v.spki, RSA_SPEC) as RsaPublicKeyMaterial;
      const mHash = digest(hash, fromHex(v.msg));
      const sig = fromHex(v.sig);
      const padding = { scheme: 'pss', hash, mgfHash: hash, saltLength: v.saltLength ?? 0 } as const;
      addVerify('rsa-verify', { op: 'rsa-verify', key: pub, padding, digest: mHash, signature: sig });
      return out;
    }
    case 'rsa-oaep-decrypt': {
      const hash = v.hash ?? 'SHA-256';
      const priv = imported('pkcs8', v.pkcs8, RSA_SPEC) as RsaPrivateKeyMaterial;
      const padding = { scheme: 'oaep', hash, mgfHash: hash, label: fromHex(v.label) } as const;
      add(
        'rsa-decrypt',
        { op: 'rsa-decrypt', key: priv, padding, input: fromHex(v.ct) },
        expectBytes(fromHex(v.msg), 'plaintext'),
      );
      return out;
    }
    case 'ecdsa-verify': {
      if (v.format !== 'p1363' || v.curve === undefined) return out;
      const curve = v.curve;
      const pub = imported('spki', v.spki, { family: 'ec', name: 'ECDSA', curve }) as EcPublicKeyMaterial;
      let mHash = digest(v.hash ?? 'SHA-256', fromHex(v.msg));
      // Truncated to the order's length (P-256 and P-384 orders are whole bytes; P-521's exceeds every hash).
      if (mHash.length > EC_FIELD_BYTES[curve]) mHash = mHash.slice(0, EC_FIELD_BYTES[curve]);
      const sig = fromHex(v.sig);
      addVerify('ecdsa-verify', { op: 'ecdsa-verify', key: pub, digest: mHash, signature: sig });
      return out;
    }
    case 'ecdh': {
      if (v.curve === undefined) return out;
      const curve = v.curve;
      const priv = imported('pkcs8', v.pkcs8, { family: 'ec', name: 'ECDH', curve }) as EcPrivateKeyMaterial;
      const peer = imported('spki', v.peerSpki, { family: 'ec', name: 'ECDH', curve }) as EcPublicKeyMaterial;
      const shared = fromHex(v.shared);
      add('ecdh', { op: 'ecdh', key: priv, peer }, expectBytes(shared, 'shared secret'));
      const x = bytesToBigint(shared);
      add('ec-mul', { op: 'ec-mul', curve, scalar: priv, point: { x: peer.x, y: peer.y } }, (value) => {
        const point = value as EcPoint;
        return typeof point === 'object' && point !== null && 'x' in point && point.x === x
          ? undefined
          : 'scalar multiple differs from the known answer';
      });
      // ECDSA signing has no fixed answer: sign with this key and check with OpenSSL.
      const signer = createPrivateKey({ key: Buffer.from(fromHex(v.pkcs8)), format: 'der', type: 'pkcs8' });
      const message = new TextEncoder().encode(`pkaccel self-test ${v.id}`);
      const mHash = digest('SHA-256', message);
      add('ecdsa-sign', { op: 'ecdsa-sign', key: priv, digest: mHash }, (value) =>
        value instanceof Uint8Array &&
        nodeVerify('sha256', message, { key: signer, dsaEncoding: 'ieee-p1363' }, value)
          ? undefined
          : 'the signature does not verify',
      );
      return out;
    }
    case 'x25519': {
      const priv = imported('pkcs8', v.pkcs8, { family: 'okp', name: 'X25519' }) as OkpPrivateKeyMaterial;
      const peer = imported('spki', v.peerSpki, { family: 'okp', name: 'X25519' }) as OkpPublicKeyMaterial;
      add(
        'x25519',
        { op: 'x25519', key: priv, peer: peer.x },
        expectBytes(fromHex(v.shared), 'shared secret'),
      );
      return out;
    }
    case 'ed25519-sign': {
      const priv = imported('pkcs8', v.pkcs8, { family: 'okp', name: 'Ed25519' }) as OkpPrivateKeyMaterial;
      const pub = imported('spki', v.spki, { family: 'okp', name: 'Ed25519' }) as OkpPublicKeyMaterial;
      const msg = fromHex(v.msg);
      const sig = fromHex(v.sig);
      add('eddsa-sign', { op: 'eddsa-sign', key: priv, message: msg }, expectBytes(sig, 'signature'));
      addVerify('eddsa-verify', { op: 'eddsa-verify', key: pub, message: msg, signature: sig });
      return out;
    }
  }
}

const built = new WeakMap<readonly KatVector[], readonly KnownAnswerCase[]>();

/** Every primitive case of the vectors (built once per vector list: key parsing costs). */
export function knownAnswerCases(vectors: readonly KatVector[]): readonly KnownAnswerCase[] {
  let cases = built.get(vectors);
  if (cases === undefined) {
    cases = vectors.flatMap(casesOf);
    built.set(vectors, cases);
  }
  return cases;
}
