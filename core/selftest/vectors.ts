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

/**
 * One vector of kat.json; the fields present depend on `kind` (hex strings for byte fields).
 * Keys are DER (PKCS#8, SubjectPublicKeyInfo) in hex; byte strings are hex.
 *
 * @category Queue and stats
 */
export interface KatVector {
  /** Unique name of the vector (e.g. `rsa2048-pkcs1-SHA-1`); prefixes the ids of its cases. */
  readonly id: string;
  /** What the vector checks, and so which fields it has. */
  readonly kind:
    | 'rsa-pkcs1-sign'
    | 'rsa-pss-verify'
    | 'rsa-oaep-decrypt'
    | 'rsa-raw'
    | 'ecdsa-verify'
    | 'ecdh'
    | 'x25519'
    | 'ed25519-sign';
  /** RSA: modulus length in bits. */
  readonly bits?: number;
  /** RSA: number of primes (2, or more for a multi-prime key). */
  readonly primes?: number;
  /** The hash of the message digest, PSS/OAEP encoding and MGF1. Default SHA-256. */
  readonly hash?: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** RSA-PSS: salt length in bytes. Default 0. */
  readonly saltLength?: number;
  /** ECDSA, ECDH: the curve. */
  readonly curve?: 'P-256' | 'P-384' | 'P-521';
  /** ECDSA: the encoding of `sig` (IEEE P1363 r‖s, or DER Ecdsa-Sig-Value); self-tests use only `p1363`. */
  readonly format?: 'p1363' | 'der';
  /** The private key, DER PKCS#8 in hex. */
  readonly pkcs8?: string;
  /** The public key, DER SubjectPublicKeyInfo in hex. */
  readonly spki?: string;
  /** ECDH, X25519: the peer's public key, DER SubjectPublicKeyInfo in hex. */
  readonly peerSpki?: string;
  /** The message (signed, or OAEP's plaintext), hex. */
  readonly msg?: string;
  /** The known signature of `msg`, hex. */
  readonly sig?: string;
  /** RSA-OAEP: the label, hex (may be empty). */
  readonly label?: string;
  /** RSA-OAEP: the ciphertext that decrypts to `msg`, hex. */
  readonly ct?: string;
  /** Raw RSA: the input x, modulus-length hex, with `output` = x^e mod n. */
  readonly input?: string;
  /** Raw RSA: x^e mod n for `input`, modulus-length hex (and its private operation gives `input` back). */
  readonly output?: string;
  /** ECDH, X25519: the known shared secret, hex. */
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
