/**
 * The broker end to end (issue 15): a broker process on a temporary socket over
 * sim:ring + software; clients in child processes and a worker thread; handles
 * of a closed client and of another uid refused; broker killed mid-flight
 * (DeviceGoneError, reconnect, work resumes); client killed mid-flight (its keys
 * freed); malformed frames (the broker survives, another client is unaffected).
 * No wall-clock assertions: every wait is "until it happens" with a generous bound.
 */

import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import * as nc from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStyle } from '../../cli/io.js';
import { run } from '../../cli/program.js';
import { BrokerDevice } from '../../drivers/broker/device.js';
import {
  emptyFrame,
  encodeFrames,
  FrameReader,
  FrameType,
  helloFrame,
  MAGIC,
  opCode,
} from '../../drivers/broker/protocol.js';
import { type Accelerator, openAccelerator } from '../../index.js';
import { type BrokerStats, readBrokerStats, serve } from '../../server/index.js';
import { newEcKey } from '../support/keys.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const DEVICES = 'sim:ring,software';

let dir: string;
let path: string;
let namedPath: string;
/** The named key the broker loads (`--key named-ec=…`): node's copy, to check signatures with. */
const namedKey = nc.generateKeyPairSync('ec', { namedCurve: 'P-256' });

interface BrokerProcess {
  readonly proc: ChildProcess;
  readonly log: string[];
}

/** The broker process: GC exposed (memory figures after a GC), one named key of this uid's. */
function startBroker(): Promise<BrokerProcess> {
  const args = [
    '--expose-gc',
    '--import',
    'tsx',
    fixture('broker.ts'),
    path,
    DEVICES,
    `named-ec=${namedPath}`,
  ];
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PKACCEL_DEVICES: '' },
  });
  const log: string[] = [];
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        log.push(line);
        if (line.startsWith('READY')) resolve({ proc, log });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => log.push(`stderr: ${c.toString()}`));
    proc.once('exit', (code) => reject(new Error(`broker exited ${code}: ${log.join('\n')}`)));
  });
}

function stopBroker(b: BrokerProcess | undefined): Promise<void> {
  if (!b || b.proc.exitCode !== null || b.proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    b.proc.once('exit', () => resolve());
    b.proc.kill('SIGTERM');
  });
}

