/**
 * The integrity gate: one check between the devices and every caller. The job
 * queue calls `check` on every ok completion before the job settles; `subtle`
 * (through core/algorithms and `runFirst`), `queue.submit` and `queue.process`
 * all end in the job queue, so no entry point skips it, and core/algorithms does
 * not check again.
 *
 * What is checked, per primitive (a failed check is an `IntegrityFailure`; the
 * queue withholds the value, counts a fault against the device, reports an
 * `integrity-fault` event and retries the job — another device first, then the
 * same one — within its deadline; the last failure reaches the caller as a
 * DeviceError, never as a value):
 *
 * | primitive | check | proves |
 * | --- | --- | --- |
 * | rsa-private | s^e mod n == input (rsa.ts) | the result is right |
 * | rsa-sign | s^e mod n is the encoding of the digest | a valid signature of that digest |
 * | rsa-decrypt (device OAEP) | plaintext ≤ k − 2hLen − 2 | only the bound; OAEP's redundancy turns a CRT fault into a device-side decoding error (rsa.ts) |
 * | ecdsa-sign | r, s in [1, n−1]; then `signCheck` (options.ts) | `device`/`all`: a valid signature; `sample`: only for the sampled ones |
 * | ecdsa-verify, rsa-verify, eddsa-verify | `verifyCheck`: the witness, or the host | with a witness: the verdict agrees with what the device computed (a transient fault cannot flip it unnoticed); host: the verdict is right |
 * | ec-mul | the point is on the curve | a curve point (not that it is k·P) |
 * | ecdh | with an `ecdh-point` witness: (x, y) on the curve; x only: x < p and x³+ax+b a square | a curve point; x only: about half of corrupted values caught |
 * | keygen | RSA: n = p·q; EC: Q on the curve | the key pair is consistent (RSA) / a curve point (EC) |
 * | rsa-public, rsa-encrypt, eddsa-sign, x25519 | shape only | — (public results; checking = redoing) |
 *
 * A witness check proves consistency, not honesty: a card that computes the
 * wrong point and the matching wrong verdict (a malicious card, or a fault that
 * repeats the same way in both) passes it. The `all` policies recompute on the
 * host and need no trust in the card.
 *
 * Reference devices (the node:crypto provider, added with `reference: true`)
 * compute with the very library the host checks would use, so host
 * recomputation proves nothing new there: they get the cheap checks (RSA public
 * key, points on the curve) and their signatures and verdicts are not redone.
 * The same holds per completion for a `broker:` device: a completion the broker's
 * own queue settled on its reference device carries `reference` (docs/broker.md,
 * "Integrity through the broker") and gets those checks; one a card computed
 * gets everything a card's does.
 *
 * Why `signCheck: 'device'` is the default (`npm run bench -- integrity`, this
 * 2-CPU machine shared with other work; figures move ±30% between runs): a host
 * verification costs about 230 µs of host CPU per P-256 signature, twice what
 * signing in software costs, so `all` makes a card cost the host more than it
 * saves. `device` costs the host a witness compare (about 6 µs) plus one more job
 * through the queue (on the null-engine card, 13 µs of main thread per signature
 * and 0.58 of the ungated rate), and the card one verification. On the simulated
 * ring card that verification (OpenSSL multiplications, a bigint inverse and
 * addition on the model's thread, which shares the host's two CPUs) costs several
 * of its signatures, so there `device` keeps about 0.22 of the ungated signing
 * rate (all: 0.69, sample: 0.86; one run at load ≈ 4) — a cost of the simulator's
 * model, not of the policy. `sample` alone cannot promise that no
 * corrupted signature is released, which the fault matrix requires of the default.
 */

import { createPublicKey, type KeyObject, verify as nodeVerify, randomBytes } from 'node:crypto';
import type { Witness } from '../driver/device.js';
import type { OkpPublicKeyMaterial } from '../driver/keys.js';
import type { PrimitiveRequest, PrimitiveValue, RequestOf } from '../driver/primitives.js';
import {
  curveOf,
  ecdhHolds,
  ecdsaSignatureValid,
  ecdsaWitnessVerdict,
  pointHolds,
  signatureScalars,
} from './ec.js';
import { type IntegrityOptions, type ResolvedIntegrityOptions, resolveIntegrityOptions } from './options.js';
import {
  isRsaRepresentative,
  modulusBytes,
  oaepMaxMessageLength,
  paddedSignatureHolds,
  rawPrivateResultHolds,
  rsaVerifyExpected,
} from './rsa.js';

