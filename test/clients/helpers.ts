/**
 * Shared by the real-client tests: keys that live on the simulated ring card
 * (made by node:crypto, imported non-extractable into an accelerator whose only
 * device is `sim:ring`, so every private-key operation runs on the card), and a
 * runner for Debian's `openssl` command, the independent judge of the results.
 */

import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import type { Accelerator, AcceleratorCryptoKey } from '../../index.js';

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
