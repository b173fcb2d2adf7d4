/**
 * Shared by the real-client tests: keys that live on the simulated ring card
 * (made by node:crypto, imported non-extractable into an accelerator whose only
 * device is `sim:ring`, so every private-key operation runs on the card), and a
 * runner for Debian's `openssl` command, the independent judge of the results.
 */

import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs a Reflect metadata polyfill
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll } from 'vitest';
import { type Accelerator, type AcceleratorCryptoKey, openAccelerator } from '../../index.js';

export interface CardKeyPair {
  readonly label: string;
  /** The WebCrypto algorithm the keys were imported for (and sign with). */
  readonly algorithm: { readonly name: string; readonly hash: string; readonly namedCurve?: string };
  readonly privateKey: AcceleratorCryptoKey;
  readonly publicKey: AcceleratorCryptoKey;
}

/** RSA-2048 (PKCS#1 v1.5, SHA-256) and ECDSA P-256 (SHA-256) key pairs with non-extractable private keys. */
export async function cardKeyPairs(accel: Accelerator): Promise<CardKeyPair[]> {
  const specs = [
    {
      label: 'RSA-2048',
      algorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      pair: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    },
    {
      label: 'ECDSA P-256',
      algorithm: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
      pair: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    },
  ];
  const pairs: CardKeyPair[] = [];
  for (const { label, algorithm, pair } of specs) {
    const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
    const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
    const privateKey = (await accel.subtle.importKey('pkcs8', pkcs8, algorithm, false, [
      'sign',
    ])) as AcceleratorCryptoKey;
    const publicKey = (await accel.subtle.importKey('spki', spki, algorithm, true, [
      'verify',
    ])) as AcceleratorCryptoKey;
    pairs.push({ label, algorithm, privateKey, publicKey });
  }
  return pairs;
}

/** Operations the card completed so far (the accelerator has only the card). */
export function cardCompleted(accel: Accelerator): number {
  const device = accel.queue.snapshot().devices.find((d) => d.id.startsWith('sim:ring'));
  if (!device) throw new Error('the accelerator has no sim:ring device');
  return device.completed;
}

/** `openssl` must be installed (.ci/run installs it); a missing one is a failure to report, not a skip. */
export function requireOpenssl(): string {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (probe.status !== 0)
    throw new Error('openssl is not installed: apt-get install -y openssl (the CI script does this)');
  return probe.stdout.trim();
}

/** Run openssl; returns stdout+stderr, throws with both when it exits non-zero. */
export function openssl(args: readonly string[]): string {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${result.status}):\n${output}`);
  return output;
}

type X509Crypto = Parameters<typeof x509.cryptoProvider.set>[0];

/** What a client test works with: the accelerator, its card key pairs and a scratch folder. */
export interface CardClient {
  readonly accel: Accelerator;
  readonly pairs: readonly CardKeyPair[];
  readonly dir: string;
}

/**
 * Before the file's tests: openssl present, an accelerator on `sim:ring` that is
 * @peculiar/x509's crypto provider (and whatever `setUp` adds), the key pairs, a
 * scratch folder `pkaccel-<name>-…`; after them, all of it undone. The fields are
 * there from `beforeAll` on.
 */
export function useCardClient(name: string, setUp: (accel: Accelerator) => void = () => {}): CardClient {
  const client = {} as { accel: Accelerator; pairs: CardKeyPair[]; dir: string };
  beforeAll(async () => {
    requireOpenssl();
    client.accel = await openAccelerator({ devices: ['sim:ring'] });
    setUp(client.accel);
    x509.cryptoProvider.set(client.accel.crypto as unknown as X509Crypto);
    client.pairs = await cardKeyPairs(client.accel);
    client.dir = mkdtempSync(join(tmpdir(), `pkaccel-${name}-`));
  });
  afterAll(async () => {
    x509.cryptoProvider.clear();
    await client.accel?.close();
    if (client.dir) rmSync(client.dir, { recursive: true, force: true });
  });
  return client;
}
