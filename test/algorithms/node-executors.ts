/**
 * Test executors over node:crypto (OpenSSL), so that what the algorithms layer
 * composes is checked against an independent implementation:
 * - `rawExecutor`: only raw primitives (rsa-private, rsa-public, ec-mul), as a
 *   card that does modular exponentiation and point multiplication;
 * - `paddingExecutor`: only the device-level ones (rsa-sign, rsa-verify,
 *   rsa-encrypt, rsa-decrypt, ecdsa-sign, ecdsa-verify, ecdh, eddsa, x25519, keygen).
 * Node signs only whole messages, so the device-level executor finds the message
 * behind a digest in a registry the test fills (`know`).
 */

import {
  constants,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  generatePrimeSync,
  type JsonWebKey,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  sign,
  verify,
} from 'node:crypto';
import { expect } from 'vitest';
import type { Alternative, AlternativeResult, PrimitiveExecutor } from '../../core/driver/device.js';
import {
  bigintToBytes,
  bytesToBigint,
  CURVES,
  type EcPrivateKeyMaterial,
  type EcPublicKeyMaterial,
  type HashName,
  type KeyPairMaterial,
  type OkpCurveName,
  OkpPrivateKeyMaterial,
  type OkpPublicKeyMaterial,
  type PrimitiveOp,
  type PrimitiveRequest,
  type PrimitiveValue,
  type ResultOf,
  RsaPrivateKeyMaterial,
  type RsaPublicKeyMaterial,
  UnsupportedError,
} from '../../core/driver/index.js';
import { NODE_HASH } from '../../core/encoding/hashes.js';
import { ecMultiply } from '../../core/math/ec.js';
import { modInv } from '../../core/math/modular.js';
import { ecMaterial, NODE_CURVE, newEcKey, newRsaKey, rsaMaterial, x25519ByNode } from '../support/keys.js';

export { NODE_CURVE, NODE_HASH };
export const HASHES: HashName[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];

const b64 = (v: bigint, len?: number) =>
  Buffer.from(bigintToBytes(v, len ?? Math.ceil(v.toString(16).length / 2))).toString('base64url');

// ---- key material <-> node KeyObjects -------------------------------------------------------

export { newRsaKey as generateRsa, rsaMaterial as rsaMaterialFromNode };

/**
 * A two-prime key of exactly `bits` bits built from node's primes (OpenSSL's
 * generator rounds odd sizes such as 2049 down). OpenSSL sets the top two bits
 * of each prime, so primes of ⌈bits/2⌉ and ⌊bits/2⌋ bits give exactly `bits`.
 */
export function generateRsaExactBits(bits: number) {
  const e = 65537n;
  for (let attempt = 0; attempt < 20; attempt++) {
    const p = generatePrimeSync(Math.ceil(bits / 2), { bigint: true });
    const q = generatePrimeSync(Math.floor(bits / 2), { bigint: true });
    const n = p * q;
    if (n.toString(2).length !== bits || p === q) continue;
    let d: bigint;
    try {
      d = modInv(e, (p - 1n) * (q - 1n));
    } catch {
      continue;
    }
    const material = new RsaPrivateKeyMaterial(n, e, d, p, q, d % (p - 1n), d % (q - 1n), modInv(q, p));
    return {
      material,
      privateKey: rsaPrivateKeyObject(material),
      publicKey: rsaPublicKeyObject(material.publicKey),
    };
  }
  throw new Error(`could not build a ${bits}-bit RSA key`);
}

export function rsaPrivateKeyObject(key: RsaPrivateKeyMaterial): KeyObject {
  const jwk: JsonWebKey = {
    kty: 'RSA',
    n: b64(key.n),
    e: b64(key.e),
    d: b64(key.d),
    p: b64(key.p),
    q: b64(key.q),
    dp: b64(key.dp),
    dq: b64(key.dq),
    qi: b64(key.qi),
  };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

export function rsaPublicKeyObject(key: RsaPublicKeyMaterial): KeyObject {
  return createPublicKey({ key: { kty: 'RSA', n: b64(key.n), e: b64(key.e) }, format: 'jwk' });
}

export { ecMaterial as ecMaterialFromNode, newEcKey as generateEc };

export function ecPublicKeyObject(key: EcPublicKeyMaterial): KeyObject {
  const len = CURVES[key.curve].bytes;
  return createPublicKey({
    key: { kty: 'EC', crv: key.curve, x: b64(key.x, len), y: b64(key.y, len) },
    format: 'jwk',
  });
}

export function ecPrivateKeyObject(key: EcPrivateKeyMaterial): KeyObject {
  const len = CURVES[key.curve].bytes;
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: key.curve,
      d: b64(key.d, len),
      x: b64(key.publicKey.x, len),
      y: b64(key.publicKey.y, len),
    },
    format: 'jwk',
  });
}