/** A failed check: the value must not be released. */
export interface IntegrityFailure {
  readonly reason: string;
  /** The policy asks for the device to leave service at once (a `sample` verdict mismatch). */
  readonly outOfService: boolean;
}

/** What the gate needs from whoever runs jobs (the job queue). */
export interface GateRunner {
  /** Whether the device can run `request` now. */
  covers(device: string, request: PrimitiveRequest): boolean;
  /**
   * Run `request` on exactly `device` (no failover), through the gate, settling
   * by `deadline` (performance.now() time) or when `signal` aborts.
   */
  runOn(
    device: string,
    request: PrimitiveRequest,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<PrimitiveValue>;
}

/** The job a completion belongs to. */
export interface GateJob {
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * `undefined`: release the value. An IntegrityFailure: withhold it. A promise
 * (a check that runs another job): settles with one of those, or rejects with
 * the error of that job (abort, timeout, queue closed).
 */
export type GateOutcome = IntegrityFailure | undefined | Promise<IntegrityFailure | undefined>;

/** What the gate remembers about one device. */
interface DeviceRecord {
  /** Computes with the host's own library (see above): no host recomputation. */
  reference: boolean;
  /** Whether its ecdsa-verify completions carry a witness (undefined: not seen yet). */
  ecdsaWitness: boolean | undefined;
  /** Results still to re-check fully after a fault (`sample` policies). */
  suspect: number;
}

const released = (): undefined => undefined;

function failure(reason: string, outOfService = false): IntegrityFailure {
  return { reason, outOfService };
}

export class IntegrityGate {
  readonly options: ResolvedIntegrityOptions;
  readonly #runner: GateRunner;
  readonly #devices = new Map<string, DeviceRecord>();
  #random: number;

  constructor(options: IntegrityOptions | undefined, runner: GateRunner) {
    this.options = resolveIntegrityOptions(options);
    this.#runner = runner;
    this.#random = randomBytes(4).readUInt32LE(0) | 1;
  }

  /** Whether the gate checks anything (false only for the benchmark's internal baseline). */
  get enabled(): boolean {
    return !this.options.off;
  }

  /**
   * A device the gate will see results from; `reference`: it computes with the
   * host's own library (node:crypto), so its signatures and verdicts are not redone.
   */
  addDevice(device: string, reference: boolean): void {
    this.#record(device).reference = reference;
  }

  /** A device failed a job or a check: the `sample` policies look at all its next results. */
  noteFault(device: string): void {
    this.#record(device).suspect = this.options.suspectWindow;
  }

  /** Whether `device` was added as a reference device (the broker marks what such a device settled). */
  isReference(device: string): boolean {
    return this.#devices.get(device)?.reference === true;
  }

  /** Forget a device (removed from the queue). */
  forget(device: string): void {
    this.#devices.delete(device);
  }

  /**
   * Check one ok completion of `request` from `device`. `reference`: this completion
   * (not the device) was computed by a reference device behind `device` — a broker
   * whose own queue ran it on its node:crypto provider (Completion.reference): it
   * gets the checks that device would get in process, no more.
   */
  check(
    device: string,
    job: GateJob,
    request: PrimitiveRequest,
    value: PrimitiveValue,
    witness: Witness | undefined,
    reference?: boolean,
  ): GateOutcome {
    if (this.options.off) return undefined;
    const record = this.#record(device);
    const ref = reference === true || record.reference;
    const outcome = this.#check(device, record, job, request, value, witness, ref);
    if (this.options.dry) return outcome instanceof Promise ? outcome.then(released, released) : undefined;
    if (outcome !== undefined && !(outcome instanceof Promise)) record.suspect = this.options.suspectWindow;
    return outcome;
  }

