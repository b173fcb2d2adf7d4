/**
 * TLS 1.2 with RSA key exchange (TLS_RSA_WITH_AES_128_GCM_SHA256): the server
 * holds the token's RSA key through p11-kit-client.so, curl encrypts a premaster
 * secret to it, and the server decrypts it with CKM_RSA_PKCS — RSAES-PKCS1-v1_5
 * with implicit rejection, the raw private operation on the simulated card (the
 * only device). The handshake completing proves the premaster came back right;
 * the card's counter shows it worked. Also `openssl pkeyutl -decrypt` through the
 * libp11 engine, which asks the token for CKM_RSA_PKCS directly.
 *
 * The server is GnuTLS's `gnutls-serv` (--provider p11-kit-client.so), not
 * `openssl s_server` with the libp11 engine: OpenSSL 3.0's TLS server asks an
 * engine key for RSA_PKCS1_WITH_TLS_PADDING, which the legacy RSA method refuses
 * ("pkey_rsa_ctrl: illegal or unsupported padding mode", openssl/openssl#21062),
 * so it never calls the token — a limitation of OpenSSL 3.0 with engines, seen
 * here with Debian 12's 3.0 and kept as a check below (the token is not asked).
 */

import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pkcs11Server } from '../../server/pkcs11/index.js';
import { engineConfigText } from './support/broker.js';
import { runOk, runTool, type Service, startService } from './support/process.js';
import { selfSignedArgs } from './support/tls.js';
import { missingTools, P11_KIT_CLIENT } from './support/tools.js';
import { type TokenFixture, tokenFixture } from './token-fixture.js';

const missing = missingTools('TLS 1.2 RSA key exchange with the token key', [
  'p11-kit-client.so',
  'libp11 engine',
  'openssl',
  'curl',
  'gnutls-cli', // gnutls-bin, which also ships gnutls-serv
]);
const PIN = '2468';
const CIPHER = 'AES128-GCM-SHA256';
const KEY_URI = `pkcs11:object=rsa;type=private;pin-value=${PIN}`;
let fx: TokenFixture;
let server: Pkcs11Server;
let env: NodeJS.ProcessEnv;
let cert: string;
const services: Service[] = [];

function cardJobs(): number {
  return fx.accel.queue
    .snapshot()
    .devices.filter((d) => d.id.startsWith('sim:ring'))
    .reduce((sum, d) => sum + d.completed, 0);
}

/** A TCP port free a moment ago (gnutls-serv takes no port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** curl pinned to TLS 1.2 and the RSA key exchange cipher suite. */
function curl(port: number) {
  return runTool(
    'curl',
    [
      ...['-sS', '-v', '--noproxy', '*', '--max-time', '30', '--cacert', cert],
      ...['--tlsv1.2', '--tls-max', '1.2', '--ciphers', CIPHER, `https://127.0.0.1:${port}/`],
    ],
    { env: { PATH: process.env.PATH }, timeoutMs: 60_000 },
  );
}

describe.skipIf(missing !== undefined)(
  'TLS 1.2 RSA key exchange: the premaster secret decrypted by the token',
  () => {
    beforeAll(async () => {
      fx = await tokenFixture(['sim:ring']);
      server = await fx.serve('pkcs11', { pin: PIN });
      const config = join(fx.dir, 'openssl-pkcs11.cnf');
      writeFileSync(config, engineConfigText());
      env = {
        PATH: process.env.PATH,
        HOME: fx.dir,
        P11_KIT_SERVER_ADDRESS: `unix:path=${server.path}`,
        OPENSSL_CONF: config,
        PKCS11_MODULE_PATH: P11_KIT_CLIENT,
      };
      // The certificate is signed by the token too (openssl req through the engine).
      cert = join(fx.dir, 'rsa-cert.pem');
      const keyArgs = ['-engine', 'pkcs11', '-keyform', 'engine', '-key', KEY_URI];
      await runOk('openssl', selfSignedArgs(keyArgs, '/CN=localhost/O=pkaccel rsa-kx', cert), {
        env,
        timeoutMs: 60_000,
      });
    }, 120_000);

    afterAll(async () => {
      for (const s of services) await s.stop();
      await fx?.close();
    });

    it(`gnutls-serv (key through p11-kit-client.so) and curl --tls-max 1.2 --ciphers ${CIPHER}: the handshake completes, the card decrypts`, async () => {
      const port = await freePort();
      const tls = await startService(
        'gnutls-serv',
        [
          ...['--http', '--provider', P11_KIT_CLIENT, '--x509keyfile', KEY_URI, '--x509certfile', cert],
          ...['--priority', 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA', '-p', String(port)],
        ],
        { env, ready: /listening/i, timeoutMs: 60_000 },
      );
      services.push(tls);
      const before = cardJobs();
      const result = await curl(port);
      expect(result.code, `${result.stderr}\n${tls.log.join('\n')}`).toBe(0);
      expect(result.stderr).toMatch(/SSL connection using TLSv1\.2 \/ AES128-GCM-SHA256/);
      expect(result.stdout).toMatch(/GnuTLS/);
      expect(cardJobs()).toBeGreaterThan(before);
    }, 120_000);

    it('openssl pkeyutl -decrypt through the libp11 engine (RSA_PKCS1_PADDING → CKM_RSA_PKCS) gets what node encrypted', async () => {
      const secret = randomBytes(48);
      const ct = join(fx.dir, 'pkeyutl.ct');
      writeFileSync(
        ct,
        publicEncrypt({ key: fx.publicKeys.rsa!, padding: constants.RSA_PKCS1_PADDING }, secret),
      );
      const out = join(fx.dir, 'pkeyutl.pt');
      const before = cardJobs();
      await runOk(
        'openssl',
        [
          ...['pkeyutl', '-decrypt', '-engine', 'pkcs11', '-keyform', 'engine', '-inkey', KEY_URI],
          ...['-pkeyopt', 'rsa_padding_mode:pkcs1', '-in', ct, '-out', out],
        ],
        { env, timeoutMs: 60_000 },
      );
      expect(readFileSync(out).equals(secret)).toBe(true);
      expect(cardJobs()).toBeGreaterThan(before);
    }, 120_000);

    it('openssl s_server with the engine key: OpenSSL 3.0 refuses the padding before asking the token (known limitation)', async () => {
      const keyArgs = ['-engine', 'pkcs11', '-keyform', 'engine', '-key', KEY_URI];
      const tls = await startService(
        'openssl',
        [
          's_server',
          ...keyArgs,
          '-cert',
          cert,
          '-accept',
          '127.0.0.1:0',
          '-www',
          '-tls1_2',
          '-cipher',
          CIPHER,
        ],
        { env, ready: /^ACCEPT\s+\S*:(\d+)\s*$/, timeoutMs: 60_000 },
      );
      services.push(tls);
      const result = await curl(Number(tls.ready![1]));
      if (result.code === 0) {
        // A newer OpenSSL (or a fixed 3.0) completes the handshake: then the token decrypted.
        expect(result.stderr).toMatch(/SSL connection using TLSv1\.2 \/ AES128-GCM-SHA256/);
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(tls.log.join('\n')).toMatch(/illegal or unsupported padding mode/);
    }, 120_000);
  },
);
