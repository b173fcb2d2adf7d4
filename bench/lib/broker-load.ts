/**
 * bench/broker.bench.ts's processes. `server <path> <device> <gate on|off>`: a
 * broker; answers "cpu" on stdin with its process.cpuUsage() and its main thread's event-loop
 * utilisation so far (elu: busy time and idle time in ms) as JSON.
 * `client <spec> <seconds> <inflight> <gate on|off>`: a closed loop of ECDSA
 * P-256 signatures (queue.submit, inline key) through one accelerator; prints
 * { ops, seconds, p50Us, p99Us, cpuUs, elu } as JSON (elu: the share of the run its main
 * thread was busy — near 1, the client's own thread is the limit).
 *
 * The floor (no pkaccel code on the path): `echo <path> <none|thread>` answers every request
 * the size of an ECDSA P-256 sign request frame with one the size of its completion frame —
 * at once, or after a hop to a worker thread and back the way a simulated card wakes
 * (Atomics.notify → the thread's Atomics.waitAsync, then its notify → this thread's
 * Atomics.waitAsync); answers "cpu" like `server`. `ping <path> <seconds>`: one request at a
 * time against it; prints what `client` prints. What the broker adds at low load above this is ours.
 */

import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { GATE_OFF, type IntegrityOptions } from '../../core/integrity/options.js';
import { encodeFrames, encodeOk, encodeRequest } from '../../drivers/broker/protocol.js';
import { openAccelerator } from '../../index.js';
import { serve } from '../../server/index.js';
import { waitAsync } from '../../simulator/wait-async.js';
import { newEcKey } from '../../test/support/keys.js';

/**
 * For the null and timed engines (fixed answers): no gate, and a fixed stall limit — on a
 * loaded machine a learned one judged a deep timed card stalled, and its recovery self-test
 * can never pass on fixed answers, so the card stayed out of service.
 */
const NO_GATE = { integrity: { [GATE_OFF]: true } as IntegrityOptions, stallTimeoutMs: 60_000 };
const [role, a, b, c, d] = process.argv.slice(2);

/** The bytes of one ECDSA P-256 sign request with its key inline, and of its completion. */
function frameSizes(): { request: number; completion: number } {
  const key = newEcKey().material;
  const request = encodeRequest(1, { op: 'ecdsa-sign', key, digest: new Uint8Array(32) }, () => undefined);
  const completion = encodeOk(1, 'ecdsa-sign', new Uint8Array(64), undefined);
  return { request: encodeFrames([request]).length, completion: encodeFrames([completion]).length };
}

/** Answer "cpu" on stdin with CPU and event-loop figures so far (plus `extra()`); `end` on stdin's end. */
function answerCpu(extra: () => object, end: () => void): void {
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line !== 'cpu') return;
    const { active, idle } = performance.eventLoopUtilization();
    process.stdout.write(`${JSON.stringify({ ...process.cpuUsage(), ...extra(), active, idle })}\n`);
  });
  process.stdin.on('end', end);
}

/**
 * A hop to a worker thread and back, woken the way the simulator's card thread and its
 * interrupt are: Atomics.notify into the thread's Atomics.waitAsync, and back.
 */
