/**
 * Stock consumers of `pkaccel serve --pkcs11` (issue 17 §5), nothing of ours on
 * the client side: Debian's p11-kit-client.so, the libp11 OpenSSL engine, the
 * openssl command, curl, gnutls-cli, and Node 20's own TLS with
 * `privateKeyEngine`. The broker is the built CLI with named RSA-2048 and P-256
 * keys (support/broker.ts) over the simulated card and the software device
 * (CARD_AND_SOFTWARE below), as a deployment would run it.
 *
 * Who signs is the completion-time scheduler's choice. One signature at a time
 * goes where it finishes first, and the simulated card computes with the same
 * OpenSSL as the software device plus a thread hop, so a lone handshake may be
 * signed by either: the per-server tests check that every handshake's signature
 * came from the broker's devices (card + software counts). Concurrent signatures
 * are what an offload card is for: Node's https as a cluster of 4 workers (each
 * engine call blocks its worker, so 4 workers are up to 4 signatures in flight)
 * serving 8 clients at once spreads work over both devices, and the card's own
 * count must grow (CARD_AND_SOFTWARE says how the software device is set up for that).
 *
 * - `openssl req -x509 -engine pkcs11` makes certificates `openssl verify` accepts,
 *   whose public key is the named key's;
 * - `openssl s_server`, nginx (`ssl_certificate_key "engine:pkcs11:…"`, where
 *   installed) and Node's `https.createServer` (examples/pkcs11-https.ts, in a
 *   child process: engine calls block their thread) with the engine key
 *   serve curl over TLS 1.2 and 1.3, and gnutls-cli with the signature scheme
 *   pinned (RSA PKCS#1 v1.5 in TLS 1.2, RSA-PSS in TLS 1.3, ECDSA);
 * - the broker's per-device counters grow by at least the handshakes served,
 *   and under concurrent handshakes on the card itself: the card signed.
 *
 * No timing assertions; each step has a generous bound for a loaded machine.
 */

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../cli/run-cli.js';
import { type Pkcs11Broker, startPkcs11Broker } from './support/broker.js';
import { deviceCounts } from './support/counters.js';
import { NGINX_ANSWER, startNginx } from './support/nginx.js';
import { handshake, startNodeHttps } from './support/node-https.js';
import { runOk, type Service, startService } from './support/process.js';
import {
  curlHandshake,
  engineCertificate,
  gnutlsHandshake,
  type Negotiated,
  startOpensslServer,
  type TlsServer,
} from './support/tls.js';
import { missingTools, P11_KIT_CLIENT } from './support/tools.js';

const skipped = missingTools('test/pkcs11/consumers (OpenSSL engine, curl, GnuTLS, Node TLS)', [
  'p11-kit-client.so',
  'libp11 engine',
  'openssl',
  'curl',
  'gnutls-cli',
  'p11tool',
]);

/** nginx is tested where it is installed (CI installs it); its absence skips only its tests. */
const nginxSkipped =
  skipped === undefined
    ? missingTools('test/pkcs11/consumers, nginx with the engine key', ['nginx'])
    : skipped;

const PIN = '2468';

/**
 * The card declared fast (`rate`: the ring driver's starting estimate for the scheduler, and the
 * real engine's modeled ceiling — far above what the model thread computes, so results come as
 * soon as computed) beside the software device, one signature at a time in its worker pool.
 * - `inline=off`: inline, software signs on the broker's own event-loop thread; nothing else
 *   moves meanwhile, no two signatures are ever seen in flight, and software looks free at any
 *   load (measured: 8 clients at once, 2 of 320 signatures on the card).
 * - `depth=1`: the card's first signatures (key load, a cold model thread) are slow, and the
 *   scheduler keeps the card's figures from them until its exploration probe (every 256 jobs):
 *   software, measured fast meanwhile, would take everything 4 engine workers send (measured:
 *   0 of 48 on the card). With one job in flight on software, a second signature arriving
 *   while software works goes to the idle card (the scheduler's work-conserving rule).
 */
const CARD_AND_SOFTWARE = 'sim:ring?rate=100000,software?inline=off&depth=1';
/** Node https workers (each signs one handshake at a time) and clients at once, and handshakes in all. */
const CLUSTER = { workers: 4, clients: 8, handshakes: 48 } as const;

