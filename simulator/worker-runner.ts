/**
 * Worker-thread entry: runs one device model. The host posts register writes
 * into the FIFO of the shared control block and notifies HEAD; this thread
 * applies them in order and notifies TAIL. Waiting is Atomics.waitAsync, so the
 * model's scheduled work (engines, delayed completions) runs in between.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { HEAD, type SharedCard, STOP } from './control.js';
import { loadModel } from './models/index.js';
import { ModelRunner } from './runner.js';
import { waitAsync } from './wait-async.js';

export interface WorkerInit {
  readonly model: string;
  readonly shared: SharedCard;
  readonly options: Readonly<Record<string, string>>;
}

async function main(init: WorkerInit): Promise<void> {
  const runner = new ModelRunner(await loadModel(init.model), init.shared, init.options);
  const control = new Int32Array(init.shared.control);
  // The listener keeps this thread alive until the host terminates it.
  parentPort?.on('message', () => {});
  parentPort?.postMessage({ type: 'ready' });
  for (;;) {
    // Read HEAD before draining: a write posted during the drain then makes the wait return at once
    // (reading it after could wait on a value that already includes an undrained write, and stall the host).
    const head = Atomics.load(control, HEAD);
    runner.drainFifo();
    if (Atomics.load(control, STOP) !== 0) return;
    const pending = waitAsync(control, HEAD, head);
    if (pending.async) await pending.value;
  }
}

main(workerData as WorkerInit).catch((error: unknown) => {
  parentPort?.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) });
});
