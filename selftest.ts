/**
 * `npm run selftest`: the known-answer vectors of vectors/kat.json on every
 * default device (PKACCEL_DEVICES, else "auto"), one device at a time, for every
 * vector the device has a capability for. Prints a pass/fail table per device
 * and exits non-zero on any failure. (The CLI will take over this job.)
 *
 * The runner is exported for test/api/kat.test.ts, which runs the same vectors.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Accelerator,
  type AcceleratorSubtle,
  type Capability,
  type CryptoKeyLike,
  openAccelerator,
  type PrimitiveRequest,
  resolveDeviceSelection,
  supports,
} from './index.js';

/** One vector of kat.json; the fields present depend on `kind`. */
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

export interface KatOutcome {
  readonly id: string;
  readonly kind: KatVector['kind'];
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail?: string;
}

/** kat.json next to the sources or, from dist/, one level up. */
export function loadKnownAnswers(path?: string): KatVector[] {
  let file = path;
  if (!file) {
    for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
      const candidate = join(dir, 'vectors', 'kat.json');
      if (existsSync(candidate)) {
        file = candidate;
        break;
      }
      if (dirname(dir) === dir) throw new Error('vectors/kat.json not found above the self-test module');
    }
  }
  return (JSON.parse(readFileSync(file, 'utf8')) as { vectors: KatVector[] }).vectors;
}

const bytes = (hex: string | undefined): Uint8Array => Uint8Array.from(Buffer.from(hex ?? '', 'hex'));
const equal = (a: ArrayBuffer | Uint8Array, b: Uint8Array): boolean => Buffer.from(a as Uint8Array).equals(b);

/**
 * The primitives a vector needs, one step per list: the vector runs on a device
 * that can do some alternative of every step (the same alternatives
 * core/algorithms chooses among: a padding device op, or the raw one beneath).
 * The probes carry only what capability checks read (sizes, curves, paddings).
 */
function steps(v: KatVector): PrimitiveRequest[][] {
  const rsaKey = { bits: v.bits ?? 0, otherPrimes: Array.from({ length: (v.primes ?? 2) - 2 }) };
  const hash = v.hash ?? 'SHA-256';
  const probe = (r: Record<string, unknown>) => r as unknown as PrimitiveRequest;
  const ecKey = { curve: v.curve };
  switch (v.kind) {
    case 'rsa-pkcs1-sign':
      return [
        [
          probe({ op: 'rsa-sign', key: rsaKey, padding: { scheme: 'pkcs1-v1_5', hash } }),
          probe({ op: 'rsa-private', key: rsaKey }),
        ],
        [
          probe({ op: 'rsa-verify', key: rsaKey, padding: { scheme: 'pkcs1-v1_5', hash } }),
          probe({ op: 'rsa-public', key: rsaKey }),
        ],
      ];
    case 'rsa-pss-verify':
      return [
        [
          probe({ op: 'rsa-verify', key: rsaKey, padding: { scheme: 'pss', hash, mgfHash: hash } }),
          probe({ op: 'rsa-public', key: rsaKey }),
        ],
      ];
    case 'rsa-oaep-decrypt':
      return [
        [
          probe({ op: 'rsa-decrypt', key: rsaKey, padding: { scheme: 'oaep', hash, mgfHash: hash } }),
          probe({ op: 'rsa-private', key: rsaKey }),
        ],
      ];
    case 'rsa-raw':
      return [[probe({ op: 'rsa-public', key: rsaKey })], [probe({ op: 'rsa-private', key: rsaKey })]];
    case 'ecdsa-verify':
      return [[probe({ op: 'ecdsa-verify', key: ecKey }), probe({ op: 'ec-mul', curve: v.curve })]];
    case 'ecdh':
      return [[probe({ op: 'ecdh', key: ecKey }), probe({ op: 'ec-mul', curve: v.curve })]];
    case 'x25519':
      return [[probe({ op: 'x25519', key: { curve: 'X25519' } })]];
    case 'ed25519-sign':
      return [
        [probe({ op: 'eddsa-sign', key: { curve: 'Ed25519' } })],
        [probe({ op: 'eddsa-verify', key: { curve: 'Ed25519' } })],
      ];
  }
}

