/**
 * What the integrity gate (core/integrity) costs.
 *
 * 1. Host CPU per check: each check the gate runs, called directly on the main
 *    thread (µs per call).
 * 2. Throughput with and without the gate through `accel.subtle` (RSA-2048
 *    PKCS#1 v1.5 sign, ECDSA P-256 sign, ECDH P-256) at 64 in flight, on
 *    `sim:ring` (real engine) and `sim:ring?engine=null` (completes at once: the
 *    framework alone). The ratio is gated ÷ ungated ops/s, measured in
 *    interleaved rounds in this process; "main-thread µs/op" is event-loop busy
 *    time per operation (the simulated card's worker threads excluded). The
 *    null card's fixed results fail every check, so there the gate runs its
 *    checks and releases the value anyway (an internal dry-run switch) — what
 *    is measured is the cost of checking, not of retrying.
 * 3. Each ECDSA-signature check option (`signCheck`: device, all, sample) on
 *    sim:ring as a throughput ratio against no check.
 *
 * The ungated baseline uses an internal switch that is not part of the public
 * options (there is no public "trust everything").
 */

import { webcrypto } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { opsPerSecond } from '../cli/speed/measure.js';
import { type Accelerator, openAccelerator } from '../core/api/index.js';
import { bigintToBytes, bytesToBigint } from '../core/driver/bytes.js';
import { CURVES } from '../core/driver/curves.js';
import type { Witness } from '../core/driver/device.js';
import { EcPrivateKeyMaterial, type EcPublicKeyMaterial } from '../core/driver/keys.js';
import type { PrimitiveRequest, PrimitiveValue } from '../core/driver/primitives.js';
import { digest } from '../core/encoding/digest.js';
import { IntegrityGate } from '../core/integrity/gate.js';
import { GATE_DRY, GATE_OFF, type IntegrityOptions, type SignCheck } from '../core/integrity/options.js';
import { ecMultiply } from '../core/math/ec.js';
import { modPow } from '../core/math/modular.js';
import { defaultRegistry } from '../index.js';
import { type BenchKeys, benchKeys, type Jwk, rsaMaterialFromJwk } from './lib/card-vs-subtle.js';
import type { BenchContext, BenchRow } from './lib/types.js';

const subtle = webcrypto.subtle;
const CONCURRENCY = 64;
const message = new TextEncoder().encode('the integrity gate benchmark');

/** µs per call of `fn`, over about `ms`. */
function microseconds(fn: (i: number) => unknown, ms: number): number {
  for (let i = 0; i < 20; i++) fn(i);
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 20; i++) fn(calls + i);
    calls += 20;
    now = performance.now();
  }
  return ((now - start) * 1000) / calls;
}

function big(b64: string | undefined): bigint {
  return BigInt(`0x${Buffer.from(b64!, 'base64url').toString('hex') || '0'}`);
}

async function checkCosts(keys: BenchKeys, ms: number): Promise<BenchRow[]> {
  const gate = new IntegrityGate({ signCheck: 'all' }, { covers: () => false, runOn: async () => true });
  const job = { deadline: Number.POSITIVE_INFINITY, signal: undefined };
  const rsa = rsaMaterialFromJwk(keys.rsaJwk);
  const input = new Uint8Array(256).fill(7, 1);
  const s = bigintToBytes(modPow(bytesToBigint(input), rsa.d, rsa.n), 256);
  const ecPub: EcPublicKeyMaterial = {
    kind: 'ec-public',
    curve: 'P-256',
    x: big(keys.ecJwk.x),
    y: big(keys.ecJwk.y),
  };
  const ec = new EcPrivateKeyMaterial('P-256', big(keys.ecJwk.d), ecPub);
  const e = digest('SHA-256', message);
  const sig = new Uint8Array(keys.ecSig);
  const curve = CURVES['P-256'];
  const point = ecMultiply(curve, 12345n)!;
  const secret = bigintToBytes(point.x, 32);
  const rows: [string, PrimitiveRequest, PrimitiveValue, Witness | undefined][] = [
    ['RSA-2048 private result (s^e = m)', { op: 'rsa-private', key: rsa, input }, s, undefined],
    [
      'ECDSA P-256 signature, host verify (signCheck all)',
      { op: 'ecdsa-sign', key: ec, digest: e, message: { hash: 'SHA-256', data: message } },
      sig,
      undefined,
    ],
    [
      'ECDSA P-256 verdict against its witness',
      { op: 'ecdsa-verify', key: ecPub, digest: e, signature: sig },
      true,
      { kind: 'ecdsa-verify', x: sig.slice(0, 32) },
    ],
    [
      'ECDSA P-256 verdict on the host (no witness)',
      {
        op: 'ecdsa-verify',
        key: ecPub,
        digest: e,
        signature: sig,
        message: { hash: 'SHA-256', data: message },
      },
      true,
      undefined,
    ],
    [
      'ECDH P-256 with the y witness (on the curve)',
      { op: 'ecdh', key: ec, peer: ecPub },
      secret,
      { kind: 'ecdh-point', y: point.y },
    ],
    ['ECDH P-256 x only (x³+ax+b a square)', { op: 'ecdh', key: ec, peer: ecPub }, secret, undefined],
    ['ec-mul P-256 point (on the curve)', { op: 'ec-mul', curve: 'P-256', scalar: 12345n }, point, undefined],
  ];
  const out: BenchRow[] = [];
  for (const [name, request, value, witness] of rows) {
    const verdict = gate.check('card', job, request, value, witness);
    if (verdict !== undefined) throw new Error(`${name}: the check failed on a right value`);
    out.push({
      name,
      'host µs/check': microseconds(() => gate.check('card', job, request, value, witness), ms),
    });
  }
  return out;
}

