/**
 * The guest's regression cases for the wrong PKCS#1 signature a vfio boot once
 * got from QEMU's virtio-crypto device (issue 11 follow-up): signatures whose
 * big-endian value starts with zero bytes (QEMU 7.2's nettle backend reports the
 * minimal length, and virtio-crypto.c then copies only that many bytes from the
 * front of the modulus-length buffer: the last byte is lost), and a few hundred
 * random signatures and verifications kept in flight together, every one
 * compared with node:crypto at the queue-pair level, below the integrity gate.
 */

import { createPrivateKey, type KeyObject, sign as nodeSign, randomBytes } from 'node:crypto';
import type {
  Completion,
  HashName,
  PrimitiveRequest,
  QueuePair,
  RsaPrivateKeyMaterial,
} from '../../../index.js';
import { digest, privateMaterial, runOne } from './cases.js';
import { LEADING_ZERO_CASES, LEADING_ZERO_KEYS } from './leading-zero.js';
import type { Report } from './report.js';

interface TestKey {
  readonly key: KeyObject;
  readonly material: RsaPrivateKeyMaterial;
}

const keys = new Map<1024 | 2048, TestKey>();

function testKey(bits: 1024 | 2048): TestKey {
  let k = keys.get(bits);
  if (k === undefined) {
    const key = createPrivateKey(LEADING_ZERO_KEYS[bits]);
    k = { key, material: privateMaterial(key) };
    keys.set(bits, k);
  }
  return k;
}

function nodeHash(hash: HashName): string {
  return hash.replace('-', '').toLowerCase();
}

function leadingZeros(bytes: Uint8Array): number {
  let z = 0;
  while (z < bytes.length && bytes[z] === 0) z++;
  return z;
}

/** What a wrong value is, next to the right one: names QEMU's truncated copy when it is that. */
function describeWrong(got: Uint8Array, want: Uint8Array): string {
  const z = leadingZeros(want);
  const shifted = Buffer.concat([Buffer.alloc(z), Buffer.from(want.subarray(0, want.length - z))]);
  const how = Buffer.from(got).equals(shifted)
    ? `the right value shifted ${z} byte(s) toward the end, its last ${z} lost`
    : 'not a shift of the right value';
  return `${how}; got ${Buffer.from(got).toString('hex').slice(0, 16)}…, want ${Buffer.from(want).toString('hex').slice(0, 16)}…`;
}

function signRequest(k: TestKey, hash: HashName, message: Uint8Array): PrimitiveRequest {
  return {
    op: 'rsa-sign',
    key: k.material,
    padding: { scheme: 'pkcs1-v1_5', hash },
    digest: digest(hash, message),
  };
}

/**
 * Host-chosen messages whose signatures start with one or two zero bytes
 * (1024 and 2048 bits; SHA-1, SHA-256, SHA-512). One zero byte: the device's
 * value must equal node's. Two: the driver may return it or refuse it as
 * unsupported (it recovers one lost byte, not two), never a wrong value.
 */
export async function leadingZeroSignatures(report: Report, qp: QueuePair, label: string): Promise<void> {
  await report.run(`${label} signatures with leading zero bytes`, async () => {
    const started = performance.now();
    const notes: string[] = [];
    for (const c of LEADING_ZERO_CASES) {
      const k = testKey(c.bits);
      const message = Buffer.from(c.message);
      const want = nodeSign(nodeHash(c.hash), message, k.key);
      const name = `${c.bits}/${c.hash} ${c.zeros}×00`;
      if (leadingZeros(want) !== c.zeros)
        throw new Error(`fixture: "${c.message}" no longer signs with ${c.zeros} leading zero byte(s)`);
      const done = await runOne(qp, signRequest(k, c.hash, message));
      if (done.ok) {
        const got = done.value as Uint8Array;
        if (!Buffer.from(got).equals(want))
          throw new Error(`${name}: wrong signature (${describeWrong(got, want)})`);
        notes.push(`${name} equal`);
      } else if (c.zeros >= 2 && done.error.code === 'unsupported') {
        if (!/last \d+ bytes lost/.test(done.error.message)) throw done.error;
        notes.push(`${name} ${done.error.code} (bytes lost)`);
      } else {
        throw done.error;
      }
    }
    return `${((performance.now() - started) / 1000).toFixed(1)} s: ${notes.join('; ')}`;
  });
}

