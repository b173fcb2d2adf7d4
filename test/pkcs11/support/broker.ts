/**
 * A `pkaccel serve --pkcs11` for the consumer tests, run as a user would: the
 * built CLI (dist/cli/main.js) in its own process — engine calls are
 * synchronous, so the token must never be served from a thread that uses the
 * engine — over `sim:ring,software` with named keys made fresh in a temporary
 * folder (PKCS#8 DER, RSA-2048 `rsa` and P-256 `ec` by default), and everything
 * a stock consumer needs to reach it: the p11-kit client address, an OpenSSL
 * config that loads libp11 with p11-kit-client.so, and the variables Node's
 * own OpenSSL needs to find that engine.
 */

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO, requireBuiltBinary } from '../../cli/run-cli.js';
import { NODE_CURVE } from '../../support/keys.js';
import { type Service, startService } from './process.js';
import { ENGINES_DIR, LIBP11_ENGINE, P11_KIT_CLIENT } from './tools.js';

export type KeySpec =
  | { readonly name: string; readonly type: 'rsa'; readonly bits: number }
  | { readonly name: string; readonly type: 'ec'; readonly curve: 'P-256' | 'P-384' | 'P-521' };

export const DEFAULT_KEYS: readonly KeySpec[] = [
  { name: 'rsa', type: 'rsa', bits: 2048 },
  { name: 'ec', type: 'ec', curve: 'P-256' },
];

export interface NamedTestKey {
  readonly spec: KeySpec;
  /** The PKCS#8 file the broker loads (`--key name=path`). */
  readonly path: string;
  /** Node's copy of the pair: the independent judge of what the token signs. */
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The RFC 7512 URI a consumer names the private key by (with the PIN when there is one). */
  readonly uri: string;
}

export interface Pkcs11BrokerOptions {
  /** `--devices` (default `sim:ring,software`). */
  readonly devices?: string;
  readonly keys?: readonly KeySpec[];
  /**
   * Keys another broker of this run made (their files must outlive this broker): served under
   * the same names, so two brokers (two cards) sign with the same key. Without `keys`, only these.
   */
  readonly reuseKeys?: readonly NamedTestKey[];
  /** The token's user PIN (`--pkcs11-pin-file`), also put in the key URIs as pin-value. */
  readonly pin?: string;
  /** More `pkaccel serve` arguments. */
  readonly args?: readonly string[];
}

export interface Pkcs11Broker {
  readonly dir: string;
  /** The PKCS#11 (p11-kit RPC) socket and the broker's own socket. */
  readonly pkcs11Socket: string;
  readonly brokerSocket: string;
  readonly keys: Readonly<Record<string, NamedTestKey>>;
  /** The OpenSSL config that loads the libp11 engine with p11-kit-client.so (OPENSSL_CONF). */
  readonly engineConfig: string;
  /**
   * Environment for a consumer: PATH/HOME, P11_KIT_SERVER_ADDRESS, OPENSSL_CONF
   * (openssl commands), OPENSSL_ENGINES and PKCS11_MODULE_PATH (Node's TLS).
   */
  readonly env: NodeJS.ProcessEnv;
  readonly service: Service;
  /** SIGTERM the broker, wait for it, remove the folder. */
  close(): Promise<void>;
}

function makeKey(dir: string, spec: KeySpec, pin: string | undefined): NamedTestKey {
  const pair =
    spec.type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: spec.bits })
      : generateKeyPairSync('ec', { namedCurve: NODE_CURVE[spec.curve] });
  const path = join(dir, `${spec.name}.pk8`);
  writeFileSync(path, pair.privateKey.export({ type: 'pkcs8', format: 'der' }), { mode: 0o600 });
  return { spec, path, privateKey: pair.privateKey, publicKey: pair.publicKey, uri: keyUri(spec.name, pin) };
}

function keyUri(name: string, pin: string | undefined): string {
  return `pkcs11:object=${name};type=private${pin === undefined ? '' : `;pin-value=${pin}`}`;
}

function pinFile(dir: string, pin: string): string {
  const path = join(dir, 'pin');
  writeFileSync(path, `${pin}\n`, { mode: 0o600 });
  return path;
}

/** The OpenSSL 3 config of the libp11 engine with p11-kit's client module (the README shows the same). */
export function engineConfigText(): string {
  return [
    'openssl_conf = openssl_init',
    '[openssl_init]',
    'engines = engine_section',
    '[engine_section]',
    'pkcs11 = pkcs11_section',
    '[pkcs11_section]',
    'engine_id = pkcs11',
    `dynamic_path = ${LIBP11_ENGINE}`,
    `MODULE_PATH = ${P11_KIT_CLIENT}`,
    'init = 0',
    '',
  ].join('\n');
}

/** Resolves true when a Unix socket at `path` (or 127.0.0.1's TCP `port`) accepts a connection (closed at once). */
export function accepts(where: string | number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = typeof where === 'number' ? connect(where, '127.0.0.1') : connect(where);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Start `pkaccel serve --pkcs11` on fresh sockets and keys; resolves when both sockets accept. */
export async function startPkcs11Broker(options: Pkcs11BrokerOptions = {}): Promise<Pkcs11Broker> {
  requireBuiltBinary();
  const dir = mkdtempSync(join(tmpdir(), 'pkaccel-p11-'));
  try {
    const keys: Record<string, NamedTestKey> = {};
    for (const key of options.reuseKeys ?? [])
      keys[key.spec.name] = { ...key, uri: keyUri(key.spec.name, options.pin) };
    const specs = options.keys ?? (options.reuseKeys === undefined ? DEFAULT_KEYS : []);
    for (const spec of specs) keys[spec.name] = makeKey(dir, spec, options.pin);
    const pkcs11Socket = join(dir, 'pkcs11.sock');
    const brokerSocket = join(dir, 'broker.sock');
    const engineConfig = join(dir, 'openssl-pkcs11.cnf');
    writeFileSync(engineConfig, engineConfigText());
    const args = [
      BIN,
      'serve',
      '--devices',
      options.devices ?? 'sim:ring,software',
      '--socket',
      brokerSocket,
      '--pkcs11',
      pkcs11Socket,
      ...Object.values(keys).flatMap((k) => ['--key', `${k.spec.name}=${k.path}`]),
      ...(options.pin === undefined ? [] : ['--pkcs11-pin-file', pinFile(dir, options.pin)]),
      ...(options.args ?? []),
    ];
    const base = { PATH: process.env.PATH, HOME: process.env.HOME, XDG_RUNTIME_DIR: dir, NO_COLOR: '1' };
    const service = await startService(process.execPath, args, {
      cwd: REPO,
      env: base,
      probe: async () => (await accepts(brokerSocket)) && (await accepts(pkcs11Socket)),
      timeoutMs: 45_000,
    });
    const env = {
      ...base,
      P11_KIT_SERVER_ADDRESS: `unix:path=${pkcs11Socket}`,
      OPENSSL_CONF: engineConfig,
      OPENSSL_ENGINES: ENGINES_DIR,
      PKCS11_MODULE_PATH: P11_KIT_CLIENT,
    };
    return {
      dir,
      pkcs11Socket,
      brokerSocket,
      keys,
      engineConfig,
      env,
      service,
      async close() {
        await service.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
