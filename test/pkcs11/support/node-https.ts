/**
 * Node's own `https` serving with a token key, in child processes: one process
 * or a `cluster` of several, the key from the libp11 engine
 * (`privateKeyEngine: 'pkcs11'`, KEY_URI) or a PEM file (KEY_PEM). Engine calls
 * are synchronous, so each worker signs one handshake at a time: a cluster of N
 * is how N signatures reach the broker at once. Plain .mjs (no tsx): it starts
 * fast. Used by test/pkcs11/consumers (concurrent handshakes) and bench/pkcs11.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

/**
 * The server: asked 'busy' over IPC, it answers the milliseconds its event
 * loop(s) were busy (summed over the workers): with the engine, a loop is busy
 * while it waits for the broker's answer.
 */
const SERVER_SCRIPT = `
import cluster from 'node:cluster';
import https from 'node:https';
import { readFileSync } from 'node:fs';
const workers = Number(process.env.WORKERS);
if (cluster.isPrimary && workers > 1) {
  let ready = 0;
  let replies = [];
  const all = [];
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork();
    all.push(w);
    w.on('message', (m) => {
      if (m === 'ready' && ++ready === workers) process.send('ready');
      if (typeof m === 'object') {
        replies.push(m);
        if (replies.length === workers) {
          process.send({ busyMs: replies.reduce((sum, r) => sum + r.busyMs, 0) });
          replies = [];
        }
      }
    });
  }
  process.on('message', (m) => { if (m === 'busy') for (const w of all) w.send('busy'); });
  process.on('SIGTERM', () => { for (const w of all) w.kill(); process.exit(0); });
} else {
  const key = process.env.KEY_URI
    ? { privateKeyEngine: 'pkcs11', privateKeyIdentifier: process.env.KEY_URI }
    : { key: readFileSync(process.env.KEY_PEM) };
  const server = https.createServer({ ...key, cert: readFileSync(process.env.CERT) }, (_req, res) => res.end('ok'));
  process.on('message', (m) => {
    if (m === 'busy') process.send({ busyMs: performance.eventLoopUtilization().active });
  });
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send('ready'));
}
`;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface NodeHttpsServer {
  readonly child: ChildProcess;
  readonly port: number;
  /** Event-loop busy milliseconds so far, over all its processes. */
  busy(): Promise<number>;
  /** SIGTERM (the primary stops its workers) and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Start the server with `workers` processes (1: no cluster); `env` names the key
 * (KEY_URI with the engine's variables, or KEY_PEM) and CERT. The script is written to `dir`.
 */
export async function startNodeHttps(
  dir: string,
  env: NodeJS.ProcessEnv,
  workers: number,
): Promise<NodeHttpsServer> {
  const script = join(dir, 'node-https-server.mjs');
  writeFileSync(script, SERVER_SCRIPT);
  const port = await freePort();
  const child = fork(script, [], {
    env: { ...env, WORKERS: String(workers), PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`Node https server exited ${code} before it was ready`)));
  });
  const busy = () =>
    new Promise<number>((resolve) => {
      child.once('message', (m) => resolve((m as { busyMs: number }).busyMs));
      child.send('busy');
    });
  return { child, port, busy, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** One full TLS handshake (a fresh connection, no session) to 127.0.0.1:port, trusting only `ca`. */
export function handshake(port: number, ca: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
