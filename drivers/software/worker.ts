/**
 * A pool worker: runs the jobs it is sent over node:crypto, in order. Keys
 * arrive once and stay until the calling thread says their material was
 * collected.
 *
 * Results go back in two or more replies per batch, not one: after half of
 * the queued jobs the worker replies with what it has finished and yields to
 * its event loop (so a batch that arrived meanwhile joins the queue) before
 * going on. The calling thread then resubmits while this worker still has work
 * queued; answering only at the end of each batch left the worker idle for a
 * whole round trip per batch (a third of its time in ECDSA verification at 64
 * in flight). Replying after a fixed slice of time instead (0.5 ms) cost more
 * in messages than it saved.
 */

import { parentPort } from 'node:worker_threads';
import { toWireError } from './errors.js';
import { execute, type SyncRequest } from './requests.js';
import { decodeRequest, ResultPacker, type ToWorker, unpackBatch } from './wire.js';

const port = parentPort;
if (port === null) throw new Error('drivers/software/worker.ts runs only as a worker thread');

const keys = new Map<number, object>();
/** Jobs received and not yet run: [sequence number, request]. */
let queue: (readonly [number, SyncRequest])[] = [];
let head = 0;
let scheduled = false;
const results = new ResultPacker();

function reply(): void {
  if (results.size === 0) return;
  const message = results.take();
  port!.postMessage(message, [message.table, message.bytes]);
}

function run(): void {
  scheduled = false;
  const stretchEnd = head + Math.ceil((queue.length - head) / 2);
  while (head < queue.length) {
    const [seq, request] = queue[head++]!;
    try {
      results.add(seq, execute(request));
    } catch (error) {
      results.fail(seq, toWireError(error, request.op));
    }
    if (head >= stretchEnd && head < queue.length) {
      reply();
      scheduled = true;
      setImmediate(run);
      return;
    }
  }
  queue = [];
  head = 0;
  reply();
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'forget') {
    for (const id of message.keys) keys.delete(id);
    return;
  }
  for (const [id, material] of message.keys) keys.set(id, material);
  unpackBatch(
    message,
    keys,
    (seq, request) => queue.push([seq, request]),
    (seq, op, error) => results.fail(seq, toWireError(error, op)),
  );
  for (const [seq, wire] of message.others) {
    try {
      queue.push([seq, decodeRequest(wire, keys)]);
    } catch (error) {
      results.fail(seq, toWireError(error, wire.op));
    }
  }
  if (!scheduled) run();
});
