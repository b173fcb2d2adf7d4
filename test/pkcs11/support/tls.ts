/**
 * TLS with a token key, driven by stock tools: a self-signed certificate made by
 * `openssl req -engine pkcs11` (the private key stays in the broker), an
 * `openssl s_server` serving with the engine key, and two clients that report
 * what was negotiated — curl (protocol and cipher) and gnutls-cli (which also
 * names the signature algorithm, and can pin one with a priority string).
 */

import { join } from 'node:path';
import type { Pkcs11Broker } from './broker.js';
import { runOk, type Service, startService } from './process.js';

export type TlsVersion = '1.2' | '1.3';

/** openssl's arguments naming the broker's named key through the libp11 engine (by its URI). */
export function engineKeyArgs(broker: Pkcs11Broker, keyName: string): string[] {
  const key = broker.keys[keyName];
  if (key === undefined) throw new Error(`no named key "${keyName}" in this broker`);
  return ['-engine', 'pkcs11', '-keyform', 'engine', '-key', key.uri];
}

/** `openssl req` arguments: a self-signed certificate for localhost and 127.0.0.1, signed by the key `keyArgs` names. */
export function selfSignedArgs(keyArgs: readonly string[], subject: string, out: string): string[] {
  const san = 'subjectAltName=DNS:localhost,IP:127.0.0.1';
  return [
    'req',
    '-new',
    '-x509',
    '-days',
    '2',
    '-sha256',
    ...keyArgs,
    '-subj',
    subject,
    '-addext',
    san,
    '-out',
    out,
  ];
}

/** A self-signed certificate whose signature the token made (the key stays in the broker); returns its path. */
export async function engineCertificate(broker: Pkcs11Broker, keyName: string): Promise<string> {
  const path = join(broker.dir, `${keyName}-cert.pem`);
  const args = selfSignedArgs(engineKeyArgs(broker, keyName), `/CN=localhost/O=pkaccel ${keyName}`, path);
  await runOk('openssl', args, { env: broker.env });
  return path;
}

export interface TlsServer extends Service {
  readonly port: number;
}

/** `openssl s_server -www` on 127.0.0.1 (a free port) with the engine key and `cert`. */
export async function startOpensslServer(
  broker: Pkcs11Broker,
  keyName: string,
  cert: string,
): Promise<TlsServer> {
  const args = [
    's_server',
    ...engineKeyArgs(broker, keyName),
    '-cert',
    cert,
    '-accept',
    '127.0.0.1:0',
    '-www',
  ];
  const service = await startService('openssl', args, { env: broker.env, ready: /^ACCEPT\s+\S*:(\d+)\s*$/ });
  return { ...service, port: Number(service.ready![1]) };
}

export interface Negotiated {
  /** e.g. `TLSv1.3` (curl) or `TLS1.3` (gnutls-cli). */
  readonly protocol: string;
  /** curl: the cipher suite; gnutls-cli: the whole description, e.g. `(TLS1.2-X.509)-(ECDHE-SECP256R1)-(RSA-SHA256)-(AES-256-GCM)`. */
  readonly detail: string;
  /** What the server answered (curl: status line, headers and body). */
  readonly response: string;
}

/** One HTTPS request by curl, limited to TLS `version`, trusting only `ca`. */
export async function curlHandshake(port: number, ca: string, version: TlsVersion): Promise<Negotiated> {
  const pin = version === '1.2' ? ['--tlsv1.2', '--tls-max', '1.2'] : ['--tlsv1.3', '--tls-max', '1.3'];
  const result = await runOk(
    'curl',
    [
      '-sS',
      '-i',
      '-v',
      '--noproxy',
      '*',
      '--max-time',
      '30',
      '--cacert',
      ca,
      ...pin,
      `https://127.0.0.1:${port}/`,
    ],
    { env: { PATH: process.env.PATH } },
  );
  const m = result.stderr.match(/SSL connection using (TLSv[\d.]+) \/ (\S+)/);
  if (m === null) throw new Error(`curl did not report the TLS connection:\n${result.stderr}`);
  return { protocol: m[1]!, detail: m[2]!, response: result.stdout };
}

/**
 * One request by gnutls-cli with a GnuTLS priority string (which pins the
 * version and, with -SIGN-ALL:+SIGN-…, the signature scheme the server must use).
 */
export async function gnutlsHandshake(port: number, ca: string, priority: string): Promise<Negotiated> {
  const result = await runOk(
    'gnutls-cli',
    ['--x509cafile', ca, '--priority', priority, '-p', String(port), '127.0.0.1'],
    { env: { PATH: process.env.PATH }, input: 'GET / HTTP/1.0\r\n\r\n' },
  );
  const m = result.stdout.match(/- Description: \((TLS[\d.]+)-X\.509\)(\S*)/);
  if (m === null || !/Handshake was completed/.test(result.stdout))
    throw new Error(`gnutls-cli did not complete a handshake:\n${result.stdout}\n${result.stderr}`);
  return { protocol: m[1]!, detail: m[0].replace('- Description: ', ''), response: result.stdout };
}
