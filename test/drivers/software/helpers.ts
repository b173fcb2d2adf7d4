/** Shared by the software-provider tests: open a device, run jobs through the QueuePair contract, make keys. */

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
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
import { parseDeviceSpec } from '../../../core/platform/index.js';
import { type SoftwareDevice, softwareDriver } from '../../../drivers/software/index.js';

export function openSoftware(spec = 'software'): Promise<Device> {
  return softwareDriver.open(parseDeviceSpec(spec));
}

/** Software devices a test opens (`open(spec)`), closed after each test. */
export function softwareDevicePerTest(): (spec: string) => Promise<SoftwareDevice> {
  const opened: SoftwareDevice[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
  });
  return async (spec) => {
    const device = (await openSoftware(spec)) as SoftwareDevice;
    opened.push(device);
    return device;
  };
}

/** In a describe block: a device opened before its tests and closed after them; its first queue pair. */
export function useSoftwareDevice(spec: string): { readonly device: Device; readonly qp: QueuePair } {
  let device: Device | undefined;
  beforeAll(async () => {
    device = await openSoftware(spec);
  });
  afterAll(() => device?.close());
  const opened = (): Device => {
    if (device === undefined) throw new Error('the software device is opened in beforeAll');
    return device;
  };
  return {
    get device() {
      return opened();
    },
    get qp() {
      return opened().queuePairs[0]!;
    },
  };
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

export { threePrimeRsaKey } from '../../support/keys.js';

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
