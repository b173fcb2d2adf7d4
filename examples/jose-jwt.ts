/**
 * JWTs with jose (https://github.com/panva/jose), signed and verified by
 * non-extractable keys held by a card.
 *
 * jose always uses the global `crypto.subtle`, so `installGlobalCrypto(accel)`
 * puts the accelerator's `crypto` there until `restore()`: jose's generateKeyPair,
 * SignJWT and jwtVerify then run on the accelerator (HS256 and the other
 * symmetric algorithms keep working: they pass through to node).
 *
 * The card here is `sim:ring`, pkaccel's simulated ring card (a register-level
 * model of a PCIe offload card, in a worker thread). The library never opens a
 * simulator by default; on a machine with a card, open `{ devices: ['auto'] }`.
 * The card has no keygen: EC keys come from its ECDH with the base point, RSA
 * keys are generated on the host and then held by the card.
 *
 *   node --import tsx examples/jose-jwt.ts
 *
 * Prints one line per algorithm: the algorithm, the token, and the public key as
 * a JWK (so that anyone can check the token). In your own project, import from
 * 'pkaccel' instead of '../index.js'.
 */

import * as jose from 'jose';
import { installGlobalCrypto, openAccelerator } from '../index.js';

const accel = await openAccelerator({ devices: ['sim:ring'] });
const restore = installGlobalCrypto(accel);
try {
  for (const alg of ['ES256', 'ES384', 'RS256', 'PS256'] as const) {
    // Non-extractable private key (jose's default), held by the card.
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: false });
    const token = await new jose.SignJWT({ sub: 'user-42', scope: 'read' })
      .setProtectedHeader({ alg, typ: 'JWT' })
      .setIssuer('pkaccel example')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    const { payload } = await jose.jwtVerify(token, publicKey, { issuer: 'pkaccel example' });
    if (payload.sub !== 'user-42') throw new Error(`${alg}: the verified payload is not the signed one`);
    console.log(`${alg} ${token} ${JSON.stringify(await jose.exportJWK(publicKey))}`);
  }
  // A symmetric algorithm through the same global crypto (node does HMAC).
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const hs = await new jose.SignJWT({ sub: 'user-42' }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
  await jose.jwtVerify(hs, secret);
  console.log('HS256 verified');
  const card = accel.queue.snapshot().devices.find((d) => d.id.startsWith('sim:ring'));
  console.log(`card operations: ${card?.completed ?? 0}`);
} finally {
  restore();
  await accel.close();
}