type Call = () => Promise<unknown>;

async function cases(accel: Accelerator, k: BenchKeys): Promise<Record<string, Call>> {
  const s = accel.subtle as unknown as typeof subtle;
  const imp = (jwk: Jwk, alg: object, usages: string[]) =>
    s.importKey('jwk', jwk, alg as never, false, usages as never);
  const rsa = await imp(k.rsaJwk, k.rsaAlg, ['sign']);
  const ec = await imp(k.ecJwk, k.ecAlg, ['sign']);
  const mine = await imp(k.dhAJwk, k.dhAlg, ['deriveBits']);
  const peer = await imp(k.dhBPubJwk, k.dhAlg, []);
  return {
    'RSA-2048 sign': () => s.sign(k.rsaAlg, rsa, message),
    'ECDSA P-256 sign': () => s.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec, message),
    'ECDH P-256': () => s.deriveBits({ name: 'ECDH', public: peer }, mine, 256),
  };
}

interface Rate {
  opsPerSecond: number;
  mainUsPerOp: number;
}

async function rate(call: Call, ms: number): Promise<Rate> {
  const before = performance.eventLoopUtilization();
  let calls = 0;
  const counted: Call = () => {
    calls++;
    return call();
  };
  const ops = await opsPerSecond(counted, CONCURRENCY, ms);
  const elu = performance.eventLoopUtilization(before);
  return { opsPerSecond: ops, mainUsPerOp: calls === 0 ? 0 : (elu.active * 1000) / calls };
}

/** Interleaved rounds over several accelerators; the median ops/s and main-thread µs/op of each. */
async function compare(calls: readonly Call[], ms: number, rounds: number): Promise<Rate[]> {
  const samples: Rate[][] = calls.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < calls.length; i++) samples[i]!.push(await rate(calls[i]!, ms));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return samples.map((s) => ({
    opsPerSecond: median(s.map((x) => x.opsPerSecond)),
    mainUsPerOp: median(s.map((x) => x.mainUsPerOp)),
  }));
}

async function open(spec: string, integrity: IntegrityOptions): Promise<Accelerator> {
  return openAccelerator({ devices: [spec], registry: defaultRegistry, queue: { integrity } });
}

export default async function integrityBench(ctx: BenchContext): Promise<BenchRow[]> {
  const ms = ctx.quick ? 300 : 1500;
  const rounds = ctx.quick ? 1 : 3;
  const keys = await benchKeys(message);
  const rows: BenchRow[] = [];
  ctx.log('host CPU per check');
  rows.push(...(await checkCosts(keys, ctx.quick ? 100 : 500)));

  const off = { [GATE_OFF]: true } as IntegrityOptions;
  for (const [spec, gated, label] of [
    ['sim:ring', {} as IntegrityOptions, 'default'],
    ['sim:ring?engine=null', { [GATE_DRY]: true } as IntegrityOptions, 'checks run, value released'],
  ] as const) {
    const withGate = await open(spec, gated);
    const without = await open(spec, off);
    try {
      const a = await cases(withGate, keys);
      const b = await cases(without, keys);
      for (const name of Object.keys(a)) {
        const [g, n] = await compare([a[name]!, b[name]!], ms, rounds);
        ctx.log(
          `${spec} ${name}: gate ${g!.opsPerSecond.toFixed(0)}/s, none ${n!.opsPerSecond.toFixed(0)}/s`,
        );
        rows.push({
          name: `${name} on ${spec}`,
          gate: label,
          'ops/s gated': g!.opsPerSecond,
          'ops/s ungated': n!.opsPerSecond,
          'gated / ungated': g!.opsPerSecond / n!.opsPerSecond,
          'main µs/op gated': g!.mainUsPerOp,
          'main µs/op ungated': n!.mainUsPerOp,
          'gate main µs/op': g!.mainUsPerOp - n!.mainUsPerOp,
        });
      }
    } finally {
      await withGate.close();
      await without.close();
    }
  }

  ctx.log('ECDSA signature check options on sim:ring');
  const options: (SignCheck | 'none')[] = ['none', 'device', 'all', 'sample'];
  const accels = await Promise.all(
    options.map((o) => open('sim:ring', o === 'none' ? off : { signCheck: o })),
  );
  try {
    const calls = await Promise.all(accels.map(async (a) => (await cases(a, keys))['ECDSA P-256 sign']!));
    const rates = await compare(calls, ms, rounds);
    for (let i = 1; i < options.length; i++) {
      rows.push({
        name: `ECDSA P-256 sign, signCheck ${options[i]} on sim:ring`,
        gate: options[i] === 'device' ? 'default' : String(options[i]),
        'ops/s gated': rates[i]!.opsPerSecond,
        'ops/s ungated': rates[0]!.opsPerSecond,
        'gated / ungated': rates[i]!.opsPerSecond / rates[0]!.opsPerSecond,
        'main µs/op gated': rates[i]!.mainUsPerOp,
        'main µs/op ungated': rates[0]!.mainUsPerOp,
        'gate main µs/op': rates[i]!.mainUsPerOp - rates[0]!.mainUsPerOp,
      });
    }
  } finally {
    await Promise.all(accels.map((a) => a.close()));
  }
  return rows;
}
