/**
 * The measuring loop of issue 16's table, shared by the QEMU guest's keyring boot
 * (./keyring.ts) and the host's `npm run bench -- keyring`: keep a number of jobs
 * in flight on one queue pair for a while, straight on the device (no layers
 * above), and report ops/s, p50/p99 latency and CPU per operation; and a broker
 * (`pkaccel serve`, the CLI) started in a child process for the broker rows.
 * Imports only node builtins and types, so it compiles alone into the guest's initramfs.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Completion, PrimitiveRequest, QueuePair } from '../../../index.js';

/** What the loop needs of a queue pair (a keyctl call adapter in the guest has just this). */
export type Drivable = Pick<QueuePair, 'depth' | 'inFlight' | 'submit' | 'harvest' | 'waitForCompletions'>;

export interface Figures {
  readonly ops: number;
  readonly opsPerSecond: number;
  /** Latency per job, ms. */
  readonly p50: number;
  readonly p99: number;
  /** CPU per operation, µs: this process, plus the other process when one was named. */
  readonly userUs: number;
  readonly systemUs: number;
  /** The other process's share of userUs/systemUs (the broker's), when one was named. */
  readonly other?: { readonly userUs: number; readonly systemUs: number };
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/**
 * CPU time of another process so far (µs, user and system), from /proc/<pid>/stat
 * (utime and stime, in clock ticks of USER_HZ, which is 100 on Linux x86-64).
 */
export function processCpu(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 1e6 / 100;
  return { user: Number(fields[11]) * tick, system: Number(fields[12]) * tick };
}

/**
 * Keep `inFlight` jobs of `request` on `qp` for `ms` (at least one job); a failed
 * job throws. `otherPid`: a process doing part of the work (the broker), whose CPU
 * time is added to the per-operation figures and reported apart.
 */
export async function drive(
  qp: Drivable,
  request: PrimitiveRequest,
  inFlight: number,
  ms: number,
  otherPid?: number,
): Promise<Figures> {
  const started = new Map<number, number>();
  const latencies: number[] = [];
  let tag = 0;
  const take = (c: Completion) => {
    if (!c.ok) throw c.error;
    latencies.push(performance.now() - started.get(c.tag)!);
    started.delete(c.tag);
  };
  const otherBefore = otherPid === undefined ? undefined : processCpu(otherPid);
  const cpu = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < ms || latencies.length === 0) {
    const room = Math.min(inFlight, qp.depth) - qp.inFlight;
    const batch = Array.from({ length: Math.max(0, room) }, () => ({ tag: tag++ % 2 ** 31, request }));
    for (const j of batch) started.set(j.tag, performance.now());
    qp.submit(batch);
    await qp.waitForCompletions(AbortSignal.timeout(60_000));
    qp.harvest(take);
  }
  while (qp.inFlight > 0) {
    await qp.waitForCompletions(AbortSignal.timeout(60_000));
    qp.harvest(take);
  }
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const n = latencies.length;
  latencies.sort((a, b) => a - b);
  let other: Figures['other'];
  if (otherPid !== undefined && otherBefore !== undefined) {
    const after = processCpu(otherPid);
    other = {
      userUs: (after.user - otherBefore.user) / n,
      systemUs: (after.system - otherBefore.system) / n,
    };
  }
  return {
    ops: n,
    opsPerSecond: n / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    userUs: used.user / n + (other?.userUs ?? 0),
    systemUs: used.system / n + (other?.systemUs ?? 0),
    ...(other === undefined ? {} : { other }),
  };
}

/** A `pkaccel serve` child process listening on a socket in a fresh private directory. */
export interface ServedBroker {
  readonly pid: number;
  readonly socket: string;
  /** What it printed so far. */
  log(): string;
  /** SIGTERM (SIGKILL after 20 s), wait for it to exit, remove the directory. */
  stop(): Promise<void>;
}

/**
 * Start `node <cli> serve --socket <tmp>/broker.sock --devices <devices>` (the
 * broker's public entry) and resolve once it says it listens; reject with what it
 * printed if it exits first or does not listen within `timeoutMs`.
 */
export async function serveBroker(cli: string, devices: string, timeoutMs = 90_000): Promise<ServedBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'pkaccel-broker-'));
  const socket = join(dir, 'broker.sock');
  const child = spawn(process.execPath, [cli, 'serve', '--socket', socket, '--devices', devices], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`pkaccel serve did not listen within ${timeoutMs} ms: ${log}`)),
        timeoutMs,
      );
      const take = (b: Buffer) => {
        log += b.toString();
        if (/listening on/.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`pkaccel serve exited (${code}) before listening: ${log}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid!, socket, log: () => log, stop };
}
