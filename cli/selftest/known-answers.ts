/**
 * The known-answer vectors (vectors/kat.json) through an accelerator's
 * `subtle`, as an application would call it: each vector is imported, signed,
 * verified, decrypted or agreed with, and compared with its answer. This is the
 * subtle-level check `pkaccel selftest` runs per device (core/selftest checks a
 * device at the primitive level, for the job queue's recovery); the vectors and
 * their loader are core/selftest's.
 *
 * test/api/kat.test.ts runs the same vectors on the software device.
 */

import { type KatVector, loadKatVectors } from '../../core/selftest/vectors.js';
import {
  type Accelerator,
  type AcceleratorSubtle,
  type Capability,
  type CryptoKeyLike,
  type PrimitiveRequest,
  supports,
} from '../../index.js';

export type { KatVector };

/** The shipped vectors (`path`: another file). Kept under this name for test/api/kat.test.ts. */
export function loadKnownAnswers(path?: string): KatVector[] {
  return [...loadKatVectors(path)];
}

/** What one vector did on one device; `detail` says why it failed or was skipped. */
export interface KatOutcome {
  readonly id: string;
  readonly kind: KatVector['kind'];
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail?: string;
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
  return missingStep(capabilities, v) === undefined;
}

/** Why a device cannot run the vector (the primitives it lacks for the first step it cannot do), or undefined. */
export function missingStep(capabilities: readonly Capability[], v: KatVector): string | undefined {
  for (const alternatives of steps(v)) {
    if (alternatives.some((r) => supports(capabilities, r))) continue;
    const what = v.curve ?? (v.bits === undefined ? undefined : `${v.bits}-bit`);
    return `no capability for ${alternatives.map((r) => r.op).join(' or ')}${what ? ` (${what})` : ''}`;
  }
  return undefined;
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
    const missing = missingStep(capabilities, v);
    if (missing !== undefined) {
      outcomes.push({ id: v.id, kind: v.kind, status: 'skip', detail: missing });
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