/** Whether a device with these capabilities can run the vector. */
export function deviceCanRun(capabilities: readonly Capability[], v: KatVector): boolean {
  return steps(v).every((alternatives) => alternatives.some((r) => supports(capabilities, r)));
}

function flipped(data: Uint8Array): Uint8Array {
  const out = Uint8Array.from(data);
  out[out.length >> 1] = (out[out.length >> 1] ?? 0) ^ 1;
  return out;
}

/** Run one vector through `subtle`; throws with a description of the first mismatch. */
export async function runKnownAnswer(subtle: AcceleratorSubtle, v: KatVector): Promise<void> {
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(what);
  };
  const msg = bytes(v.msg);
  const imp = (format: 'spki' | 'pkcs8', hex: string | undefined, alg: object, usages: string[]) =>
    subtle.importKey(format, bytes(hex), alg as { name: string }, false, usages);
  switch (v.kind) {
    case 'rsa-pkcs1-sign': {
      const alg = { name: 'RSASSA-PKCS1-v1_5', hash: v.hash };
      const sig = await subtle.sign(alg, await imp('pkcs8', v.pkcs8, alg, ['sign']), msg);
      check(equal(sig, bytes(v.sig)), 'signature differs from the expected one');
      const pub = await imp('spki', v.spki, alg, ['verify']);
      check(await subtle.verify(alg, pub, bytes(v.sig), msg), 'expected signature does not verify');
      check(!(await subtle.verify(alg, pub, flipped(bytes(v.sig)), msg)), 'a corrupted signature verifies');
      return;
    }
    case 'rsa-pss-verify': {
      const alg = { name: 'RSA-PSS', hash: v.hash, saltLength: v.saltLength };
      const pub = await imp('spki', v.spki, alg, ['verify']);
      check(await subtle.verify(alg, pub, bytes(v.sig), msg), 'expected signature does not verify');
      check(
        !(await subtle.verify(alg, pub, bytes(v.sig), flipped(new Uint8Array([...msg, 0])))),
        'a wrong message verifies',
      );
      return;
    }
    case 'rsa-oaep-decrypt': {
      const alg = { name: 'RSA-OAEP', hash: v.hash };
      const key = await imp('pkcs8', v.pkcs8, alg, ['decrypt']);
      const label = bytes(v.label);
      const plain = await subtle.decrypt(
        { name: 'RSA-OAEP', ...(label.length ? { label } : {}) },
        key,
        bytes(v.ct),
      );
      check(equal(plain, msg), 'plaintext differs from the expected one');
      return;
    }
    case 'rsa-raw': {
      const alg = { name: 'RSA-RAW' };
      const out = await subtle.encrypt(alg, await imp('spki', v.spki, alg, ['encrypt']), bytes(v.input));
      check(equal(out, bytes(v.output)), 'public operation result differs');
      const back = await subtle.decrypt(alg, await imp('pkcs8', v.pkcs8, alg, ['decrypt']), bytes(v.output));
      check(equal(back, bytes(v.input)), 'private operation result differs');
      return;
    }
    case 'ecdsa-verify': {
      const alg = { name: 'ECDSA', namedCurve: v.curve, hash: v.hash, format: v.format };
      const pub = await imp('spki', v.spki, alg, ['verify']);
      check(await subtle.verify(alg, pub, bytes(v.sig), msg), 'expected signature does not verify');
      check(
        !(await subtle.verify(alg, pub, bytes(v.sig), new Uint8Array([...msg, 1]))),
        'a wrong message verifies',
      );
      return;
    }
    case 'ecdh':
    case 'x25519': {
      const alg = v.kind === 'ecdh' ? { name: 'ECDH', namedCurve: v.curve } : { name: 'X25519' };
      const own = await imp('pkcs8', v.pkcs8, alg, ['deriveBits']);
      const peer: CryptoKeyLike = await imp('spki', v.peerSpki, alg, []);
      const shared = bytes(v.shared);
      const bits = await subtle.deriveBits({ name: alg.name, public: peer }, own, shared.length * 8);
      check(equal(bits, shared), 'shared secret differs');
      return;
    }
    case 'ed25519-sign': {
      const alg = { name: 'Ed25519' };
      const sig = await subtle.sign(alg, await imp('pkcs8', v.pkcs8, alg, ['sign']), msg);
      check(equal(sig, bytes(v.sig)), 'signature differs from the expected one');
      const pub = await imp('spki', v.spki, alg, ['verify']);
      check(await subtle.verify(alg, pub, bytes(v.sig), msg), 'expected signature does not verify');
      return;
    }
  }
}