interface StressJob {
  readonly request: PrimitiveRequest;
  /** undefined when the completion is right, else what is wrong. */
  readonly check: (c: Completion) => string | undefined;
}

function stressJob(i: number): { job: StressJob; zeros: number } {
  const bits = i % 2 === 0 ? 1024 : 2048;
  const hash = (['SHA-1', 'SHA-256', 'SHA-512'] as const)[Math.floor(i / 2) % 3]!;
  const k = testKey(bits);
  const message = randomBytes(24);
  const want = nodeSign(nodeHash(hash), message, k.key);
  const what = `job ${i} ${bits}/${hash}`;
  if (i % 4 === 3) {
    // A verification among the signatures: chains of two descriptors between chains of three.
    const tampered = i % 8 === 7;
    const signature = Buffer.from(want);
    if (tampered) signature[signature.length - 1]! ^= 1;
    const request: PrimitiveRequest = {
      op: 'rsa-verify',
      key: k.material.publicKey,
      padding: { scheme: 'pkcs1-v1_5', hash },
      digest: digest(hash, message),
      signature,
    };
    return {
      zeros: 0,
      job: {
        request,
        check: (c) =>
          !c.ok
            ? `${what} verify: ${c.error.code} ${c.error.message}`
            : c.value !== !tampered
              ? `${what} verify of a ${tampered ? 'tampered' : 'good'} signature gave ${String(c.value)}`
              : undefined,
      },
    };
  }
  return {
    zeros: leadingZeros(want),
    job: {
      request: signRequest(k, hash, message),
      check: (c) => {
        if (!c.ok) return `${what} sign: ${c.error.code} ${c.error.message}`;
        const got = c.value as Uint8Array;
        return Buffer.from(got).equals(want) ? undefined : `${what}: ${describeWrong(got, want)}`;
      },
    },
  };
}

/**
 * `count` random PKCS#1 jobs (1024 and 2048 bits, SHA-1/SHA-256/SHA-512; one in
 * four a verification, half of those of a tampered signature) kept in flight
 * together on one queue pair, each completion matched to its job by tag and
 * compared with node:crypto. (The driver names no MD5 hash, so MD5 is not sent.)
 */
export async function concurrentJobs(
  report: Report,
  qp: QueuePair,
  label: string,
  count = 240,
): Promise<void> {
  await report.run(`${label} ${count} concurrent PKCS#1 jobs vs node:crypto`, async () => {
    const started = performance.now();
    const jobs: StressJob[] = [];
    let zeroSignatures = 0;
    for (let i = 0; i < count; i++) {
      const { job, zeros } = stressJob(i);
      jobs.push(job);
      if (zeros > 0) zeroSignatures++;
    }
    const wrong: string[] = [];
    const seen = new Set<number>();
    let next = 0;
    let maxInFlight = 0;
    const signal = AbortSignal.timeout(120_000);
    while (seen.size < count) {
      if (next < count) {
        const batch = jobs.slice(next, next + 32).map((job, j) => ({ tag: next + j, request: job.request }));
        next += qp.submit(batch);
        maxInFlight = Math.max(maxInFlight, qp.inFlight);
      }
      await qp.waitForCompletions(signal);
      qp.harvest((c) => {
        const job = jobs[c.tag];
        if (job === undefined || seen.has(c.tag)) {
          wrong.push(`tag ${c.tag} completed ${job === undefined ? 'but was never submitted' : 'twice'}`);
          return;
        }
        seen.add(c.tag);
        const problem = job.check(c);
        if (problem !== undefined) wrong.push(problem);
      });
    }
    if (wrong.length > 0)
      throw new Error(`${wrong.length} wrong of ${count}: ${wrong.slice(0, 3).join('; ')}`);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    return `${count} right (up to ${maxInFlight} in flight; ${zeroSignatures} signature(s) with a leading zero byte among them; ${seconds} s with node's references)`;
  });
}