export function okpMaterialFromNode(privateKey: KeyObject, curve: OkpCurveName): OkpPrivateKeyMaterial {
  const j = privateKey.export({ format: 'jwk' });
  const x = new Uint8Array(Buffer.from(j.x!, 'base64url'));
  return new OkpPrivateKeyMaterial(curve, new Uint8Array(Buffer.from(j.d!, 'base64url')), {
    kind: 'okp-public',
    curve,
    x,
  });
}

export function generateOkp(curve: OkpCurveName) {
  const { privateKey, publicKey } =
    curve === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519');
  return { privateKey, publicKey, material: okpMaterialFromNode(privateKey, curve) };
}

function okpPrivateKeyObject(key: OkpPrivateKeyMaterial): KeyObject {
  return createPrivateKey({
    key: {
      kty: 'OKP',
      crv: key.curve,
      d: Buffer.from(key.d).toString('base64url'),
      x: Buffer.from(key.publicKey.x).toString('base64url'),
    },
    format: 'jwk',
  });
}

function okpPublicKeyObject(key: OkpPublicKeyMaterial): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: key.curve, x: Buffer.from(key.x).toString('base64url') },
    format: 'jwk',
  });
}

// ---- executors --------------------------------------------------------------------------------

type Handlers = { [O in PrimitiveOp]?: (request: Extract<PrimitiveRequest, { op: O }>) => PrimitiveValue };

export interface TestExecutor extends PrimitiveExecutor {
  readonly name: string;
  /** Every op that ran, in order. */
  readonly ran: PrimitiveOp[];
}

export function makeExecutor(name: string, handlers: Handlers): TestExecutor {
  const ran: PrimitiveOp[] = [];
  const runOne = (request: PrimitiveRequest): PrimitiveValue => {
    const handler = handlers[request.op] as ((r: PrimitiveRequest) => PrimitiveValue) | undefined;
    if (!handler) throw new UnsupportedError(`${name} does not do ${request.op}`);
    ran.push(request.op);
    return handler(request);
  };
  return {
    name,
    ran,
    supports: (request) => handlers[request.op] !== undefined,
    async run<R extends PrimitiveRequest>(
      request: R,
      options?: { signal?: AbortSignal },
    ): Promise<ResultOf<R>> {
      options?.signal?.throwIfAborted();
      return runOne(request) as ResultOf<R>;
    },
    async runFirst(
      alternatives: readonly Alternative[],
      options?: { signal?: AbortSignal },
    ): Promise<AlternativeResult> {
      options?.signal?.throwIfAborted();
      for (const [index, alt] of alternatives.entries()) {
        const probe = 'probe' in alt ? alt.probe : alt;
        if (handlers[probe.op] === undefined) continue;
        const request = 'probe' in alt ? alt.build() : alt;
        return { index, value: runOne(request), device: name };
      }
      throw new UnsupportedError(`${name} can do none of ${alternatives.length} alternatives`);
    },
  };
}

export const rawHandlers: Handlers = {
  'rsa-private': (r) =>
    new Uint8Array(
      privateDecrypt({ key: rsaPrivateKeyObject(r.key), padding: constants.RSA_NO_PADDING }, r.input),
    ),
  'rsa-public': (r) =>
    new Uint8Array(
      publicEncrypt({ key: rsaPublicKeyObject(r.key), padding: constants.RSA_NO_PADDING }, r.input),
    ),
  'ec-mul': (r) => {
    const curve = CURVES[r.curve];
    const k = typeof r.scalar === 'bigint' ? r.scalar : r.scalar.d;
    if (r.point !== undefined) {
      // Node has no point multiplication returning y; core/math is checked against node in test/math.
      return ecMultiply(curve, k, r.point)!;
    }
    const ecdh = createECDH(NODE_CURVE[r.curve]);
    ecdh.setPrivateKey(bigintToBytes(k, curve.bytes));
    const pub = ecdh.getPublicKey();
    return {
      x: bytesToBigint(pub.subarray(1, 1 + curve.bytes)),
      y: bytesToBigint(pub.subarray(1 + curve.bytes)),
    };
  },
};

export function rawExecutor(name = 'raw-card'): TestExecutor {
  return makeExecutor(name, rawHandlers);
}

/** Messages the device-level executor may be asked to sign or verify a digest of. */
export class MessageRegistry {
  private readonly entries: { message: Uint8Array; hash: HashName; digest: Buffer }[] = [];
  know(message: Uint8Array): Uint8Array {
    for (const hash of HASHES) {
      this.entries.push({ message, hash, digest: createHash(NODE_HASH[hash]).update(message).digest() });
    }
    return message;
  }
  /** The message and hash behind `digest`, allowing ECDSA's truncation to `orderBits`. */
  find(digest: Uint8Array, orderBits?: number): { message: Uint8Array; hash: HashName } {
    for (const entry of this.entries) {
      let d: Uint8Array = entry.digest;
      if (orderBits !== undefined && 8 * d.length > orderBits) {
        const e = bytesToBigint(d) >> BigInt(8 * d.length - orderBits);
        d = bigintToBytes(e, Math.ceil(orderBits / 8));
      }
      if (Buffer.from(d).equals(digest)) return entry;
    }
    throw new Error('test registry: digest of an unknown message');
  }
}

