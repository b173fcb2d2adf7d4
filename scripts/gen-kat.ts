/**
 * Generates pkaccel's own known-answer vectors with node:crypto (OpenSSL) into
 * vectors/kat.json (shipped with the package), so a clone without ../shared/vectors still tests
 * correctness (test/api/kat.test.ts, `npm run selftest` on every device, and core/selftest when the
 * job queue brings a reset device back into service).
 *
 *   node --import tsx scripts/gen-kat.ts
 *
 * Deterministic schemes (RSASSA-PKCS1-v1_5, raw RSA, ECDH, X25519, Ed25519) get
 * sign/derive vectors that must match byte for byte; randomised ones (PSS,
 * ECDSA) get verify vectors; OAEP gets decrypt vectors. Keys are fresh each run:
 * re-running changes every vector, and the new file is committed as a whole.
 */

import {
  constants,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  publicEncrypt,
  randomBytes,
  sign,
} from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { exportKeyMaterial } from '../core/key-formats/index.js';
import { threePrimeKey } from '../test/keys/multi-prime.js';

type Hash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
const nodeHash = (h: Hash) => h.replace('-', '').toLowerCase();
const hex = (b: Uint8Array | Buffer) => Buffer.from(b).toString('hex');
const der = (key: KeyObject, type: 'spki' | 'pkcs8') => hex(key.export({ format: 'der', type }));

const vectors: Record<string, unknown>[] = [];
const message = (i: number) => randomBytes(i % 3 === 0 ? 0 : 1 + ((i * 37) % 200));

function rsaKeys(bits: number): { privateKey: KeyObject; publicKey: KeyObject; primes: number } {
  return { ...generateKeyPairSync('rsa', { modulusLength: bits }), primes: 2 };
}

/** A three-prime key: encoded by core/keys (node cannot generate one), then handed to OpenSSL to sign with. */
function multiPrimeKeys(bits: number): { privateKey: KeyObject; publicKey: KeyObject; primes: number } {
  const spec = { family: 'rsa', name: 'RSA-RAW', hash: undefined } as const;
  const pkcs8 = exportKeyMaterial('pkcs8', threePrimeKey(bits), spec, {
    extractable: true,
    usages: [],
  }) as Uint8Array;
  const privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey), primes: 3 };
}

function rsaVectors(
  keys: { privateKey: KeyObject; publicKey: KeyObject; primes: number },
  bits: number,
  hashes: Hash[],
) {
  const pkcs8 = der(keys.privateKey, 'pkcs8');
  const spki = der(keys.publicKey, 'spki');
  const tag = `rsa${bits}${keys.primes > 2 ? `-${keys.primes}prime` : ''}`;
  hashes.forEach((hash, i) => {
    const msg = message(i + 1);
    vectors.push({
      id: `${tag}-pkcs1-${hash}`,
      kind: 'rsa-pkcs1-sign',
      bits,
      primes: keys.primes,
      hash,
      pkcs8,
      spki,
      msg: hex(msg),
      sig: hex(sign(nodeHash(hash), msg, keys.privateKey)),
    });
    const saltLength = [0, 20, 32, 64][i % 4]!;
    const pssMsg = message(i + 2);
    vectors.push({
      id: `${tag}-pss-${hash}-salt${saltLength}`,
      kind: 'rsa-pss-verify',
      bits,
      primes: keys.primes,
      hash,
      saltLength,
      spki,
      msg: hex(pssMsg),
      sig: hex(
        sign(nodeHash(hash), pssMsg, {
          key: keys.privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength,
        }),
      ),
    });
    const label = i % 2 === 0 ? Buffer.alloc(0) : randomBytes(8);
    const plain = randomBytes(1 + i * 7);
    vectors.push({
      id: `${tag}-oaep-${hash}${label.length ? '-label' : ''}`,
      kind: 'rsa-oaep-decrypt',
      bits,
      primes: keys.primes,
      hash,
      pkcs8,
      label: hex(label),
      ct: hex(
        publicEncrypt(
          {
            key: keys.publicKey,
            padding: constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: nodeHash(hash),
            oaepLabel: label,
          },
          plain,
        ),
      ),
      msg: hex(plain),
    });
  });
  const input = randomBytes(bits / 8);
  input[0] = 0; // below the modulus
  vectors.push({
    id: `${tag}-raw`,
    kind: 'rsa-raw',
    bits,
    primes: keys.primes,
    pkcs8,
    spki,
    input: hex(input),
    output: hex(publicEncrypt({ key: keys.publicKey, padding: constants.RSA_NO_PADDING }, input)),
  });
}

rsaVectors(rsaKeys(2048), 2048, ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']);
rsaVectors(rsaKeys(3072), 3072, ['SHA-256', 'SHA-384']);
rsaVectors(rsaKeys(4096), 4096, ['SHA-512']);
rsaVectors(multiPrimeKeys(2048), 2048, ['SHA-256']);

const CURVE_HASHES: Record<string, Hash[]> = {
  'P-256': ['SHA-256', 'SHA-1'],
  'P-384': ['SHA-384', 'SHA-256'],
  'P-521': ['SHA-512', 'SHA-384'],
};
for (const [curve, hashes] of Object.entries(CURVE_HASHES)) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const spki = der(publicKey, 'spki');
  hashes.forEach((hash, i) => {
    for (const format of ['p1363', 'der'] as const) {
      const msg = message(i + (format === 'der' ? 5 : 0));
      vectors.push({
        id: `ecdsa-${curve}-${hash}-${format}`,
        kind: 'ecdsa-verify',
        curve,
        hash,
        format,
        spki,
        msg: hex(msg),
        sig: hex(
          sign(nodeHash(hash), msg, {
            key: privateKey,
            dsaEncoding: format === 'der' ? 'der' : 'ieee-p1363',
          }),
        ),
      });
    }
  });
  for (let i = 0; i < 2; i++) {
    const peer = generateKeyPairSync('ec', { namedCurve: curve });
    vectors.push({
      id: `ecdh-${curve}-${i}`,
      kind: 'ecdh',
      curve,
      pkcs8: der(privateKey, 'pkcs8'),
      peerSpki: der(peer.publicKey, 'spki'),
      shared: hex(diffieHellman({ privateKey, publicKey: peer.publicKey })),
    });
  }
}

for (let i = 0; i < 3; i++) {
  const own = generateKeyPairSync('x25519');
  const peer = generateKeyPairSync('x25519');
  vectors.push({
    id: `x25519-${i}`,
    kind: 'x25519',
    pkcs8: der(own.privateKey, 'pkcs8'),
    peerSpki: der(peer.publicKey, 'spki'),
    shared: hex(diffieHellman({ privateKey: own.privateKey, publicKey: peer.publicKey })),
  });
  const ed = generateKeyPairSync('ed25519');
  const msg = message(i);
  vectors.push({
    id: `ed25519-${i}`,
    kind: 'ed25519-sign',
    pkcs8: der(ed.privateKey, 'pkcs8'),
    spki: der(ed.publicKey, 'spki'),
    msg: hex(msg),
    sig: hex(sign(null, msg, ed.privateKey)),
  });
}

const out = new URL('../vectors/kat.json', import.meta.url);
writeFileSync(
  out,
  `${JSON.stringify({ generator: 'scripts/gen-kat.ts (node:crypto / OpenSSL)', vectors }, null, 1)}\n`,
);
console.log(`wrote ${vectors.length} vectors to ${out.pathname}`);
