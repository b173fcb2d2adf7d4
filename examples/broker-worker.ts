/**
 * worker_threads sharing a broker: the main thread starts `serve()` on a
 * temporary socket over sim:ring + software, opens `broker:<socket>`, generates a
 * non-extractable ECDSA key in the broker and posts `accel.keys.share(key)` — the
 * device's handle, no key material — to each worker thread. Each thread opens its
 * own `broker:<socket>` connection, adopts the key (`accel.keys.adopt`), signs,
 * and hands back the signature; the main thread checks them with node:crypto.
 * (A CryptoKey itself does not cross threads; its shared form does, and works in
 * a thread of the same uid.)
 *
 *   node --import tsx examples/broker-worker.ts [threads=3]
 */

import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { openAccelerator, type SharedKey } from '../index.js';
import { serve } from '../server/index.js';

if (isMainThread) {
  const threads = Number(process.argv[2] ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'pkaccel-threads-'));
  const socket = join(dir, 'broker.sock');
  const broker = await serve({ devices: ['sim:ring', 'software'], socketPath: socket });
  // Under tsx a worker does not inherit the TypeScript loader: register it first (compiled JS needs none).
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const boot = `import { register } from ${tsx}; register(); await import(${JSON.stringify(import.meta.url)});`;
  const accel = await openAccelerator({ devices: [`broker:${socket}`] });
  const { privateKey, publicKey } = await accel.subtle.generateKey(
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign', 'verify'],
  );
  const shared = accel.keys.share(privateKey);
  const spki = Buffer.from(await accel.subtle.exportKey('spki', publicKey));
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const results = await Promise.all(
    Array.from(
      { length: threads },
      (_, i) =>
        new Promise<boolean>((resolve, reject) => {
          const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), {
            workerData: { socket, i, shared },
          });
          w.once('message', (m: { data: string; signature: Uint8Array }) => {
            resolve(verify('sha256', Buffer.from(m.data), { key, dsaEncoding: 'ieee-p1363' }, m.signature));
          });
          w.once('error', reject);
        }),
    ),
  );
  console.log(
    `${results.filter(Boolean).length}/${threads} signatures by the shared key verified by node:crypto`,
  );
  await accel.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
} else {
  const { socket, i, shared } = workerData as { socket: string; i: number; shared: SharedKey };
  const accel = await openAccelerator({ devices: [`broker:${socket}`] });
  const privateKey = await accel.keys.adopt(shared);
  const data = `thread ${i}`;
  const signature = new Uint8Array(
    await accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, Buffer.from(data)),
  );
  parentPort!.postMessage({ data, signature });
  await accel.close();
}