function rsaPaddingOptions(padding: { scheme: 'pkcs1-v1_5' | 'pss'; saltLength?: number }) {
  return padding.scheme === 'pss'
    ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: padding.saltLength }
    : { padding: constants.RSA_PKCS1_PADDING };
}

function keyPairFromNode(spec: Extract<PrimitiveRequest, { op: 'keygen' }>['spec']): KeyPairMaterial {
  if (spec.kind === 'rsa') {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: spec.bits,
      publicExponent: Number(spec.publicExponent),
    });
    return { kind: 'rsa', privateKey: rsaMaterial(privateKey) };
  }
  if (spec.kind === 'ec') return { kind: 'ec', privateKey: newEcKey(spec.curve).material };
  return { kind: 'okp', privateKey: generateOkp(spec.curve).material };
}

export function paddingHandlers(registry: MessageRegistry): Handlers {
  return {
    'rsa-sign': (r) => {
      const { message, hash } = registry.find(r.digest);
      return new Uint8Array(
        sign(NODE_HASH[hash], message, { key: rsaPrivateKeyObject(r.key), ...rsaPaddingOptions(r.padding) }),
      );
    },
    'rsa-verify': (r) => {
      const { message, hash } = registry.find(r.digest);
      return verify(
        NODE_HASH[hash],
        message,
        { key: rsaPublicKeyObject(r.key), ...rsaPaddingOptions(r.padding) },
        r.signature,
      );
    },
    'rsa-encrypt': (r) =>
      new Uint8Array(
        publicEncrypt(
          {
            key: rsaPublicKeyObject(r.key),
            padding: constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: NODE_HASH[r.padding.hash],
            oaepLabel: r.padding.label,
          },
          r.input,
        ),
      ),
    'rsa-decrypt': (r) =>
      new Uint8Array(
        privateDecrypt(
          {
            key: rsaPrivateKeyObject(r.key),
            padding: constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: NODE_HASH[r.padding.hash],
            oaepLabel: r.padding.label,
          },
          r.input,
        ),
      ),
    'ecdsa-sign': (r) => {
      const { message, hash } = registry.find(r.digest, CURVES[r.key.curve].orderBits);
      return new Uint8Array(
        sign(NODE_HASH[hash], message, { key: ecPrivateKeyObject(r.key), dsaEncoding: 'ieee-p1363' }),
      );
    },
    'ecdsa-verify': (r) => {
      const { message, hash } = registry.find(r.digest, CURVES[r.key.curve].orderBits);
      return verify(
        NODE_HASH[hash],
        message,
        { key: ecPublicKeyObject(r.key), dsaEncoding: 'ieee-p1363' },
        r.signature,
      );
    },
    ecdh: (r) =>
      new Uint8Array(
        diffieHellman({ privateKey: ecPrivateKeyObject(r.key), publicKey: ecPublicKeyObject(r.peer) }),
      ),
    'eddsa-sign': (r) => new Uint8Array(sign(null, r.message, okpPrivateKeyObject(r.key))),
    'eddsa-verify': (r) => verify(null, r.message, okpPublicKeyObject(r.key), r.signature),
    x25519: (r) => x25519ByNode(r.key, r.peer),
    keygen: (r) => keyPairFromNode(r.spec),
  };
}

export function paddingExecutor(registry: MessageRegistry, name = 'padding-card'): TestExecutor {
  return makeExecutor(name, paddingHandlers(registry));
}

/** Flip one bit of a byte string (a faulty device's result). */
export function corrupt(bytes: Uint8Array, bit = 0): Uint8Array {
  const out = bytes.slice();
  out[out.length - 1 - (bit >> 3)]! ^= 1 << (bit & 7);
  return out;
}

export function vectorsDir(): string {
  return (
    process.env.PKACCEL_VECTORS ?? new URL('../../../shared/vectors/wycheproof', import.meta.url).pathname
  );
}

/**
 * A Wycheproof run's check of each case by its result (`valid`: `onValid`,
 * `invalid`: `onInvalid`; `acceptable` cases are left alone), counting both;
 * `done()` fails unless both kinds were seen (a run that checked nothing).
 */
export function wycheproofCases(): {
  check(test: { readonly result: string }, onValid: () => void, onInvalid: () => void): void;
  done(): void;
} {
  let valid = 0;
  let invalid = 0;
  return {
    check(test, onValid, onInvalid) {
      if (test.result === 'valid') {
        onValid();
        valid++;
      } else if (test.result === 'invalid') {
        onInvalid();
        invalid++;
      }
    },
    done() {
      expect(valid).toBeGreaterThan(0);
      expect(invalid).toBeGreaterThan(0);
    },
  };
}
