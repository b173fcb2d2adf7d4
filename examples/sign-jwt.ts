/**
 * Sign a JWT-style payload (ES256) with a non-extractable P-256 key on the
 * accelerator, then check the token with node's own crypto.subtle, as any JWT
 * library on the receiving side would.
 *
 *   node --import tsx examples/sign-jwt.ts
 *
 * Devices come from PKACCEL_DEVICES (e.g. "sim:ring,software"), else `auto`.
 * In your own project, import from 'pkaccel' instead of '../index.js'.
 */

import { webcrypto } from 'node:crypto';
import { openAccelerator } from '../index.js';

const base64url = (data: ArrayBuffer | Uint8Array | string): string =>
  Buffer.from(typeof data === 'string' ? data : new Uint8Array(data)).toString('base64url');

const accel = await openAccelerator();
try {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  // Non-extractable: the private key can sign, never be exported.
  const { privateKey, publicKey } = await accel.subtle.generateKey(algorithm, false, ['sign', 'verify']);

  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', typ: 'JWT' };
  const payload = { iss: 'pkaccel example', sub: 'user-42', iat: now, exp: now + 600 };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  // WebCrypto's ECDSA signature is r||s, which is exactly JWS's ES256 format.
  const signature = await accel.subtle.sign(algorithm, privateKey, new TextEncoder().encode(signingInput));
  const token = `${signingInput}.${base64url(signature)}`;
  console.log(token);

  // The receiving side: node's WebCrypto and the public key as a JWK.
  const jwk = await accel.subtle.exportKey('jwk', publicKey);
  const verifier = await webcrypto.subtle.importKey('jwk', jwk as webcrypto.JsonWebKey, algorithm, false, [
    'verify',
  ]);
  const [head, body, sig] = token.split('.');
  const valid = await webcrypto.subtle.verify(
    algorithm,
    verifier,
    Buffer.from(sig!, 'base64url'),
    new TextEncoder().encode(`${head}.${body}`),
  );
  console.log(`verified by node crypto.subtle: ${valid}`);
  for (const d of accel.queue.snapshot().devices) console.log(`  ${d.id}: ${d.completed} operation(s)`);
  if (!valid) process.exitCode = 1;
} finally {
  await accel.close();
}