/** Run every vector on an accelerator with one device, skipping what the device cannot do. */
export async function runKnownAnswers(
  accel: Accelerator,
  vectors: readonly KatVector[],
): Promise<KatOutcome[]> {
  const capabilities = accel.devices.flatMap((d) => d.capabilities);
  const outcomes: KatOutcome[] = [];
  for (const v of vectors) {
    if (!deviceCanRun(capabilities, v)) {
      outcomes.push({ id: v.id, kind: v.kind, status: 'skip' });
      continue;
    }
    try {
      await runKnownAnswer(accel.subtle, v);
      outcomes.push({ id: v.id, kind: v.kind, status: 'pass' });
    } catch (error) {
      const e = error as Error;
      outcomes.push({ id: v.id, kind: v.kind, status: 'fail', detail: `${e.name}: ${e.message}` });
    }
  }
  return outcomes;
}

function table(device: string, outcomes: readonly KatOutcome[]): string {
  const kinds = [...new Set(outcomes.map((o) => o.kind))];
  const rows = kinds.map((kind) => {
    const of = outcomes.filter((o) => o.kind === kind);
    const count = (s: KatOutcome['status']) => of.filter((o) => o.status === s).length;
    return [kind, String(count('pass')), String(count('fail')), String(count('skip'))];
  });
  const header = ['vectors', 'pass', 'fail', 'skipped'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const failures = outcomes.filter((o) => o.status === 'fail').map((o) => `  FAIL ${o.id}: ${o.detail}`);
  return [`device ${device}`, line(header), ...rows.map(line), ...failures].join('\n');
}

async function main(): Promise<number> {
  const vectors = loadKnownAnswers();
  const { specs, usedFallback } = await resolveDeviceSelection();
  if (usedFallback) {
    const simulated = specs.filter((s) => s.startsWith('sim:')).join(', ');
    console.log(`No accelerator hardware found: testing the simulated cards (${simulated}) instead.\n`);
  }
  let failed = 0;
  for (const spec of specs) {
    let accel: Accelerator;
    try {
      accel = await openAccelerator({ devices: [spec] });
    } catch (error) {
      console.log(`device ${spec}: could not be opened: ${(error as Error).message}\n`);
      failed++;
      continue;
    }
    try {
      const outcomes = await runKnownAnswers(accel, vectors);
      console.log(`${table(`${spec} (${accel.devices.map((d) => d.model).join(', ')})`, outcomes)}\n`);
      failed += outcomes.filter((o) => o.status === 'fail').length;
      if (outcomes.every((o) => o.status === 'skip'))
        console.log(`  (${spec} has no capability any vector needs)\n`);
    } finally {
      await accel.close();
    }
  }
  console.log(
    failed === 0 ? `self-test passed on ${specs.length} device(s)` : `self-test FAILED: ${failed} failure(s)`,
  );
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 2;
    },
  );
}
