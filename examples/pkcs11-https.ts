/**
 * A Node `https` server whose TLS handshakes are signed by a key that never
 * enters this process: Node's own OpenSSL loads the libp11 engine, libp11 loads
 * p11-kit's client module, and that forwards each C_Sign over a Unix socket to
 * `pkaccel serve --pkcs11`, which runs it on a card through its job queue (and
 * integrity gate).
 *
 * Against your own broker (its PKCS#11 socket, a named key and a certificate):
 *
 *   P11_KIT_SERVER_ADDRESS=unix:path=/run/pkaccel/pkcs11 \
 *   PKCS11_KEY_URI='pkcs11:object=web;type=private' TLS_CERT=web.pem PORT=8443 \
 *   node --import tsx examples/pkcs11-https.ts
 *
 * Without P11_KIT_SERVER_ADDRESS it is a self-contained demo: it makes a P-256
 * (or, with the argument `rsa`, an RSA-2048) key and a self-signed certificate
 * for localhost, starts `pkaccel serve --pkcs11` in a child process over the
 * SIMULATED ring card (`sim:ring`: this is a demo, not a card), deletes the key
 * file once the broker holds the key, and serves on https://127.0.0.1:8443/.
 *
 * Node-specific set-up (Node 20; see the README section "Use pkaccel keys from
 * OpenSSL, curl, nginx and Node's TLS"):
 * - OPENSSL_ENGINES: official Node builds link OpenSSL statically with no engine
 *   directory; the script defaults it to Debian's (/usr/lib/x86_64-linux-gnu/engines-3).
 * - PKCS11_MODULE_PATH: libp11's module, p11-kit-client.so (its default is p11-kit-proxy).
 * - privateKeyEngine/privateKeyIdentifier go to createServer itself (a
 *   `secureContext` option is ignored by https.createServer).
 * - Engine calls are synchronous: each handshake blocks this event loop for one
 *   round trip to the broker, which must run in another process (or thread).
 * - Engine options are deprecated after Node 20 (DEP0183); see the README for what replaces them.
 *
 * In your own project, run the broker with `npx pkaccel serve --pkcs11 …` instead of the repository's CLI.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIBDIR = '/usr/lib/x86_64-linux-gnu';
// Set before the first engine load: Node's OpenSSL and libp11 read them then (process.env writes reach getenv).
process.env.OPENSSL_ENGINES ??= join(LIBDIR, 'engines-3');
process.env.PKCS11_MODULE_PATH ??= join(LIBDIR, 'pkcs11', 'p11-kit-client.so');

interface Setup {
  readonly keyUri: string;
  readonly cert: Buffer;
  /** Stops what the demo started. */
  readonly cleanup: () => void;
}

/** The demo: a fresh key and certificate, and `pkaccel serve --pkcs11` over the simulated card. */
async function startDemoBroker(keyType: 'rsa' | 'ec'): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'pkaccel-https-'));
  const pair =
    keyType === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyFile = join(dir, 'web.pem');
  writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const certFile = join(dir, 'web-cert.pem');
  execFileSync('openssl', [
    'req',
    '-new',
    '-x509',
    '-days',
    '30',
    '-key',
    keyFile,
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-out',
    certFile,
  ]);
  const socket = join(dir, 'pkcs11.sock');
  const cli = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
  const broker: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      cli,
      'serve',
      '--devices',
      'sim:ring',
      '--socket',
      join(dir, 'broker.sock'),
      '--pkcs11',
      socket,
      '--key',
      `web=${keyFile}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const cleanup = () => {
    broker.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  // The socket file appears when the broker listens on it.
  for (let waited = 0; !existsSync(socket); waited += 100) {
    if (broker.exitCode !== null || waited > 60_000) {
      cleanup();
      throw new Error(`pkaccel serve --pkcs11 did not start (exit ${broker.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  unlinkSync(keyFile); // from here on the private key exists only inside the broker process
  console.log(`demo: pkaccel serve --pkcs11 ${socket} over the simulated card sim:ring holds key "web"`);
  console.log(`demo: certificate ${certFile}`);
  process.env.P11_KIT_SERVER_ADDRESS = `unix:path=${socket}`;
  return { keyUri: 'pkcs11:object=web;type=private', cert: readFileSync(certFile), cleanup };
}

async function setup(): Promise<Setup> {
  if (process.env.P11_KIT_SERVER_ADDRESS === undefined)
    return startDemoBroker(process.argv[2] === 'rsa' ? 'rsa' : 'ec');
  const keyUri = process.env.PKCS11_KEY_URI;
  const certFile = process.env.TLS_CERT;
  if (keyUri === undefined || certFile === undefined)
    throw new Error(
      'with P11_KIT_SERVER_ADDRESS set, also set PKCS11_KEY_URI (pkcs11:object=…) and TLS_CERT (PEM)',
    );
  return { keyUri, cert: readFileSync(certFile), cleanup: () => {} };
}

const { keyUri, cert, cleanup } = await setup();
let handshakes = 0;
let server: https.Server;
try {
  // The engine opens the key here, synchronously; every handshake then signs through it.
  server = https.createServer(
    { privateKeyEngine: 'pkcs11', privateKeyIdentifier: keyUri, cert },
    (_req, res) => {
      res.end(
        `hello over TLS; handshake ${handshakes} signed by ${keyUri.replace(/;pin-value=[^;]*/, '')}\n`,
      );
    },
  );
} catch (error) {
  cleanup();
  throw error;
}
server.on('secureConnection', () => handshakes++);
server.on('tlsClientError', (error) => console.error(`TLS client error: ${error.message}`));
server.listen(Number(process.env.PORT ?? 8443), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening on https://127.0.0.1:${port}/ (key ${keyUri.replace(/;pin-value=[^;]*/, '')})`);
});
const stop = (signal: string) => {
  console.log(`${signal}: ${handshakes} handshakes served; stopping`);
  server.close();
  server.closeAllConnections();
  cleanup();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
