/**
 * Issue 16: the rows a host can run of the review's measurement — RSA-2048 with
 * one key, PKCS#1 v1.5 verify and sign, at 1 and 16 in flight, straight on each
 * device's queue pair (no layers above), on
 *   software (in-process)   the software device in this process (the baseline)
 *   keyring (kernel)        keyctl: the kernel's RSA
 *   broker → software       `pkaccel serve --devices software` in a child process,
 *                           this process its client through `broker:`
 *   broker → keyring        the same broker over the keyring device
 * Columns: ops/s, p50/p99 latency, CPU per operation (user and system: keyctl's
 * kernel work is system time of the calling libuv thread; a broker row adds the
 * broker process's CPU, also shown apart), and the ratio to software (same run).
 * Where this kernel withholds something (no PKCS#8 parser: no private keys;
 * keyctl forbidden) the row says so instead of a figure. The guest's rows (kernel
 * virtio_crypto, the user-space driver, the broker on the device) come from
 * `npm run test:e2e` (PKACCEL_E2E_MODES=keyring).
 */

import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Keyctl } from 'pcie-mmio/system';
import * as errors from '../core/driver/errors.js';
import {
  bytesToBigint,
  type Device,
  type PrimitiveRequest,
  RsaPrivateKeyMaterial,
} from '../core/driver/index.js';
import { parseDeviceSpec } from '../core/platform/index.js';
import { brokerDriver } from '../drivers/broker/index.js';
import { keyringDriver } from '../drivers/keyring/index.js';
import { softwareDriver } from '../drivers/software/index.js';
import { drive, type Figures, type ServedBroker, serveBroker } from '../test/e2e/guest/keyring-drive.js';
import type { Bench, BenchRow } from './lib/types.js';

/** The built CLI (`npm run bench` builds first): the broker's public entry. */
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

interface Path {
  readonly name: string;
  /** The device, or why this host has none. */
  readonly device: Device | string;
  /** The broker process, for its CPU. */
  readonly broker?: ServedBroker;
}

async function openKeyring(): Promise<Device | string> {
  try {
    const keyring = await keyringDriver(() => new Keyctl(errors)).open(parseDeviceSpec('keyring:@s'));
    const limits = ((keyring as { limits?: string[] }).limits ?? []).join('; ');
    return limits === '' ? keyring : Object.assign(keyring, { why: limits });
  } catch (error) {
    return (error as Error).message;
  }
}

/** A broker over `devices` and a `broker:` device on it; or why not. */
async function openBroker(devices: string, served: ServedBroker[]): Promise<Pick<Path, 'device' | 'broker'>> {
  try {
    const broker = await serveBroker(CLI, devices, 30_000);
    served.push(broker);
    return { device: await brokerDriver.open(parseDeviceSpec(`broker:${broker.socket}`)), broker };
  } catch (error) {
    return { device: `broker over ${devices}: ${(error as Error).message.slice(0, 200)}` };
  }
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

  const served: ServedBroker[] = [];
  const software = await softwareDriver.open(parseDeviceSpec('software'));
  const paths: Path[] = [
    { name: 'keyring (kernel)', device: await openKeyring() },
    { name: 'broker → software', ...(await openBroker('software', served)) },
    { name: 'broker → keyring', ...(await openBroker('keyring:@s', served)) },
  ];
  const rows: BenchRow[] = [];
  try {
    for (const [name, request] of Object.entries(requests)) {
      for (const inFlight of [1, 16]) {
        const label = `${name} x${inFlight}`;
        const base = await drive(software.queuePairs[0]!, request, inFlight, ms);
        rows.push({ name: label, path: 'software (in-process)', ...round(base), ratio: 1 });
        for (const path of paths) {
          const device = path.device;
          const can = typeof device !== 'string' && device.capabilities.some((c) => c.op === request.op);
          if (!can) {
            const why = typeof device === 'string' ? device : ((device as { why?: string }).why ?? '');
            rows.push({ name: label, path: path.name, note: `not here: ${why || `no ${request.op} on it`}` });
            continue;
          }
          const f = await drive(device.queuePairs[0]!, request, inFlight, ms, path.broker?.pid);
          rows.push({
            name: label,
            path: path.name,
            ...round(f),
            ratio: Number((f.opsPerSecond / base.opsPerSecond).toFixed(2)),
          });
          ctx.log(
            `${label}: software ${base.opsPerSecond.toFixed(0)}/s, ${path.name} ${f.opsPerSecond.toFixed(0)}/s`,
          );
        }
      }
    }
  } finally {
    await software.close();
    for (const path of paths) if (typeof path.device !== 'string') await path.device.close();
    for (const broker of served) await broker.stop();
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
    ...(f.other === undefined
      ? {}
      : {
          'broker user µs/op': Math.round(f.other.userUs),
          'broker sys µs/op': Math.round(f.other.systemUs),
        }),
  };
}

export default bench;
