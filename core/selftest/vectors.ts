/**
 * pkaccel's own known-answer vectors (`vectors/kat.json`, made by
 * `node --import tsx scripts/gen-kat.ts` with OpenSSL), shipped with the package.
 *
 * Where the file is: `vectors/kat.json` in the package root, the directory that
 * holds pkaccel's package.json. The loader walks up from this module to it, so the
 * same code finds the file from the source tree (core/selftest/vectors.ts under
 * tsx) and from the build (dist/core/selftest/vectors.js: dist/ has no
 * package.json, its parent does), and from an installed package
 * (node_modules/pkaccel/…). The JSON is read once and cached.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One vector of kat.json; the fields present depend on `kind` (hex strings for byte fields). */
export interface KatVector {
  readonly id: string;
  readonly kind:
    | 'rsa-pkcs1-sign'
    | 'rsa-pss-verify'
    | 'rsa-oaep-decrypt'
    | 'rsa-raw'
    | 'ecdsa-verify'
    | 'ecdh'
    | 'x25519'
    | 'ed25519-sign';
  readonly bits?: number;
  readonly primes?: number;
  readonly hash?: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
  readonly saltLength?: number;
  readonly curve?: 'P-256' | 'P-384' | 'P-521';
  readonly format?: 'p1363' | 'der';
  readonly pkcs8?: string;
  readonly spki?: string;
  readonly peerSpki?: string;
  readonly msg?: string;
  readonly sig?: string;
  readonly label?: string;
  readonly ct?: string;
  readonly input?: string;
  readonly output?: string;
  readonly shared?: string;
}

/** The vector file's path inside the package. */
export const KAT_RELATIVE_PATH = join('vectors', 'kat.json');

/** The package root: the first directory above this module holding a package.json named pkaccel. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'pkaccel') return dir;
      } catch {
        // Not a readable manifest: keep walking.
      }
    }
    if (dirname(dir) === dir)
      throw new Error('the pkaccel package root was not found above the self-test module');
  }
}

/** The path of the shipped vector file. */
export function katPath(): string {
  return join(packageRoot(), KAT_RELATIVE_PATH);
}

let cached: readonly KatVector[] | undefined;

/** The vectors of `path`, or of the shipped file (read once). */
export function loadKatVectors(path?: string): readonly KatVector[] {
  if (path !== undefined) return parse(readFileSync(path, 'utf8'));
  cached ??= parse(readFileSync(katPath(), 'utf8'));
  return cached;
}

function parse(text: string): KatVector[] {
  const data = JSON.parse(text) as { vectors?: unknown };
  if (!Array.isArray(data.vectors)) throw new Error('a known-answer file must hold { "vectors": [...] }');
  return data.vectors as KatVector[];
}
