/**
 * Run by lifecycle.test.ts in a child process, through the package entry as an
 * application would: `cycles` times open an accelerator on `devices`, sign once,
 * then `await accel.close()` and print a line after it (close), or print it and
 * leave the accelerator open (leave-open). Arguments: devices (comma-separated),
 * close|leave-open, cycles. The parent checks that the line after close() ran
 * every time (an await on an unreferenced handle ends the process early, exit
 * code 13 under top-level await) and that the process then ends by itself
 * (a worker thread or watcher that stays referenced keeps it alive).
 */

import { webcrypto } from 'node:crypto';
import { openAccelerator } from '../../../index.js';

const devices = process.argv[2]!.split(',');
const mode = process.argv[3]!;
const cycles = Number(process.argv[4] ?? 1);

// Keys made by node and imported: every device mix can sign with them (not every card generates keys).
const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
const jwk = await webcrypto.subtle.exportKey('jwk', pair.privateKey);
const algorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;

for (let i = 0; i < cycles; i++) {
  const accel = await openAccelerator({ devices });
  const key = await accel.subtle.importKey('jwk', jwk, algorithm, false, ['sign']);
  const signature = await accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new Uint8Array(32));
  if (signature.byteLength !== 64) throw new Error(`signature of ${signature.byteLength} bytes`);
  if (mode === 'close') await accel.close();
  console.log(`after ${i}`);
}