async function threadHop(): Promise<(then: () => void) => void> {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     parentPort.on('message', () => {}); // keeps the thread alive while it waits
     const c = new Int32Array(workerData);
     (async () => { let seen = 0; for (;;) {
       const w = Atomics.waitAsync(c, 0, seen); if (w.async) await w.value;
       seen = Atomics.load(c, 0); Atomics.add(c, 1, 1); Atomics.notify(c, 1);
     } })();`,
    { eval: true, workerData: control.buffer },
  );
  worker.unref();
  await new Promise((resolve) => setTimeout(resolve, 100));
  return (then) => {
    const before = Atomics.load(control, 1);
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    const back = waitAsync(control, 1, before);
    if (back.async) void back.value.then(then);
    else then();
  };
}

if (role === 'server') {
  const accel = await openAccelerator({ devices: [b!], ...(c === 'off' ? { queue: NO_GATE } : {}) });
  const broker = await serve({ socketPath: a!, accelerator: accel });
  process.stdout.write('READY\n');
  answerCpu(
    () => {
      // The socket reads/writes of the clients connected now (frames per read and write).
      const io = { reads: 0, framesIn: 0, writes: 0, framesOut: 0 };
      for (const c of broker.clients()) for (const k of Object.keys(io) as (keyof typeof io)[]) io[k] += c[k];
      return io;
    },
    () => {
      void broker
        .close({ drainMs: 1000 })
        .then(() => accel.close({ drain: false }).then(() => process.exit(0)));
    },
  );
} else if (role === 'echo') {
  const sizes = frameSizes();
  const reply = new Uint8Array(sizes.completion);
  const hop = b === 'thread' ? await threadHop() : undefined;
  const server = createServer((socket) => {
    let pending = 0;
    const answer = () => socket.write(reply);
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.length;
      for (; pending >= sizes.request; pending -= sizes.request) {
        if (hop) hop(answer);
        else answer();
      }
    });
    socket.on('error', () => {});
  });
  server.listen(a!, () => process.stdout.write('READY\n'));
  answerCpu(
    () => ({}),
    () => process.exit(0),
  );
} else if (role === 'ping') {
  const sizes = frameSizes();
  const request = new Uint8Array(sizes.request);
  const socket = connect(a!);
  await new Promise((resolve) => socket.once('connect', resolve));
  const latencies: number[] = [];
  let cpu0 = process.cpuUsage();
  let elu0 = performance.eventLoopUtilization();
  let t0 = performance.now();
  let until = Number.POSITIVE_INFINITY;
  let warm = 200; // round trips before the measurement starts (as `client` warms up)
  await new Promise<void>((resolve) => {
    let got = 0;
    let sent = performance.now();
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got < sizes.completion) return;
      got -= sizes.completion;
      const now = performance.now();
      if (warm > 0 && --warm === 0) {
        cpu0 = process.cpuUsage();
        elu0 = performance.eventLoopUtilization();
        t0 = now;
        until = t0 + Number(b) * 1000;
      } else if (warm === 0) latencies.push(now - sent);
      if (now >= until) return resolve();
      sent = performance.now();
      socket.write(request);
    });
    socket.write(request);
  });
  const elapsed = (performance.now() - t0) / 1000;
  report(latencies, elapsed, process.cpuUsage(cpu0), performance.eventLoopUtilization(elu0).utilization);
  socket.destroy();
  process.exit(0);
} else {
  const spec = a!;
  const seconds = Number(b);
  const inflight = Number(c);
  const accel = await openAccelerator({ devices: [spec], ...(d === 'off' ? { queue: NO_GATE } : {}) });
  const key = newEcKey().material;
  const digest = new Uint8Array(32).fill(7);
  const run = () => accel.queue.submit({ op: 'ecdsa-sign', key, digest });
  // Warm-up.
  await Promise.all(Array.from({ length: Math.min(inflight, 64) }, run));
  const latencies: number[] = [];
  let stop = false;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const loop = async () => {
    while (!stop) {
      const s = performance.now();
      await run();
      latencies.push(performance.now() - s);
    }
  };
  const timer = setTimeout(() => {
    stop = true;
  }, seconds * 1000);
  await Promise.all(Array.from({ length: inflight }, loop));
  clearTimeout(timer);
  const elapsed = (performance.now() - t0) / 1000;
  report(latencies, elapsed, process.cpuUsage(cpu0), performance.eventLoopUtilization(elu0).utilization);
  await accel.close({ drain: false });
  process.exit(0);
}

/** The client's line: operations, seconds, p50/p99 (µs), CPU (µs), event-loop utilisation. */
function report(latencies: number[], seconds: number, cpu: NodeJS.CpuUsage, elu: number): void {
  latencies.sort((x, y) => x - y);
  const q = (p: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 1000;
  const ops = latencies.length;
  process.stdout.write(
    `${JSON.stringify({ ops, seconds, p50Us: q(0.5), p99Us: q(0.99), cpuUs: cpu.user + cpu.system, elu })}\n`,
  );
}