  #check(
    device: string,
    record: DeviceRecord,
    job: GateJob,
    request: PrimitiveRequest,
    value: PrimitiveValue,
    witness: Witness | undefined,
    reference: boolean,
  ): GateOutcome {
    switch (request.op) {
      case 'rsa-private':
        return rawPrivateResultHolds(request.key.publicKey, request.input, value)
          ? undefined
          : failure('RSA private-key result does not open to its input with the public key');
      case 'rsa-sign':
        return paddedSignatureHolds(request.key.publicKey, request.padding, request.digest, value)
          ? undefined
          : failure(`RSA ${request.padding.scheme} signature does not open to the encoding of its digest`);
      case 'rsa-decrypt': {
        const max = oaepMaxMessageLength(request.padding.hash, modulusBytes(request.key.publicKey));
        return value instanceof Uint8Array && value.length <= max
          ? undefined
          : failure('RSA-OAEP plaintext longer than the key allows');
      }
      case 'rsa-public':
      case 'rsa-encrypt':
        return isRsaRepresentative(request.key, value)
          ? undefined
          : failure('RSA public-key result is not a value below the modulus');
      case 'ecdsa-sign':
        return this.#ecdsaSign(device, record, job, request, value, reference);
      case 'ecdsa-verify':
      case 'rsa-verify':
      case 'eddsa-verify':
        return this.#verdict(record, request, value, witness, reference);
      case 'ec-mul':
        return pointHolds(curveOf(request.curve), value)
          ? undefined
          : failure(`point is not on ${request.curve}`);
      case 'ecdh': {
        const y = witness?.kind === 'ecdh-point' ? witness.y : undefined;
        // The reference provider returns x only, and the square test costs more than it proves there.
        if (reference && y === undefined) return undefined;
        return ecdhHolds(curveOf(request.key.curve), value, y)
          ? undefined
          : failure(
              y === undefined
                ? `ECDH x-coordinate is not that of a point on ${request.key.curve}`
                : `ECDH point is not on ${request.key.curve}`,
            );
      }
      case 'keygen':
        return keyPairHolds(value) ? undefined : failure('generated key pair is inconsistent');
      case 'eddsa-sign':
        return value instanceof Uint8Array && value.length === 64
          ? undefined
          : failure('Ed25519 signature is not 64 bytes');
      case 'x25519':
        return value instanceof Uint8Array && value.length === 32
          ? undefined
          : failure('X25519 secret is not 32 bytes');
    }
  }

  #record(device: string): DeviceRecord {
    let record = this.#devices.get(device);
    if (record === undefined) {
      record = { reference: false, ecdsaWitness: undefined, suspect: 0 };
      this.#devices.set(device, record);
    }
    return record;
  }

