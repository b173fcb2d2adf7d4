/**
 * The workloads of `pkaccel speed` and `pkaccel stats`, named like openssl
 * speed's (rsa2048, ecdsap256, ecdhp256, ed25519…). Each times the private-key
 * operation (sign or derive) through a WebCrypto-shaped `subtle`, on one key
 * made by node:crypto and imported into every provider, so all providers do
 * the same work. The first result of every provider is checked against
 * node:crypto before any timing counts.
 */

import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  verify,
} from 'node:crypto';

/** The part of SubtleCrypto the workloads use; pkaccel's `subtle` and node's `crypto.subtle` both have it. */
export interface SubtleLike {
  importKey(
    format: 'pkcs8' | 'spki',
    keyData: Uint8Array,
    algorithm: { name: string },
    extractable: boolean,
    usages: string[],
  ): Promise<unknown>;
  sign(algorithm: { name: string }, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
  deriveBits(
    algorithm: { name: string; public: unknown },
    key: unknown,
    length: number,
  ): Promise<ArrayBuffer>;
}

/** One key (and, for key agreement, a peer's public key) as DER, shared by every provider. */
export interface WorkloadKeys {
  readonly pkcs8: Uint8Array;
  readonly spki: Uint8Array;
  readonly peerSpki?: Uint8Array;
}

/** A prepared operation: run it as often as you like; `check` says whether a result is right. */
export interface PreparedOperation {
  run(): Promise<ArrayBuffer>;
  check(result: ArrayBuffer): boolean;
}

export interface SpeedAlgorithm {
  readonly name: string;
  readonly label: string;
  readonly operation: 'sign' | 'derive';
  generateKeys(): WorkloadKeys;
  prepare(subtle: SubtleLike, keys: WorkloadKeys): Promise<PreparedOperation>;
}

const MESSAGE = randomBytes(64);

function der(pair: { privateKey: KeyObject; publicKey: KeyObject }): { pkcs8: Uint8Array; spki: Uint8Array } {
  return {
    pkcs8: pair.privateKey.export({ format: 'der', type: 'pkcs8' }),
    spki: pair.publicKey.export({ format: 'der', type: 'spki' }),
  };
}

const publicKeyOf = (spki: Uint8Array) =>
  createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });

function signer(
  name: string,
  label: string,
  algorithm: { name: string } & Record<string, unknown>,
  generate: () => { privateKey: KeyObject; publicKey: KeyObject },
  nodeVerify: (spki: Uint8Array, signature: Uint8Array) => boolean,
): SpeedAlgorithm {
  return {
    name,
    label,
    operation: 'sign',
    generateKeys: () => der(generate()),
    async prepare(subtle, keys) {
      const key = await subtle.importKey('pkcs8', keys.pkcs8, algorithm, false, ['sign']);
      return {
        run: () => subtle.sign(algorithm, key, MESSAGE),
        check: (result) => nodeVerify(keys.spki, new Uint8Array(result)),
      };
    },
  };
}

function rsa(bits: number): SpeedAlgorithm {
  return signer(
    `rsa${bits}`,
    `RSA-${bits} sign (PKCS#1 v1.5, SHA-256)`,
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    () => generateKeyPairSync('rsa', { modulusLength: bits }),
    (spki, sig) => verify('sha256', MESSAGE, publicKeyOf(spki), sig),
  );
}

function ecdsa(curve: 'P-256' | 'P-384' | 'P-521', hash: 'SHA-256' | 'SHA-384' | 'SHA-512'): SpeedAlgorithm {
  return signer(
    `ecdsa${curve.replace('-', '').toLowerCase()}`,
    `ECDSA ${curve} sign (${hash})`,
    { name: 'ECDSA', namedCurve: curve, hash },
    () => generateKeyPairSync('ec', { namedCurve: curve }),
    (spki, sig) =>
      verify(
        hash.replace('-', '').toLowerCase(),
        MESSAGE,
        { key: publicKeyOf(spki), dsaEncoding: 'ieee-p1363' },
        sig,
      ),
  );
}

function agreement(
  name: string,
  label: string,
  algorithm: { name: string } & Record<string, unknown>,
  bits: number,
  generate: () => { privateKey: KeyObject; publicKey: KeyObject },
): SpeedAlgorithm {
  return {
    name,
    label,
    operation: 'derive',
    generateKeys: () => ({ ...der(generate()), peerSpki: der(generate()).spki }),
    async prepare(subtle, keys) {
      const own = await subtle.importKey('pkcs8', keys.pkcs8, algorithm, false, ['deriveBits']);
      const peer = await subtle.importKey('spki', keys.peerSpki!, algorithm, true, []);
      const expected = diffieHellman({
        privateKey: createPrivateKey({ key: Buffer.from(keys.pkcs8), format: 'der', type: 'pkcs8' }),
        publicKey: publicKeyOf(keys.peerSpki!),
      });
      return {
        run: () => subtle.deriveBits({ name: algorithm.name, public: peer }, own, bits),
        check: (result) => Buffer.from(result).equals(expected.subarray(0, bits / 8)),
      };
    },
  };
}

function ecdh(curve: 'P-256' | 'P-384' | 'P-521', bits: number): SpeedAlgorithm {
  return agreement(
    `ecdh${curve.replace('-', '').toLowerCase()}`,
    `ECDH ${curve} derive`,
    { name: 'ECDH', namedCurve: curve },
    bits,
    () => generateKeyPairSync('ec', { namedCurve: curve }),
  );
}

/** Every workload, in the order `speed` runs them. */
export const SPEED_ALGORITHMS: readonly SpeedAlgorithm[] = [
  rsa(2048),
  rsa(3072),
  rsa(4096),
  ecdsa('P-256', 'SHA-256'),
  ecdsa('P-384', 'SHA-384'),
  ecdsa('P-521', 'SHA-512'),
  ecdh('P-256', 256),
  ecdh('P-384', 384),
  ecdh('P-521', 528),
  signer(
    'ed25519',
    'Ed25519 sign',
    { name: 'Ed25519' },
    () => generateKeyPairSync('ed25519'),
    (spki, sig) => verify(null, MESSAGE, publicKeyOf(spki), sig),
  ),
  agreement('x25519', 'X25519 derive', { name: 'X25519' }, 256, () => generateKeyPairSync('x25519')),
];

/** What `pkaccel speed` runs when no algorithm is named. */
export const DEFAULT_SPEED_ALGORITHMS = [
  'rsa2048',
  'rsa3072',
  'rsa4096',
  'ecdsap256',
  'ecdsap384',
  'ecdsap521',
  'ecdhp256',
  'ed25519',
] as const;

export function algorithmNamed(name: string): SpeedAlgorithm | undefined {
  return SPEED_ALGORITHMS.find((a) => a.name === name.toLowerCase());
}
