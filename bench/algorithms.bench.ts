/**
 * core/algorithms and core/math figures:
 * - the RSA-CRT fault check (s^e mod n on the main thread for every RSA private
 *   result): bigint modPow (the baseline) against OpenSSL through node:crypto
 *   with a KeyObject cached per key (what core/algorithms/rsa-public.ts uses),
 *   and with a KeyObject made per call (what the cache saves);
 * - core/math point multiplication on P-256 against node's createECDH (baseline),
 *   for the device models and composed paths that use it.
 */

import { constants, createECDH, createPublicKey, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { rsaPublicBigint, rsaPublicOnHost } from '../core/algorithms/rsa-public.js';
import { bigintToBytes, bytesToBigint } from '../core/driver/bytes.js';
import { CURVES } from '../core/driver/curves.js';
import type { RsaPublicKeyMaterial } from '../core/driver/keys.js';
import { ecMultiply, ecMultiplyDouble } from '../core/math/index.js';
import type { Bench, BenchRow } from './lib/types.js';

/** Calls per second of a synchronous `op`, over `ms` after a short warm-up. */
function callsPerSecond(op: (i: number) => unknown, ms: number): number {
  const run = (window: number) => {
    const deadline = performance.now() + window;
    const started = performance.now();
    let count = 0;
    while (performance.now() < deadline) {
      for (let i = 0; i < 8; i++) op(count + i);
      count += 8;
    }
    return count / ((performance.now() - started) / 1000);
  };
  run(Math.min(200, ms / 4));
  return run(ms);
}

function rsaKey(bits: number): { key: RsaPublicKeyMaterial; signatures: Uint8Array[] } {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwk = publicKey.export({ format: 'jwk' });
  const n = bytesToBigint(Buffer.from(jwk.n!, 'base64url'));
  const e = bytesToBigint(Buffer.from(jwk.e!, 'base64url'));
  const key: RsaPublicKeyMaterial = { kind: 'rsa-public', n, e, bits: n.toString(2).length };
  const k = Math.ceil(key.bits / 8);
  const signatures = Array.from({ length: 16 }, (_, i) =>
    bigintToBytes((n / 3n) * BigInt(i % 3) + BigInt(i + 7), k),
  );
  return { key, signatures };
}

const bench: Bench = async (ctx) => {
  const ms = ctx.quick ? 300 : 1500;
  const rows: BenchRow[] = [];
  for (const bits of [2048, 4096]) {
    const { key, signatures } = rsaKey(bits);
    const pick = (i: number) => signatures[i % signatures.length]!;
    ctx.log(`RSA-${bits} public-key check`);
    const baseline = callsPerSecond((i) => rsaPublicBigint(key, pick(i)), ms);
    const cached = callsPerSecond((i) => rsaPublicOnHost(key, pick(i)), ms);
    const jwk = {
      kty: 'RSA',
      n: Buffer.from(bigintToBytes(key.n, Math.ceil(bits / 8))).toString('base64url'),
      e: 'AQAB',
    };
    const uncached = callsPerSecond(
      (i) =>
        publicEncrypt(
          { key: createPublicKey({ key: jwk, format: 'jwk' }), padding: constants.RSA_NO_PADDING },
          pick(i),
        ),
      ms,
    );
    for (const [variant, ops] of [
      ['bigint modPow (baseline)', baseline],
      ['node:crypto, cached KeyObject (used)', cached],
      ['node:crypto, KeyObject per call', uncached],
    ] as const) {
      rows.push({
        name: `RSA-${bits} fault check: ${variant}`,
        'ops/s': ops,
        'µs/op': 1e6 / ops,
        'ratio vs baseline': ops / baseline,
      });
    }
  }

  const curve = CURVES['P-256'];
  const Q = ecMultiply(curve, 0x1234567890abcdefn)!;
  const scalars = Array.from({ length: 16 }, (_, i) => curve.n - 0x10000000000000001n * BigInt(i + 3));
  const ecdh = createECDH('prime256v1');
  ctx.log('P-256 point multiplication');
  const nodeBase = callsPerSecond((i) => {
    ecdh.setPrivateKey(bigintToBytes(scalars[i % 16]!, 32));
    return ecdh.getPublicKey();
  }, ms);
  const kG = callsPerSecond((i) => ecMultiply(curve, scalars[i % 16]!), ms);
  const kQ = callsPerSecond((i) => ecMultiply(curve, scalars[i % 16]!, Q), ms);
  const dbl = callsPerSecond((i) => ecMultiplyDouble(curve, scalars[i % 16]!, scalars[(i + 5) % 16]!, Q), ms);
  for (const [variant, ops] of [
    ['node createECDH k·G (baseline)', nodeBase],
    ['core/math k·G', kG],
    ['core/math k·Q', kQ],
    ['core/math u1·G + u2·Q', dbl],
  ] as const) {
    rows.push({
      name: `P-256 ${variant}`,
      'ops/s': ops,
      'µs/op': 1e6 / ops,
      'ratio vs baseline': ops / nodeBase,
    });
  }
  return rows;
};

export default bench;
