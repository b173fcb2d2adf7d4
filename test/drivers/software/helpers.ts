/** Shared by the software-provider tests: open a device, run jobs through the QueuePair contract, make keys. */

import { generateKeyPairSync, generatePrimeSync, type KeyObject } from 'node:crypto';
import {
  bytesToBigint,
  type Completion,
  type Device,
  type EcCurveName,
  EcPrivateKeyMaterial,
  OkpPrivateKeyMaterial,
  type PrimitiveRequest,
  type QueuePair,
  RsaPrivateKeyMaterial,
} from '../../../core/driver/index.js';
import { modInv } from '../../../core/math/index.js';
import { parseDeviceSpec } from '../../../core/platform/index.js';
import { softwareDriver } from '../../../drivers/software/index.js';

export function openSoftware(spec = 'software'): Promise<Device> {
  return softwareDriver.open(parseDeviceSpec(spec));
}

/** Submit all requests (tags 0..n-1), wait and harvest until every one completed; results in tag order. */
export async function runAll(qp: QueuePair, requests: readonly PrimitiveRequest[]): Promise<Completion[]> {
  const jobs = requests.map((request, tag) => ({ tag, request }));
  const results: Completion[] = [];
  const seen = new Set<number>();
  let next = 0;
  while (seen.size < jobs.length) {
    if (next < jobs.length) next += qp.submit(jobs.slice(next));
    qp.harvest((c) => {
      if (seen.has(c.tag)) throw new Error(`tag ${c.tag} completed twice`);
      seen.add(c.tag);
      results[c.tag] = c;
    });
    if (seen.size < jobs.length) await qp.waitForCompletions();
  }
  return results;
}

export async function runOne(qp: QueuePair, request: PrimitiveRequest): Promise<Completion> {
  const [completion] = await runAll(qp, [request]);
  return completion!;
}

/** The value of a successful completion, or the completion's error thrown. */
export function resultOf(completion: Completion): unknown {
  if (!completion.ok) throw completion.error;
  return completion.value;
}

const int = (jwk: Record<string, unknown>, name: string) =>
  bytesToBigint(Buffer.from(jwk[name] as string, 'base64url'));

export function rsaKey(bits = 2048): {
  material: RsaPrivateKeyMaterial;
  privateKey: KeyObject;
  publicKey: KeyObject;
} {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const j = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const material = new RsaPrivateKeyMaterial(
    int(j, 'n'),
    int(j, 'e'),
    int(j, 'd'),
    int(j, 'p'),
    int(j, 'q'),
    int(j, 'dp'),
    int(j, 'dq'),
    int(j, 'qi'),
  );
  return { material, privateKey, publicKey };
}

/** A three-prime RSA key built from node's primes (node cannot generate multi-prime keys). */
export function threePrimeRsaKey(primeBits = 512): RsaPrivateKeyMaterial {
  const e = 65537n;
  for (;;) {
    const primes = [0, 1, 2].map(() => generatePrimeSync(primeBits, { bigint: true }));
    const [p, q, r] = primes as [bigint, bigint, bigint];
    const n = p * q * r;
    const phi = (p - 1n) * (q - 1n) * (r - 1n);
    let d: bigint;
    try {
      d = modInv(e, phi);
    } catch {
      continue;
    }
    return new RsaPrivateKeyMaterial(n, e, d, p, q, d % (p - 1n), d % (q - 1n), modInv(q, p), [
      { r, d: d % (r - 1n), t: modInv(p * q, r) },
    ]);
  }
}

const OPENSSL: Record<EcCurveName, string> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
};

export function ecKey(curve: EcCurveName): {
  material: EcPrivateKeyMaterial;
  privateKey: KeyObject;
  publicKey: KeyObject;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: OPENSSL[curve] });
  const j = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const material = new EcPrivateKeyMaterial(curve, int(j, 'd'), {
    kind: 'ec-public',
    curve,
    x: int(j, 'x'),
    y: int(j, 'y'),
  });
  return { material, privateKey, publicKey };
}

export function okpKey(curve: 'Ed25519' | 'X25519'): {
  material: OkpPrivateKeyMaterial;
  privateKey: KeyObject;
  publicKey: KeyObject;
} {
  const { privateKey, publicKey } =
    curve === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519');
  const j = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const x = Buffer.from(j.x as string, 'base64url');
  const material = new OkpPrivateKeyMaterial(curve, Buffer.from(j.d as string, 'base64url'), {
    kind: 'okp-public',
    curve,
    x,
  });
  return { material, privateKey, publicKey };
}
