/**
 * nginx serving HTTPS with a token key, as the README configures it: the key
 * named `engine:pkcs11:<pkcs11 URI>` in `ssl_certificate_key`, the libp11 engine
 * loaded through OPENSSL_CONF (`ssl_engine pkcs11`), and the variables the
 * engine and p11-kit's client need kept for the worker with `env`. Run by any
 * user: its own prefix, config, pid file, logs and temp paths in a folder of
 * the broker's, in the foreground (`daemon off`) with one process
 * (`master_process off`: no user switching, no root needed).
 *
 * Debian 12's nginx 1.22 enables TLS 1.0–1.2 by default (1.3 from nginx
 * 1.23.4): the config names TLSv1.2 and TLSv1.3.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accepts, type Pkcs11Broker } from './broker.js';
import { freePort } from './node-https.js';
import { startService } from './process.js';
import type { TlsServer } from './tls.js';
import { NGINX } from './tools.js';

/** What nginx answers every request with (the test matches it). */
export const NGINX_ANSWER = 'hello from nginx; the handshake was signed by pkaccel';

/** The nginx.conf of one HTTPS server whose key is the token's `keyUri` (the README's, plus a test's own paths). */
export function nginxConfig(dir: string, port: number, cert: string, keyUri: string): string {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log stderr info;
# nginx clears its workers' environment: keep what OpenSSL's engine and p11-kit's client read.
env OPENSSL_CONF;
env P11_KIT_SERVER_ADDRESS;
ssl_engine pkcs11;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${cert};
    ssl_certificate_key "engine:pkcs11:${keyUri}";
    location / { return 200 "${NGINX_ANSWER}\\n"; }
  }
}
`;
}

/** nginx with the broker's key `keyName` and `cert`, on a free port; ready when it accepts connections. */
export async function startNginx(broker: Pkcs11Broker, keyName: string, cert: string): Promise<TlsServer> {
  const key = broker.keys[keyName];
  if (key === undefined) throw new Error(`no named key "${keyName}" in this broker`);
  const dir = join(broker.dir, `nginx-${keyName}`);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, cert, key.uri));
  // -e: the error log before the config is read (nginx's default, /var/log/nginx, needs root);
  // stderr, like the config's, so a failure message carries nginx's own words.
  const service = await startService(NGINX, ['-p', dir, '-c', conf, '-e', 'stderr'], {
    env: broker.env,
    probe: () => accepts(port),
  });
  return { ...service, port };
}
