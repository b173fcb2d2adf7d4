/**
 * A pool worker: runs batches of primitives over node:crypto and answers each
 * batch with one message. Keys arrive once and stay until the calling thread
 * says their material was collected.
 */

import { parentPort } from 'node:worker_threads';
import { toWireError } from './errors.js';
import { execute } from './operations.js';
import { decodeRequest, exact, type ResultsMessage, type ToWorker, type WireResult } from './wire.js';

const port = parentPort;
if (port === null) throw new Error('drivers/software/worker.ts runs only as a worker thread');

const keys = new Map<number, object>();

port.on('message', (message: ToWorker) => {
  if (message.type === 'forget') {
    for (const id of message.keys) keys.delete(id);
    return;
  }
  for (const [id, material] of message.keys) keys.set(id, material);
  const results: WireResult[] = [];
  for (const [seq, wire] of message.jobs) {
    try {
      const value = execute(decodeRequest(wire, keys));
      results.push([seq, true, value instanceof Uint8Array ? exact(value) : value]);
    } catch (error) {
      results.push([seq, false, toWireError(error, wire.op)]);
    }
  }
  port.postMessage({ results } satisfies ResultsMessage);
});
