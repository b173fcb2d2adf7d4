/**
 * One thread of the ceiling measurement (bench/lib/ceiling.ts): the same
 * node:crypto call in a tight synchronous loop, with nothing dispatching it.
 */

import { diffieHellman, type KeyObject, sign, verify } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { CeilingJob } from './ceiling.js';

const job = workerData as CeilingJob;

function operation(): () => unknown {
  const { message, privateKey, publicKey, signature } = job;
  switch (job.op) {
    case 'rsa-sign':
      return () => sign('sha256', message, privateKey as KeyObject);
    case 'rsa-verify':
      return () => verify('sha256', message, publicKey as KeyObject, signature as Uint8Array);
    case 'ecdsa-sign':
      return () => sign('sha256', message, { key: privateKey as KeyObject, dsaEncoding: 'ieee-p1363' });
    case 'ecdsa-verify':
      return () =>
        verify(
          'sha256',
          message,
          { key: publicKey as KeyObject, dsaEncoding: 'ieee-p1363' },
          signature as Uint8Array,
        );
    case 'ecdh':
      return () => diffieHellman({ privateKey: privateKey as KeyObject, publicKey: publicKey as KeyObject });
    case 'eddsa-sign':
      return () => sign(null, message, privateKey as KeyObject);
  }
}

const run = operation();
const warmUpEnd = performance.now() + Math.min(100, job.ms / 4);
while (performance.now() < warmUpEnd) run();
// Every thread starts its window together, so the window measures them running side by side.
Atomics.wait(new Int32Array(job.start), 0, 0);
const started = performance.now();
let count = 0;
while (performance.now() - started < job.ms) {
  run();
  count++;
}
parentPort!.postMessage(count / ((performance.now() - started) / 1000));