function runNode(args: string[], options: { uid?: number; gid?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ...args],
      { timeout: 90_000, env: { ...process.env, PKACCEL_DEVICES: '' }, cwd: process.cwd(), ...options },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

async function until(what: string, test: () => boolean | Promise<boolean>, boundMs = 30_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let broker: BrokerProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkaccel-broker-'));
  path = join(dir, 'broker.sock');
  namedPath = join(dir, 'named-ec.pem');
  writeFileSync(namedPath, namedKey.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  broker = await startBroker();
});

afterAll(async () => {
  await stopBroker(broker);
  rmSync(dir, { recursive: true, force: true });
});

/** node's P-256 private key, imported through `accel` for ECDSA signing. */
function importSigningKey(accel: Accelerator, key: nc.KeyObject, extractable: boolean) {
  return accel.subtle.importKey(
    'pkcs8',
    key.export({ format: 'der', type: 'pkcs8' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    extractable,
    ['sign'],
  );
}

/** A BrokerDevice of our own (for key counts and raw key-store calls). */
async function openDevice(): Promise<BrokerDevice> {
  const device = new BrokerDevice(`broker:${path}`, path, { depth: 64, reconnect: false });
  await device.start();
  return device;
}

describe('broker', () => {
  it('serves two client processes and a worker thread: results checked with node:crypto', async () => {
    const worker = new Worker(fixture('worker-boot.mjs'), {
      workerData: [path, 'check'],
    });
    const fromWorker = new Promise<string>((resolve, reject) => {
      worker.on('message', (m: string) => resolve(m));
      worker.on('error', reject);
    });
    const outs = await Promise.all([
      runNode([fixture('client.ts'), path, 'check']),
      runNode([fixture('client.ts'), path, 'check']),
      fromWorker,
    ]);
    await worker.terminate();
    for (const out of outs) expect(out).toMatch(/OK 11/);
    // The broker logged each client with its uid and pid (peer credentials).
    await until(
      'client log lines',
      () => broker!.log.filter((l) => / connected: uid \d+ gid \d+ pid \d+/.test(l)).length >= 3,
    );
  });

  it('a broker key shared with a worker thread (accel.keys.share / adopt) signs there', async () => {
    const accel = await openAccelerator({ devices: [`broker:${path}`] });
    const worker = new Worker(fixture('worker-boot.mjs'), { workerData: [path, 'adopt'] });
    try {
      const pair = nc.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const key = await importSigningKey(accel, pair.privateKey, false);
      expect(() => structuredClone(key)).toThrow(); // a key does not cross threads by itself
      const shared = accel.keys.share(key);
      expect(structuredClone(shared)).toEqual(shared);
      expect(JSON.stringify(shared)).not.toMatch(/"d"/);
      const messages: string[] = [];
      const next = () =>
        new Promise<string>((resolve, reject) => {
          if (messages.length > 0) return resolve(messages.shift()!);
          worker.once('message', (m: string) => resolve(m));
          worker.once('error', reject);
        });
      expect(await next()).toBe('READY');
      worker.postMessage(shared);
      const signature = Buffer.from(await next(), 'base64');
      const ok = nc.verify(
        'sha256',
        Buffer.from('from a worker'),
        { key: pair.publicKey, dsaEncoding: 'ieee-p1363' },
        signature,
      );
      expect(ok).toBe(true);
      // A key whose material is in this process has no handle to share.
      const inline = await importSigningKey(accel, pair.privateKey, true);
      expect(() => accel.keys.share(inline)).toThrow(/device-held/);
    } finally {
      await worker.terminate();
      await accel.close();
    }
  });

  it('refuses a handle once its client has gone, and keeps keys of a live client', async () => {
    const a = await openDevice();
    const held = await a.keyStore.importKey(newEcKey().material);
    expect(held.held?.handle).toMatch(/^[0-9a-f]{32}$/);
    expect(await runNode([fixture('raw-client.ts'), path, held.held!.handle])).toMatch(/STATUS ok/);
    await a.close();
    // Another connection of this process opened later does not bring it back: the session ended.
    await until('session end', async () => {
      const b = await openDevice();
      const n = await b.keyCount();
      await b.close();
      return n === 0;
    });
    expect(await runNode([fixture('raw-client.ts'), path, held.held!.handle])).toMatch(/STATUS invalid-key/);
  });

  it('refuses a handle presented under another uid', async (ctx) => {
    if (process.getuid?.() !== 0) {
      ctx.skip(); // needs root to run a client as nobody
      return;
    }
    // The client runs from this checkout: under a private directory (a clone in `mktemp -d`),
    // uid 65534 cannot read it, and the case cannot be run here.
    const tsx = join(process.cwd(), 'node_modules', 'tsx', 'package.json');
    const probe = spawnSync(
      process.execPath,
      ['-e', `require('node:fs').accessSync(${JSON.stringify(tsx)})`],
      {
        uid: 65534,
        gid: 65534,
      },
    );
    if (probe.status !== 0) {
      console.warn(
        `SKIPPED: uid 65534 cannot read this checkout (${tsx}); the other-uid case needs it readable`,
      );
      ctx.skip();
      return;
    }
    const a = await openDevice();
    const held = await a.keyStore.importKey(newEcKey().material);
    chmodSync(dir, 0o755);
    chmodSync(path, 0o666);
    try {
      const asNobody = await runNode([fixture('raw-client.ts'), path, held.held!.handle], {
        uid: 65534,
        gid: 65534,
      });
      expect(asNobody).toMatch(/STATUS invalid-key uid=65534/);
      expect(await runNode([fixture('raw-client.ts'), path, held.held!.handle])).toMatch(/STATUS ok uid=0/);
    } finally {
      chmodSync(path, 0o660);
      chmodSync(dir, 0o700);
      await a.close();
    }
  });

  it('survives malformed frames; another client is unaffected', async () => {
    const accel = await openAccelerator({ devices: [`broker:${path}`] });
    const keys = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const data = new Uint8Array([1, 2, 3]);
    const signOnce = async () => {
      const sig = await accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, data);
      return accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, keys.publicKey, sig, data);
    };
    const good = (async () => {
      let n = 0;
      for (let i = 0; i < 20; i++) if (await signOnce()) n++;
      return n;
    })();
    const rnd = (seed: number) => {
      let s = seed;
      return () => {
        s = (s * 1103515245 + 12345) >>> 0;
        return s;
      };
    };
    const next = rnd(42);
    let errorFrames = 0;
    const attempts: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(1 + (next() % 300));
        for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
      } else {
        // A valid HELLO, then a request with one mutated header byte or an oversized length.
        const f = emptyFrame(FrameType.request);
        f.op = opCode('ecdsa-sign');
        f.fields[1] = new Uint8Array(32);
        f.keyKind = 4;
        f.curve = 1;
        f.fields[0] = new Uint8Array(96).fill(3);
        const frame = encodeFrames([f]);
        const at = next() % 56;
        if (i % 4 === 1) frame[at] = (frame[at]! ^ (1 + (next() % 255))) & 0xff;
        else new DataView(frame.buffer).setUint32(40, 0x7fffffff);
        bytes = new Uint8Array([...encodeFrames([helloFrame()]), ...frame]);
      }
      attempts.push(
        new Promise<void>((resolve) => {
          const s = connect(path);
          const reader = new FrameReader();
          s.on('connect', () => s.write(bytes));
          s.on('data', (c) => {
            try {
              for (const fr of reader.push(c)) if (fr.type === FrameType.error) errorFrames++;
            } catch {}
          });
          s.on('error', () => {});
          s.on('close', () => resolve());
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 5000).unref();
        }),
      );
    }
    await Promise.all(attempts);
    expect(await good).toBe(20);
    expect(errorFrames).toBeGreaterThan(0);
    expect(MAGIC).toBe(0x504b4246);
    expect(broker!.proc.exitCode).toBeNull();
    expect(await signOnce()).toBe(true);
    await accel.close();
  });

  it('a client killed mid-flight: its jobs abandoned, its keys freed, broker memory back to baseline', async () => {
    const base = await readBrokerStats(path, { gc: true });
    const killOne = async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture('client.ts'), path, 'hold'], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, PKACCEL_DEVICES: '' },
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (c: Buffer) => {
          if (c.toString().includes('HOLDING')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`client exited ${code}`)));
      });
      const pid = child.pid!;
      // Its three keys are held and its flood is in the broker (waiting or on the card).
      await until('the client busy at the broker', async () =>
        (await readBrokerStats(path)).clients.some(
          (c) => c.pid === pid && c.keysHeld === 3 && c.submitted > 64 && c.waiting + c.inFlight >= 64,
        ),
      );
      child.kill('SIGKILL');
      let last = '';
      await until(
        'the client gone, its keys freed, nothing in flight',
        async () => {
          const s = await readBrokerStats(path);
          last = JSON.stringify({
            clients: s.clients,
            keys: [s.sessionKeys, base.sessionKeys],
            inFlight: s.inFlight,
          });
          return (
            // ≤: a key of an earlier test's client may still have been live when `base` was read.
            !s.clients.some((c) => c.pid === pid) && s.sessionKeys <= base.sessionKeys && s.inFlight === 0
          );
        },
        60_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; last stats: ${last}`);
      });
    };
    await killOne(); // the first one also grows the broker's pools and caches to their working size
    const warm = await readBrokerStats(path, { gc: true });
    for (let i = 0; i < 3; i++) await killOne();
    const after = await readBrokerStats(path, { gc: true });
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    console.log(
      `broker after GC: heap ${mb(base.heapUsedBytes)} at start, ${mb(warm.heapUsedBytes)} after 1 killed client, ${mb(after.heapUsedBytes)} after 4; rss ${mb(base.rssBytes)}, ${mb(warm.rssBytes)}, ${mb(after.rssBytes)}`,
    );
    expect(after.gcRan).toBe(true);
    expect(after.sessionKeys).toBeLessThanOrEqual(base.sessionKeys);
    // Three more killed clients leave nothing behind: bounds far below what a leak of their
    // frames, keys or jobs would hold (each flooded thousands of requests), far above GC noise.
    expect(after.heapUsedBytes - warm.heapUsedBytes).toBeLessThan(8 * 1024 * 1024);
    expect(after.rssBytes - warm.rssBytes).toBeLessThan(48 * 1024 * 1024);
    expect(broker!.log.filter((l) => /session keys destroyed/.test(l)).length).toBeGreaterThanOrEqual(4);
    expect(broker!.log.some((l) => /[1-9]\d* abandoned (waiting|in flight)/.test(l))).toBe(true);
  }, 180_000);

  it('broker killed mid-flight: jobs settle (DeviceGoneError), the client reconnects, work resumes', async () => {
    const accel = await openAccelerator({ devices: [`broker:${path}`] });
    const keys = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const data = new Uint8Array([9]);
    const named = await accel.keys.open('named-ec', { name: 'ECDSA', namedCurve: 'P-256' }, ['sign']);
    const session = await accel.subtle.importKey(
      'pkcs8',
      nc
        .generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ format: 'der', type: 'pkcs8' }),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    const ecdsa = { name: 'ECDSA', hash: 'SHA-256' } as const;
    const namedSigns = async () =>
      nc.verify(
        'sha256',
        data,
        { key: namedKey.publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(await accel.subtle.sign(ecdsa, named.privateKey, data)),
      );
    expect(await namedSigns()).toBe(true);
    await accel.subtle.sign(ecdsa, session, data);
    const jobs = Array.from({ length: 200 }, () =>
      accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, data).then(
        () => 'ok',
        (e: Error & { cause?: { code?: string } }) => e.name + (e.cause?.code ? `:${e.cause.code}` : ''),
      ),
    );
    await new Promise((r) => setTimeout(r, 20));
    broker!.proc.kill('SIGKILL');
    const outcomes = await Promise.all(jobs); // no hang: every job settles
    const failed = outcomes.filter((o) => o !== 'ok');
    expect(failed.length).toBeGreaterThan(0);
    // subtle's OperationError, caused by the queue's DeviceGoneError (code device-gone)
    expect(new Set(failed)).toEqual(new Set(['OperationError:device-gone']));
    await until('device gone', () => accel.devices[0]!.state === 'gone');
    broker = await startBroker();
    await until('device back', () => accel.devices[0]!.state === 'ready', 30_000);
    let resumed = false;
    await until('work resumes', async () => {
      try {
        const sig = await accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, data);
        resumed = await accel.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, keys.publicKey, sig, data);
      } catch {
        resumed = false;
      }
      return resumed;
    });
    expect(resumed).toBe(true);
    // The named key came back (opened again on the new connection); the session key is gone.
    expect(await namedSigns()).toBe(true);
    const refused = await accel.subtle.sign(ecdsa, session, data).then(
      () => 'signed',
      (e: Error & { cause?: { code?: string; message?: string } }) => `${e.cause?.code}: ${e.cause?.message}`,
    );
    expect(refused).toMatch(/^invalid-key: .*session keys are gone/);
    await accel.close();
  });

  it('pkaccel stats --devices broker:SOCKET shows the broker devices and one row per client', async () => {
    const accel = await openAccelerator({ devices: [`broker:${path}`] });
    try {
      const { privateKey } = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
        'sign',
      ]);
      for (let i = 0; i < 5; i++)
        await accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new Uint8Array([i]));
      const cli = async (...args: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const io = {
          out: (t: string) => out.push(t),
          err: (t: string) => err.push(t),
          outIsTTY: false,
          errIsTTY: false,
          style: createStyle(false),
        };
        const argv = ['node', 'pkaccel', 'stats', '--devices', ...args];
        const code = await run(argv, { io, env: { ...process.env, PKACCEL_DEVICES: '' } });
        return { code, out: out.join(''), err: err.join('') };
      };
      const json = await cli(`broker:${path}`, '--interval', '100', '--json');
      expect(json.code, json.err).toBe(0);
      const stats = JSON.parse(json.out) as BrokerStats & { socket: string };
      expect(stats.socket).toBe(path);
      expect(stats.devices.map((d) => d.id)).toEqual(['sim:ring#0', 'software']);
      expect(stats.devices.reduce((n, d) => n + d.completed, 0)).toBeGreaterThanOrEqual(5);
      // This process's connection: its generated key, its 5 signatures (and the gate's verifications).
      // keysHeld counts the process's session keys, over all its connections: a key of an earlier
      // test's connection may still be live (its close not yet seen by the broker), so at least 1;
      // the connection is the one with this test's completions.
      const mine = stats.clients.find((c) => c.pid === process.pid && c.keysHeld >= 1 && c.completed >= 6);
      expect(mine).toBeDefined();
      expect(mine!.completed).toBeGreaterThanOrEqual(6);
      expect(mine!.uid).toBe(process.getuid!());
      const text = await cli(`broker:${path}`, '--interval', '100');
      expect(text.code, text.err).toBe(0);
      expect(text.out).toMatch(
        /client\s+uid\s+gid\s+pid\s+completed\s+failed\s+in flight\s+waiting\s+keys held/,
      );
      expect(text.out).toMatch(new RegExp(`\\s${process.pid}\\s`));
      const usage = await cli('software');
      expect(usage.err).toMatch(/not a broker: device/);
      expect(usage.code).not.toBe(0);
    } finally {
      await accel.close();
    }
  });

  it('fair queueing: a flooding client does not starve another (embedded broker, 8 jobs in flight)', async () => {
    const fairPath = join(dir, 'fair.sock');
    const embedded = await serve({
      devices: ['software'],
      socketPath: fairPath,
      maxInFlight: 8,
      maxInFlightPerClient: 8,
    });
    const flooder = await openAccelerator({ devices: [`broker:${fairPath}`] });
    const light = await openAccelerator({ devices: [`broker:${fairPath}`] });
    try {
      const key = newEcKey().material;
      const digest = new Uint8Array(32).fill(5);
      const FLOOD = 600;
      let flooded = 0;
      const flood = Array.from({ length: FLOOD }, () =>
        flooder.queue.submit({ op: 'ecdsa-sign', key, digest }).then(() => {
          flooded++;
        }),
      );
      await until('flood under way', () => flooded > 0);
      for (let i = 0; i < 5; i++) await light.queue.submit({ op: 'ecdsa-sign', key, digest });
      const floodDoneWhenLightFinished = flooded;
      await Promise.all(flood);
      // FIFO would put each light job behind the flood jobs waiting before it; round-robin behind at most 8.
      expect(floodDoneWhenLightFinished).toBeLessThan(FLOOD / 2);
      const clients = embedded.clients();
      expect(clients.length).toBe(2);
    } finally {
      await flooder.close();
      await light.close();
      await embedded.close();
    }
  });
});
