/**
 * bench/broker.bench.ts's processes. `server <path> <device> <gate on|off>`: a
 * broker; answers "cpu" on stdin with its process.cpuUsage() and its main thread's event-loop
 * utilisation so far (elu: busy time and idle time in ms) as JSON.
 * `client <spec> <seconds> <inflight> <gate on|off>`: a closed loop of ECDSA
 * P-256 signatures (queue.submit, inline key) through one accelerator; prints
 * { ops, seconds, p50Us, p99Us, cpuUs, elu } as JSON (elu: the share of the run its main
 * thread was busy — near 1, the client's own thread is the limit).
 */

import { createInterface } from 'node:readline';
import { GATE_OFF, type IntegrityOptions } from '../../core/integrity/options.js';
import { openAccelerator } from '../../index.js';
import { serve } from '../../server/index.js';
import { newEcKey } from '../../test/support/keys.js';

/**
 * For the null and timed engines (fixed answers): no gate, and a fixed stall limit — on a
 * loaded machine a learned one judged a deep timed card stalled, and its recovery self-test
 * can never pass on fixed answers, so the card stayed out of service.
 */
const NO_GATE = { integrity: { [GATE_OFF]: true } as IntegrityOptions, stallTimeoutMs: 60_000 };
const [role, a, b, c, d] = process.argv.slice(2);

if (role === 'server') {
  const accel = await openAccelerator({ devices: [b!], ...(c === 'off' ? { queue: NO_GATE } : {}) });
  const broker = await serve({ socketPath: a!, accelerator: accel });
  process.stdout.write('READY\n');
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line !== 'cpu') return;
    // CPU so far, and the socket reads/writes of the clients connected now (frames per read and write).
    const io = { reads: 0, framesIn: 0, writes: 0, framesOut: 0 };
    for (const c of broker.clients()) for (const k of Object.keys(io) as (keyof typeof io)[]) io[k] += c[k];
    const { active, idle } = performance.eventLoopUtilization();
    process.stdout.write(`${JSON.stringify({ ...process.cpuUsage(), ...io, active, idle })}\n`);
  });
  process.stdin.on('end', () => {
    void broker
      .close({ drainMs: 1000 })
      .then(() => accel.close({ drain: false }).then(() => process.exit(0)));
  });
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
  let ops = 0;
  let stop = false;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const loop = async () => {
    while (!stop) {
      const s = performance.now();
      await run();
      latencies.push(performance.now() - s);
      ops++;
    }
  };
  const timer = setTimeout(() => {
    stop = true;
  }, seconds * 1000);
  await Promise.all(Array.from({ length: inflight }, loop));
  clearTimeout(timer);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  latencies.sort((x, y) => x - y);
  const q = (p: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 1000;
  process.stdout.write(
    `${JSON.stringify({ ops, seconds: elapsed, p50Us: q(0.5), p99Us: q(0.99), cpuUs: cpu.user + cpu.system, elu })}\n`,
  );
  await accel.close({ drain: false });
  process.exit(0);
}