/** What each key's handshakes are checked with: curl at both versions, then gnutls-cli pinning the scheme. */
const PINNED: Record<string, { priority: string; scheme: RegExp }[]> = {
  rsa: [
    { priority: 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-RSA-SHA256', scheme: /\(RSA-SHA256\)/ },
    { priority: 'NORMAL:-VERS-ALL:+VERS-TLS1.3', scheme: /\(RSA-PSS-RSAE-SHA256\)/ },
  ],
  ec: [
    { priority: 'NORMAL:-VERS-ALL:+VERS-TLS1.2', scheme: /\(ECDSA-SHA256\)/ },
    { priority: 'NORMAL:-VERS-ALL:+VERS-TLS1.3', scheme: /\(ECDSA-SECP256R1-SHA256\)/ },
  ],
};

/**
 * Every handshake one server gets — curl TLS 1.2 and 1.3, then the pinned
 * gnutls-cli ones — each answered with a body matching `answer`, and the broker's
 * devices' counts (card and software) grown by at least as many signatures (one per
 * full handshake).
 */
async function serveAndCount(
  broker: Pkcs11Broker,
  start: () => Promise<TlsServer>,
  cert: string,
  key: string,
  answer: RegExp,
): Promise<void> {
  const before = await deviceCounts(broker);
  const server = await start();
  const done: Negotiated[] = [];
  try {
    for (const version of ['1.2', '1.3'] as const) {
      const n = await curlHandshake(server.port, cert, version);
      expect(n.protocol, `curl --tlsv${version}`).toBe(`TLSv${version}`);
      done.push(n);
    }
    for (const { priority, scheme } of PINNED[key]!) {
      const n = await gnutlsHandshake(server.port, cert, priority);
      expect(n.detail, `gnutls-cli --priority ${priority}`).toMatch(scheme);
      done.push(n);
    }
  } finally {
    await server.stop();
  }
  for (const n of done) expect(n.response).toMatch(answer);
  const after = await deviceCounts(broker);
  expect(
    after.card + after.others - (before.card + before.others),
    `device counters before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`,
  ).toBeGreaterThanOrEqual(done.length);
}

/** examples/pkcs11-https.ts as the README runs it, ready when it prints its URL. */
function startExample(env: NodeJS.ProcessEnv): Promise<Service> {
  return startService(process.execPath, ['--import', 'tsx', join('examples', 'pkcs11-https.ts')], {
    cwd: REPO,
    env,
    ready: /^listening on https:\/\/127\.0\.0\.1:(\d+)\//,
    timeoutMs: 60_000,
  });
}

describe.skipIf(skipped !== undefined)('stock PKCS#11 consumers against pkaccel serve --pkcs11', () => {
  let broker: Pkcs11Broker;
  const certs = new Map<string, Promise<string>>();
  /** The key's self-signed certificate, made through the engine once per file. */
  const certificate = (key: string) => {
    let cert = certs.get(key);
    if (cert === undefined) {
      cert = engineCertificate(broker, key);
      certs.set(key, cert);
    }
    return cert;
  };

  beforeAll(async () => {
    // The card and software (see CARD_AND_SOFTWARE), and a PIN: every consumer logs in through
    // libp11 (the key URIs carry pin-value); the example's own demo below runs a token without one.
    broker = await startPkcs11Broker({ devices: CARD_AND_SOFTWARE, pin: PIN });
  }, 120_000);
  afterAll(async () => {
    await broker?.close();
  });

  it("GnuTLS's p11tool lists the token's objects and test-signs with each key (C_Sign, then C_Verify on the token)", async () => {
    const p11tool = (args: string[]) =>
      runOk('p11tool', ['--provider', P11_KIT_CLIENT, '--login', ...args], {
        env: { ...broker.env, GNUTLS_PIN: PIN },
      });
    const listed = (await p11tool(['--list-all'])).stdout;
    for (const [name, type] of [
      ['rsa', 'RSA-2048'],
      ['ec', 'EC/ECDSA-SECP256R1'],
    ])
      for (const kind of ['private', 'public'])
        expect(listed).toMatch(
          new RegExp(`token=pkaccel;id=[^;]+;object=${name};type=${kind}\\s+Type: \\w+ key \\(${type}\\)`),
        );
    for (const name of ['rsa', 'ec']) {
      const run = await p11tool(['--test-sign', `pkcs11:object=${name};type=private`]);
      const tested = run.stdout + run.stderr; // p11tool reports the steps on stderr
      expect(tested).toMatch(/Signing using (RSA|ECDSA)-SHA256\.\.\. ok/);
      expect(tested).toMatch(/Verifying against public key in the token\.\.\. ok/);
    }
  });

  describe.each(['rsa', 'ec'])('named key "%s"', (key) => {
    it('openssl req -x509 -engine pkcs11 makes a certificate openssl verify accepts, for the named key', async () => {
      const cert = await certificate(key);
      const verified = await runOk('openssl', ['verify', '-check_ss_sig', '-CAfile', cert, cert]);
      expect(verified.stdout).toMatch(/: OK$/m);
      const spki = (k: { export(o: { type: 'spki'; format: 'der' }): Buffer }) =>
        k.export({ type: 'spki', format: 'der' }).toString('hex');
      const x509 = new X509Certificate(readFileSync(cert));
      expect(spki(x509.publicKey)).toBe(spki(broker.keys[key]!.publicKey));
      expect(x509.verify(broker.keys[key]!.publicKey)).toBe(true);
    });

    it('openssl s_server with the engine key serves curl (TLS 1.2, 1.3) and gnutls-cli; the broker devices sign', async () => {
      const cert = await certificate(key);
      await serveAndCount(
        broker,
        () => startOpensslServer(broker, key, cert),
        cert,
        key,
        /HTTP\/1\.0 200 ok/,
      );
    }, 120_000);

    it.skipIf(nginxSkipped !== undefined)(
      'nginx with ssl_certificate_key "engine:pkcs11:<URI>" serves curl (TLS 1.2, 1.3) and gnutls-cli; the broker devices sign',
      async () => {
        const cert = await certificate(key);
        await serveAndCount(broker, () => startNginx(broker, key, cert), cert, key, new RegExp(NGINX_ANSWER));
      },
      120_000,
    );

    it("Node's https.createServer({ privateKeyEngine: 'pkcs11' }) serves curl and gnutls-cli; the broker devices sign", async () => {
      const cert = await certificate(key);
      const env = { ...broker.env, PKCS11_KEY_URI: broker.keys[key]!.uri, TLS_CERT: cert, PORT: '0' };
      let log: string[] = [];
      const start = async () => {
        // The example in its own process: the engine blocks that process's thread per handshake.
        const node = await startExample(env);
        log = node.log;
        return { ...node, port: Number(node.ready![1]) };
      };
      await serveAndCount(broker, start, cert, key, /hello over TLS; handshake \d+ signed by pkcs11:object=/);
      const served = log.join('\n').match(/SIGTERM: (\d+) handshakes served/);
      expect(served, log.join('\n')).not.toBeNull();
      expect(Number(served![1])).toBeGreaterThanOrEqual(2 + PINNED[key]!.length);
    }, 120_000); // a Node process started through tsx, four handshakes: generous for a loaded machine

    it(`Node's https as a cluster of ${CLUSTER.workers} engine workers serves ${CLUSTER.clients} clients at once; the card signs`, async () => {
      const cert = await certificate(key);
      const env = { ...broker.env, KEY_URI: broker.keys[key]!.uri, CERT: cert };
      const before = await deviceCounts(broker);
      const server = await startNodeHttps(broker.dir, env, CLUSTER.workers);
      const ca = readFileSync(cert);
      let started = 0;
      try {
        // A closed loop: each client starts its next handshake when one ends. Node's TLS client checks
        // every CertificateVerify against the certificate: a wrong signature fails the handshake.
        const client = async () => {
          while (started < CLUSTER.handshakes) {
            started++;
            await handshake(server.port, ca);
          }
        };
        await Promise.all(Array.from({ length: CLUSTER.clients }, client));
      } finally {
        await server.stop();
      }
      const after = await deviceCounts(broker);
      const counts = `device counters before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`;
      expect(after.card + after.others - (before.card + before.others), counts).toBeGreaterThanOrEqual(
        CLUSTER.handshakes,
      );
      expect(after.card - before.card, counts).toBeGreaterThan(0);
    }, 120_000);
  });

  it('examples/pkcs11-https.ts on its own starts a broker over the simulated card and serves curl', async () => {
    // No P11_KIT_SERVER_ADDRESS: the demo makes its key and certificate and runs `pkaccel serve --pkcs11`.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', TMPDIR: broker.dir };
    const demo = await startExample(env);
    try {
      const cert = demo.log.join('\n').match(/^demo: certificate (\S+)$/m);
      expect(cert, demo.log.join('\n')).not.toBeNull();
      const n = await curlHandshake(Number(demo.ready![1]), cert![1]!, '1.3');
      expect(n.response).toMatch(/hello over TLS; handshake 1 signed by pkcs11:object=web;type=private/);
    } finally {
      await demo.stop();
    }
    expect(demo.log.join('\n')).toMatch(/SIGTERM: 1 handshakes served/);
  }, 150_000); // its own broker (tsx compiles the CLI) and key generation: slow on a loaded machine
});
