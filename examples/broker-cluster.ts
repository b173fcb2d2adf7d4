/**
 * N cluster workers sharing one card through the broker. The primary starts
 * `serve()` (embedded: the same broker as `pkaccel serve`) on a temporary
 * socket over sim:ring + software; each worker opens `broker:<socket>`, signs
 * with a named key it opens by name (the private key stays in the primary's
 * broker), and the primary checks every signature with node:crypto.
 *
 *   node --import tsx examples/broker-cluster.ts [workers=4]
 *
 * In your own project, import from 'pkaccel' and 'pkaccel/server' instead of
 * '../index.js' and '../server/index.js'.
 */

import cluster from 'node:cluster';
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAccelerator } from '../index.js';
import { serve } from '../server/index.js';

if (cluster.isPrimary) {
  const workers = Number(process.argv[2] ?? 4);
  const dir = mkdtempSync(join(tmpdir(), 'pkaccel-cluster-'));
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'signing.pem'), key.privateKey.export({ format: 'pem', type: 'pkcs8' }), {
    mode: 0o600,
  });
  const socket = join(dir, 'broker.sock');
  const broker = await serve({
    devices: ['sim:ring', 'software'],
    socketPath: socket,
    keys: [`signing=${join(dir, 'signing.pem')}`],
    log: (line) => console.log(`[broker] ${line}`),
  });
  let good = 0;
  let done = 0;
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork({ PKACCEL_SOCKET: socket });
    w.on('message', (m: { data: string; signature: string }) => {
      const ok = verify(
        'sha256',
        Buffer.from(m.data),
        { key: key.publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(m.signature, 'base64'),
      );
      if (ok) good++;
    });
    w.on('exit', async () => {
      if (++done < workers) return;
      console.log(
        `${good} signatures from ${workers} workers, all checked with node:crypto: ${good === workers * 10 ? 'ok' : 'WRONG'}`,
      );
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    });
  }
} else {
  const accel = await openAccelerator({ devices: ['broker'] }); // $PKACCEL_SOCKET
  const { privateKey } = await accel.keys.open('signing', { name: 'ECDSA', namedCurve: 'P-256' }, ['sign']);
  for (let i = 0; i < 10; i++) {
    const data = `worker ${process.pid} message ${i}`;
    const signature = await accel.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      privateKey,
      Buffer.from(data),
    );
    process.send!({ data, signature: Buffer.from(signature).toString('base64') });
  }
  await accel.close();
  process.disconnect();
}
