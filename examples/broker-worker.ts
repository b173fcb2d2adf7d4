/**
 * worker_threads sharing a broker: the main thread starts `serve()` on a
 * temporary socket over sim:ring + software; each worker thread opens
 * `broker:<socket>` itself, generates a non-extractable ECDSA key in the broker,
 * signs, and hands back the signature and the public key; the main thread checks
 * them with node:crypto. (A CryptoKey does not cross threads: each thread opens
 * its own keys, or named keys by name.)
 *
 *   node --import tsx examples/broker-worker.ts [threads=3]
 */

import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { openAccelerator } from '../index.js';
import { serve } from '../server/index.js';

if (isMainThread) {
  const threads = Number(process.argv[2] ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'pkaccel-threads-'));
  const socket = join(dir, 'broker.sock');
  const broker = await serve({ devices: ['sim:ring', 'software'], socketPath: socket });
  // Under tsx a worker does not inherit the TypeScript loader: register it first (compiled JS needs none).
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const boot = `import { register } from ${tsx}; register(); await import(${JSON.stringify(import.meta.url)});`;
  const results = await Promise.all(
    Array.from(
      { length: threads },
      (_, i) =>
        new Promise<boolean>((resolve, reject) => {
          const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), {
            workerData: { socket, i },
          });
          w.once('message', (m: { data: string; signature: Uint8Array; spki: Uint8Array }) => {
            const key = createPublicKey({ key: Buffer.from(m.spki), format: 'der', type: 'spki' });
            resolve(verify('sha256', Buffer.from(m.data), { key, dsaEncoding: 'ieee-p1363' }, m.signature));
          });
          w.once('error', reject);
        }),
    ),
  );
  console.log(`${results.filter(Boolean).length}/${threads} thread signatures verified by node:crypto`);
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
} else {
  const { socket, i } = workerData as { socket: string; i: number };
  const accel = await openAccelerator({ devices: [`broker:${socket}`] });
  const keys = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]);
  const data = `thread ${i}`;
  const signature = new Uint8Array(
    await accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, Buffer.from(data)),
  );
  const spki = new Uint8Array(await accel.subtle.exportKey('spki', keys.publicKey));
  parentPort!.postMessage({ data, signature, spki });
  await accel.close();
}
