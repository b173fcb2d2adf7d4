/**
 * Issue 16: the rows a host can run of the review's measurement — RSA-2048 with
 * one key on the in-process software device and on the `keyring` device (keyctl:
 * the kernel's RSA), PKCS#1 v1.5 verify and sign, at 1 and 16 in flight, straight
 * on each device's queue pair (no layers above). Columns: ops/s, p50/p99 latency,
 * CPU per operation of this process (user and system: keyctl's kernel work is
 * system time of the calling libuv thread), and the keyring's ratio to software
 * (the baseline, same run). Where this kernel withholds something (no PKCS#8
 * parser: no private keys; keyctl forbidden) the row says so instead of a figure.
 * The broker rows belong to the broker's bench (`npm run bench -- broker`); the
 * guest's rows (kernel virtio_crypto, user-space driver) come from `npm run test:e2e`.
 */

import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { Keyctl } from 'pcie-mmio/system';
import * as errors from '../core/driver/errors.js';
import {
  bytesToBigint,
  type Completion,
  type Device,
  type PrimitiveRequest,
  RsaPrivateKeyMaterial,
} from '../core/driver/index.js';
import { parseDeviceSpec } from '../core/platform/index.js';
import { keyringDriver } from '../drivers/keyring/index.js';
import { softwareDriver } from '../drivers/software/index.js';
import type { Bench, BenchRow } from './lib/types.js';

interface Figures {
  opsPerSecond: number;
  p50: number;
  p99: number;
  userUs: number;
  systemUs: number;
}

async function drive(
  device: Device,
  request: PrimitiveRequest,
  inFlight: number,
  ms: number,
): Promise<Figures> {
  const qp = device.queuePairs[0]!;
  const started = new Map<number, number>();
  const latencies: number[] = [];
  let tag = 0;
  const take = (c: Completion) => {
    if (!c.ok) throw c.error;
    latencies.push(performance.now() - started.get(c.tag)!);
    started.delete(c.tag);
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < ms || latencies.length === 0) {
    const room = Math.min(inFlight, qp.depth) - qp.inFlight;
    const batch = Array.from({ length: Math.max(0, room) }, () => ({ tag: tag++ % 2 ** 31, request }));
    for (const j of batch) started.set(j.tag, performance.now());
    qp.submit(batch);
    await qp.waitForCompletions(AbortSignal.timeout(60_000));
    qp.harvest(take);
  }
  while (qp.inFlight > 0) {
    await qp.waitForCompletions(AbortSignal.timeout(60_000));
    qp.harvest(take);
  }
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
  return {
    opsPerSecond: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    userUs: used.user / latencies.length,
    systemUs: used.system / latencies.length,
  };
}

const bench: Bench = async (ctx) => {
  const ms = ctx.quick ? 300 : 2000;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const int = (name: keyof typeof jwk) => bytesToBigint(Buffer.from(jwk[name] as string, 'base64url'));
  const key = new RsaPrivateKeyMaterial(
    int('n'),
    int('e'),
    int('d'),
    int('p'),
    int('q'),
    int('dp'),
    int('dq'),
    int('qi'),
  );
  const message = Buffer.from('pkaccel keyring bench');
  const digest = new Uint8Array(createHash('sha256').update(message).digest());
  const padding = { scheme: 'pkcs1-v1_5', hash: 'SHA-256' } as const;
  const requests: Record<string, PrimitiveRequest> = {
    'rsa2048 pkcs1 verify': {
      op: 'rsa-verify',
      key: key.publicKey,
      padding,
      digest,
      signature: nodeSign('sha256', message, privateKey),
    },
    'rsa2048 pkcs1 sign': { op: 'rsa-sign', key, padding, digest },
  };

  const software = await softwareDriver.open(parseDeviceSpec('software'));
  let keyring: Device | undefined;
  let keyringWhy = '';
  try {
    keyring = await keyringDriver(() => new Keyctl(errors)).open(parseDeviceSpec('keyring:@s'));
    keyringWhy = ((keyring as { limits?: string[] }).limits ?? []).join('; ');
  } catch (error) {
    keyringWhy = (error as Error).message;
  }
  const rows: BenchRow[] = [];
  try {
    for (const [name, request] of Object.entries(requests)) {
      for (const inFlight of [1, 16]) {
        const base = await drive(software, request, inFlight, ms);
        rows.push({ name: `${name} x${inFlight}`, path: 'software (in-process)', ...round(base), ratio: 1 });
        const can = keyring?.capabilities.some((c) => c.op === request.op) === true;
        if (keyring === undefined || !can) {
          rows.push({
            name: `${name} x${inFlight}`,
            path: 'keyring',
            note: `not here: ${keyringWhy || 'no such operation'}`,
          });
          continue;
        }
        const k = await drive(keyring, request, inFlight, ms);
        rows.push({
          name: `${name} x${inFlight}`,
          path: 'keyring (kernel)',
          ...round(k),
          ratio: Number((k.opsPerSecond / base.opsPerSecond).toFixed(2)),
        });
        ctx.log(
          `${name} x${inFlight}: software ${base.opsPerSecond.toFixed(0)}/s, keyring ${k.opsPerSecond.toFixed(0)}/s`,
        );
      }
    }
  } finally {
    await software.close();
    await keyring?.close();
  }
  return rows;
};

function round(f: Figures): Record<string, number> {
  return {
    'ops/s': Math.round(f.opsPerSecond),
    'p50 ms': Number(f.p50.toFixed(3)),
    'p99 ms': Number(f.p99.toFixed(3)),
    'user µs/op': Math.round(f.userUs),
    'sys µs/op': Math.round(f.systemUs),
  };
}

export default bench;
