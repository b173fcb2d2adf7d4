/**
 * The rows the simulated-card benches share: RSA-2048 sign, ECDSA P-256 sign and
 * verify and ECDH P-256 through `accel.subtle` on one card, beside the software
 * device and node's crypto.subtle (the baseline) in the same run. Keys are made
 * once with node's subtle and imported as JWK into each side.
 */

import { webcrypto } from 'node:crypto';
import { opsPerSecond } from '../../cli/speed/measure.js';
import { type Accelerator, openAccelerator } from '../../core/api/index.js';
import type { Registry } from '../../core/registry/registry.js';
import { rsaMaterialFromJwk } from '../../test/support/keys.js';
import type { BenchContext, BenchRow } from './types.js';

const subtle = webcrypto.subtle;
type Key = webcrypto.CryptoKey;
export type Jwk = webcrypto.JsonWebKey;
type AnySubtle = typeof subtle | Accelerator['subtle'];

export interface BenchKeys {
  readonly rsaAlg: { name: string; hash: string };
  readonly ecAlg: { name: string; namedCurve: string };
  readonly dhAlg: { name: string; namedCurve: string };
  readonly rsaJwk: Jwk;
  readonly ecJwk: Jwk;
  readonly ecPubJwk: Jwk;
  readonly ecSig: ArrayBuffer;
  readonly dhAJwk: Jwk;
  readonly dhBPubJwk: Jwk;
}

export async function benchKeys(message: Uint8Array): Promise<BenchKeys> {
  const rsaAlg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const rsa = (await subtle.generateKey(
    { ...rsaAlg, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const ecAlg = { name: 'ECDSA', namedCurve: 'P-256' };
  const ec = (await subtle.generateKey(ecAlg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const dhAlg = { name: 'ECDH', namedCurve: 'P-256' };
  const dhA = (await subtle.generateKey(dhAlg, true, ['deriveBits'])) as webcrypto.CryptoKeyPair;
  const dhB = (await subtle.generateKey(dhAlg, true, ['deriveBits'])) as webcrypto.CryptoKeyPair;
  const jwk = async (k: Key) => subtle.exportKey('jwk', k) as Promise<Jwk>;
  return {
    rsaAlg,
    ecAlg,
    dhAlg,
    rsaJwk: await jwk(rsa.privateKey),
    ecJwk: await jwk(ec.privateKey),
    ecPubJwk: await jwk(ec.publicKey),
    ecSig: await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey, message),
    dhAJwk: await jwk(dhA.privateKey),
    dhBPubJwk: await jwk(dhB.publicKey),
  };
}

/** The RSA private key of a JWK as driver-level material (for rows straight on a queue pair). */
export { rsaMaterialFromJwk };

interface Case {
  readonly name: string;
  /** One call through node's crypto.subtle (baseline) or an accelerator's subtle. */
  make(s: AnySubtle): Promise<() => Promise<unknown>>;
}

function cases(k: BenchKeys, message: Uint8Array): Case[] {
  const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };
  // Node's subtle and the accelerator's take the same calls; the casts bridge their key types.
  const imp = (s: AnySubtle, jwk: Jwk, alg: object, usages: string[]) =>
    (s as typeof subtle).importKey('jwk', jwk, alg as never, false, usages as never);
  return [
    {
      name: 'RSA-2048 sign',
      async make(s) {
        const key = await imp(s, k.rsaJwk, k.rsaAlg, ['sign']);
        return () => (s as typeof subtle).sign(k.rsaAlg, key, message);
      },
    },
    {
      name: 'ECDSA P-256 sign',
      async make(s) {
        const key = await imp(s, k.ecJwk, k.ecAlg, ['sign']);
        return () => (s as typeof subtle).sign(ecdsa, key, message);
      },
    },
    {
      name: 'ECDSA P-256 verify',
      async make(s) {
        const key = await imp(s, k.ecPubJwk, k.ecAlg, ['verify']);
        return async () => {
          if (!(await (s as typeof subtle).verify(ecdsa, key, k.ecSig, message)))
            throw new Error('verify failed');
        };
      },
    },
    {
      name: 'ECDH P-256',
      async make(s) {
        const mine = await imp(s, k.dhAJwk, k.dhAlg, ['deriveBits']);
        const peer = await imp(s, k.dhBPubJwk, k.dhAlg, []);
        return () => (s as typeof subtle).deriveBits({ name: 'ECDH', public: peer }, mine, 256);
      },
    },
  ];
}

/**
 * Every case at 1 and 16 in flight on node's subtle, the card (`cardSpec`) and
 * the software device; `label` names the card in the columns ("ring", "window").
 */
export async function cardVsSubtleRows(
  ctx: BenchContext,
  registry: Registry,
  cardSpec: string,
  label: string,
  keys: BenchKeys,
  message: Uint8Array,
  windowMs: number,
): Promise<BenchRow[]> {
  const card = await openAccelerator({ devices: [cardSpec], registry });
  const software = await openAccelerator({ devices: ['software'], registry });
  const column = cardSpec.split('?')[0]!;
  const rows: BenchRow[] = [];
  try {
    for (const c of cases(keys, message)) {
      const node = await c.make(subtle);
      const onCard = await c.make(card.subtle);
      const onSoftware = await c.make(software.subtle);
      for (const concurrency of [1, 16]) {
        const nodeRate = await opsPerSecond(node, concurrency, windowMs);
        const cardRate = await opsPerSecond(onCard, concurrency, windowMs);
        const softwareRate = await opsPerSecond(onSoftware, concurrency, windowMs);
        ctx.log(
          `${c.name} @${concurrency}: node ${nodeRate.toFixed(0)}/s, ${column} ${cardRate.toFixed(0)}/s`,
        );
        rows.push({
          name: c.name,
          concurrency,
          'node subtle ops/s': nodeRate,
          'software ops/s': softwareRate,
          [`${column} ops/s`]: cardRate,
          [`${label} / node`]: cardRate / nodeRate,
          [`${label} / software`]: cardRate / softwareRate,
        });
      }
    }
  } finally {
    await card.close();
    await software.close();
  }
  return rows;
}
