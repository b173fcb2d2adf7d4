/**
 * The stock PKCS#11 consumers the tests drive, where Debian 12 puts them, and
 * the skip rule: a machine without them skips the tests that need them and
 * prints what it skipped; with PKACCEL_REQUIRE_PKCS11_TOOLS=1 (set by .ci/run,
 * which installs them) a missing tool fails instead, so CI cannot skip silently.
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const LIBDIR = '/usr/lib/x86_64-linux-gnu';

/** p11-kit's forwarding module (package p11-kit-modules). */
export const P11_KIT_CLIENT =
  process.env.PKACCEL_P11_KIT_CLIENT ?? join(LIBDIR, 'pkcs11', 'p11-kit-client.so');
/** Where OpenSSL 3 engines live; libp11's engine is `pkcs11.so` there (package libengine-pkcs11-openssl). */
export const ENGINES_DIR = process.env.PKACCEL_OPENSSL_ENGINES ?? join(LIBDIR, 'engines-3');
export const LIBP11_ENGINE = join(ENGINES_DIR, 'pkcs11.so');
/** nginx (package nginx; nginx-light only adds a module to it): in /usr/sbin, often not on a user's PATH. */
export const NGINX = process.env.PKACCEL_NGINX ?? '/usr/sbin/nginx';

/** The Debian packages that provide each tool (what the skip message tells the reader to install). */
export const TOOLS = {
  'p11-kit-client.so': { check: () => existsSync(P11_KIT_CLIENT), pkg: 'p11-kit-modules' },
  'libp11 engine': { check: () => existsSync(LIBP11_ENGINE), pkg: 'libengine-pkcs11-openssl' },
  openssl: { check: () => onPath('openssl'), pkg: 'openssl' },
  'pkcs11-tool': { check: () => onPath('pkcs11-tool'), pkg: 'opensc' },
  'gnutls-cli': { check: () => onPath('gnutls-cli'), pkg: 'gnutls-bin' },
  p11tool: { check: () => onPath('p11tool'), pkg: 'gnutls-bin' },
  curl: { check: () => onPath('curl'), pkg: 'curl' },
  nginx: { check: () => existsSync(NGINX), pkg: 'nginx' },
} as const;

export type ToolName = keyof typeof TOOLS;

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** CI installs the tools and sets this: a missing one is then a failure, not a skip. */
export function toolsRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PKACCEL_REQUIRE_PKCS11_TOOLS === '1';
}

/**
 * The tools of `needed` that are missing. None missing: undefined. Some missing
 * and required: throws (naming them and their packages). Some missing otherwise:
 * prints what `what` skips and returns the message (for describe.skipIf).
 */
export function missingTools(what: string, needed: readonly ToolName[]): string | undefined {
  const missing = needed.filter((name) => !TOOLS[name].check());
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((name) => TOOLS[name].pkg))].join(' ');
  const message = `${what}: missing ${missing.join(', ')} (apt-get install ${packages})`;
  if (toolsRequired())
    throw new Error(`${message}; PKACCEL_REQUIRE_PKCS11_TOOLS=1 says they must be installed`);
  console.warn(`SKIPPED ${message}`);
  return message;
}
