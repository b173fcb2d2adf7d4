/**
 * Stream a batch through the job queue: sign 200 messages with a P-256 key
 * (each `subtle.sign` is a queue job), then verify all of them as one rxjs
 * stream of primitive requests through `accel.queue.process`, at most 32 in
 * flight, results in input order. One signature is corrupted on purpose.
 *
 *   node --import tsx examples/queue-batch.ts
 *
 * Devices come from PKACCEL_DEVICES, else `auto`. In your own project, import
 * from 'pkaccel' instead of '../index.js'.
 */

import { createHash } from 'node:crypto';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { type EcPublicKeyMaterial, openAccelerator, type PrimitiveRequest } from '../index.js';

const COUNT = 200;
const BAD = 57;

const accel = await openAccelerator();
try {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const { privateKey, publicKey } = await accel.subtle.generateKey(algorithm, false, ['sign', 'verify']);
  const messages = Array.from({ length: COUNT }, (_, i) => new TextEncoder().encode(`message #${i}`));
  const signatures = await Promise.all(
    messages.map(async (m) => new Uint8Array(await accel.subtle.sign(algorithm, privateKey, m))),
  );
  signatures[BAD]![5]! ^= 0x01;

  // The primitive layer wants the public key as numbers: take them from its JWK.
  const jwk = (await accel.subtle.exportKey('jwk', publicKey)) as { x: string; y: string };
  const coordinate = (b64: string) => BigInt(`0x${Buffer.from(b64, 'base64url').toString('hex')}`);
  const key: EcPublicKeyMaterial = {
    kind: 'ec-public',
    curve: 'P-256',
    x: coordinate(jwk.x),
    y: coordinate(jwk.y),
  };

  const requests = from(messages).pipe(
    map(
      (message, i): PrimitiveRequest => ({
        op: 'ecdsa-verify',
        key,
        digest: createHash('sha256').update(message).digest(),
        signature: signatures[i]!, // r||s
      }),
    ),
  );
  const results = await lastValueFrom(
    accel.queue.process(requests, { concurrency: 32, ordered: true }).pipe(toArray()),
  );
  const invalid = results.flatMap((ok, i) => (ok ? [] : [i]));
  console.log(
    `${results.length} signatures verified in one stream: ${results.length - invalid.length} valid`,
  );
  console.log(`invalid: ${invalid.join(', ') || 'none'}`);
  for (const d of accel.queue.snapshot().devices) console.log(`  ${d.id}: ${d.completed} operation(s)`);
  if (invalid.length !== 1 || invalid[0] !== BAD) process.exitCode = 1;
} finally {
  await accel.close();
}
