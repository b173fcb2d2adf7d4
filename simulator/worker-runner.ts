/**
 * Worker-thread entry: runs one device model. The host posts register writes
 * into the FIFO of the shared control block and notifies HEAD; this thread
 * applies them in order and notifies TAIL. The model's scheduled work (engines,
 * delayed completions) is on the runner's virtual clock: due times checked here
 * against performance.now(). With nothing scheduled the thread waits with
 * Atomics.waitAsync (no CPU while idle); with work due soon it waits synchronously
 * with Atomics.wait's sub-millisecond timeout, or spins when it is due sooner
 * than a wake-up takes.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { HEAD, MODEL_WAITING, type SharedCard, STOP, WAITING, WAITING_BRIEFLY } from './control.js';
import { IdleLinger } from './idle-linger.js';
import { loadModel } from './models/index.js';
import { ModelRunner } from './runner.js';
import { waitAsync } from './wait-async.js';

export interface WorkerInit {
  readonly model: string;
  /** Where the model module is (its family's folder may be outside simulator/models/). */
  readonly modelUrl: string;
  readonly shared: SharedCard;
  readonly options: Readonly<Record<string, string>>;
}

/** Due sooner than this (ms): do not sleep (a futex round trip costs about this much). */
const SPIN_MS = 0.002;
/**
 * Due within this (ms): the host's posts do not wake this thread (it wakes by itself that soon).
 * A futex wake-up costs the posting thread more than that on a loaded machine (the woken thread
 * preempts it: about half a millisecond per doorbell was measured with 20 runnable threads on 2 CPUs).
 */
const SELF_WAKE_MS = 0.1;
/**
 * With nothing scheduled, look at HEAD for this long (ms) before sleeping: a busy host rings the
 * next doorbell within microseconds of harvesting, and a post that finds this thread asleep pays
 * for a futex wake-up (tens of µs of the host's thread on a loaded machine). Env
 * PKACCEL_SIM_IDLE_SPIN_MS overrides it (0: sleep at once).
 */
const IDLE_SPIN_MS = Number(process.env.PKACCEL_SIM_IDLE_SPIN_MS ?? 0.05);
/** After idle looks that found nothing, at most this many idle waits in a row skip the look. */
const MAX_SPIN_SKIPS = 64;
/**
 * After a busy stretch of at least 16 scheduled events (a deep queue), the next 8 idle waits are
 * SELF_WAKE_MS naps announced as brief, not sleeps a post must cut short (IdleLinger says why).
 * Env PKACCEL_SIM_IDLE_LINGERS overrides the 8 (0: never nap).
 */
const IDLE_LINGERS = Number(process.env.PKACCEL_SIM_IDLE_LINGERS ?? 8);
const IDLE_LINGER_MIN_EVENTS = 16;
/** Longest stretch (ms) without returning to the event loop (messages, termination). */
const YIELD_EVERY_MS = 20;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function main(init: WorkerInit): Promise<void> {
  const runner = new ModelRunner(
    await loadModel(init.model, init.modelUrl),
    init.shared,
    init.options,
    'virtual',
  );
  const control = new Int32Array(init.shared.control);
  // The listener keeps this thread alive until the host terminates it.
  parentPort?.on('message', () => {});
  parentPort?.postMessage({ type: 'ready' });
  let yieldedAt = performance.now();
  let skipSpins = 0;
  let skipAfterMiss = 1;
  let stretchEvents = 0;
  const linger = new IdleLinger(IDLE_LINGERS, IDLE_LINGER_MIN_EVENTS);
  for (;;) {
    // Read HEAD before draining: a write posted during the drain then makes the wait return at once
    // (reading it after could wait on a value that already includes an undrained write, and stall the host).
    const head = Atomics.load(control, HEAD);
    runner.drainFifo();
    stretchEvents += runner.runDue();
    // Let the model's microtasks run (the window model computes in one, after the FIFO is acknowledged).
    await undefined;
    if (Atomics.load(control, STOP) !== 0) return;
    if (Atomics.load(control, HEAD) !== head) continue;
    const wait = runner.msUntilNextDue();
    const idle = wait === Number.POSITIVE_INFINITY;
    if (!idle && performance.now() - yieldedAt > YIELD_EVERY_MS) {
      await yieldToEventLoop();
      yieldedAt = performance.now();
      continue;
    }
    if (wait <= SPIN_MS) continue;
    if (idle && IDLE_SPIN_MS > 0) {
      // Spin only while spinning pays: a look that found no doorbell (one job at a time, the
      // host's round trip longer than the spin) skips the next 1, 2, 4 … 64 idle looks.
      if (skipSpins > 0) skipSpins--;
      else if (headMovesWithin(control, head, IDLE_SPIN_MS)) {
        skipAfterMiss = 1;
        continue;
      } else {
        skipSpins = skipAfterMiss;
        skipAfterMiss = Math.min(MAX_SPIN_SKIPS, skipAfterMiss * 2);
      }
    }
    // Announce the wait, then look at HEAD once more: a post that did not see the announcement
    // stored its HEAD before it, and this load sees that (see MODEL_WAITING). A short wait (work
    // due within SELF_WAKE_MS) is announced as one the host need not cut short: this thread looks
    // at the FIFO by itself that soon, and a wake-up would cost the host more than the wait. So is
    // a nap after a heavy stretch (IdleLinger): the host is busy and rings again soon.
    const nap = idle && linger.nap(stretchEvents);
    if (idle) stretchEvents = 0;
    Atomics.store(control, MODEL_WAITING, nap || (!idle && wait <= SELF_WAKE_MS) ? WAITING_BRIEFLY : WAITING);
    if (Atomics.load(control, HEAD) === head) {
      if (nap) {
        Atomics.wait(control, HEAD, head, SELF_WAKE_MS);
      } else if (idle) {
        const pending = waitAsync(control, HEAD, head);
        if (pending.async) await pending.value;
        yieldedAt = performance.now();
      } else {
        Atomics.wait(control, HEAD, head, wait);
      }
    }
    Atomics.store(control, MODEL_WAITING, 0);
  }
}

/** Whether HEAD moves from `head` within `ms` (a busy look, no sleep). */
function headMovesWithin(control: Int32Array, head: number, ms: number): boolean {
  const until = performance.now() + ms;
  do {
    if (Atomics.load(control, HEAD) !== head) return true;
  } while (performance.now() < until);
  return false;
}

main(workerData as WorkerInit).catch((error: unknown) => {
  parentPort?.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) });
});