  /** Whether this result is one the `sample` policy re-checks (and counts down a suspect window). */
  #sampled(record: DeviceRecord): boolean {
    if (record.suspect > 0) {
      record.suspect--;
      return true;
    }
    // xorshift32: sampling needs no cryptographic strength, only a device that cannot predict it.
    let x = this.#random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#random = x;
    return (x >>> 0) / 4294967296 < this.options.sampleRate;
  }

  #ecdsaSign(
    device: string,
    record: DeviceRecord,
    job: GateJob,
    request: RequestOf<'ecdsa-sign'>,
    value: PrimitiveValue,
    reference: boolean,
  ): GateOutcome {
    const curve = curveOf(request.key.curve);
    if (signatureScalars(curve, value) === null) return failure('ECDSA signature out of range');
    if (reference) return undefined;
    const signature = value as Uint8Array;
    const publicKey = request.key.publicKey;
    let mode = this.options.signCheck;
    // `sample` trusts the device between samples: a wrong sampled signature ends that trust.
    const sampling = mode === 'sample';
    if (sampling) {
      if (!this.#sampled(record)) return undefined;
      mode = 'all';
    }
    if (mode === 'device' && record.ecdsaWitness !== false) {
      const verify: RequestOf<'ecdsa-verify'> = {
        op: 'ecdsa-verify',
        key: publicKey,
        digest: request.digest,
        signature,
      };
      if (this.#runner.covers(device, verify)) {
        // The verify job passes this gate too: its witness (or, without one, the host) decides the verdict.
        return this.#runner
          .runOn(device, verify, job.deadline, job.signal)
          .then((verdict) =>
            verdict === true
              ? undefined
              : this.#faulted(record, failure('ECDSA signature failed re-verification on the device')),
          );
      }
    }
    return ecdsaSignatureValid(publicKey, request.digest, signature, request.message)
      ? undefined
      : failure('ECDSA signature does not verify on the host', sampling);
  }

  #faulted(record: DeviceRecord, outcome: IntegrityFailure): IntegrityFailure {
    record.suspect = this.options.suspectWindow;
    return outcome;
  }

  #verdict(
    record: DeviceRecord,
    request: RequestOf<'ecdsa-verify' | 'rsa-verify' | 'eddsa-verify'>,
    value: PrimitiveValue,
    witness: Witness | undefined,
    reference: boolean,
  ): GateOutcome {
    if (typeof value !== 'boolean') return failure('verdict is not a boolean');
    if (reference) return undefined;
    const policy = this.options.verifyCheck;
    if (policy === 'trust') return undefined;
    if (request.op === 'ecdsa-verify') {
      const hasWitness = witness?.kind === 'ecdsa-verify';
      if (record.ecdsaWitness !== hasWitness) record.ecdsaWitness = hasWitness;
      if (hasWitness) {
        const expected = ecdsaWitnessVerdict(curveOf(request.key.curve), request.signature, witness.x);
        if (expected !== value) return failure(`ECDSA verdict ${value} contradicts its witness`);
        if (policy !== 'all') return undefined;
      }
    } else if (request.op === 'rsa-verify' && witness?.kind === 'rsa-verify') {
      const opened = witness.opened;
      const expected =
        opened.length === modulusBytes(request.key) &&
        rsaVerifyExpected(request.key, request.padding, request.digest, request.signature, opened);
      if (expected !== value) return failure(`RSA verdict ${value} contradicts its witness`);
      if (policy !== 'all') return undefined;
    }
    const sampling = policy === 'sample';
    if (sampling && !this.#sampled(record)) return undefined;
    if (hostVerdict(request) === value) return undefined;
    return failure(
      `${request.op} verdict ${value} differs from the host's`,
      // `sample` trusts the device between samples: one wrong verdict ends that trust.
      sampling,
    );
  }
}

const okpKeyObjects = new WeakMap<OkpPublicKeyMaterial, KeyObject | null>();

function okpKeyObject(key: OkpPublicKeyMaterial): KeyObject | null {
  let cached = okpKeyObjects.get(key);
  if (cached === undefined) {
    try {
      cached = createPublicKey({
        key: { kty: 'OKP', crv: key.curve, x: Buffer.from(key.x).toString('base64url') },
        format: 'jwk',
      });
    } catch {
      cached = null;
    }
    okpKeyObjects.set(key, cached);
  }
  return cached;
}

/** The right verdict, computed on this host. */
function hostVerdict(request: RequestOf<'ecdsa-verify' | 'rsa-verify' | 'eddsa-verify'>): boolean {
  switch (request.op) {
    case 'ecdsa-verify':
      return ecdsaSignatureValid(request.key, request.digest, request.signature, request.message);
    case 'rsa-verify':
      return rsaVerifyExpected(request.key, request.padding, request.digest, request.signature);
    case 'eddsa-verify': {
      const key = okpKeyObject(request.key);
      return key !== null && nodeVerify(null, request.message, key, request.signature);
    }
  }
}

function keyPairHolds(value: PrimitiveValue): boolean {
  if (typeof value !== 'object' || value === null || !('privateKey' in value)) return false;
  const pair = value;
  switch (pair.kind) {
    case 'rsa': {
      const k = pair.privateKey;
      let product = k.p * k.q;
      for (const prime of k.otherPrimes) product *= prime.r;
      return product === k.n && k.publicKey.n === k.n;
    }
    case 'ec': {
      const q = pair.privateKey.publicKey;
      return pointHolds(curveOf(q.curve), { x: q.x, y: q.y });
    }
    case 'okp':
      return true;
  }
}
