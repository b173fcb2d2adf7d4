/**
 * The guest side of the QEMU end-to-end test: runs as the guest's only program
 * (started by /init), binds the virtio-crypto function to a user-space driver
 * (uio_pci_generic or vfio-pci: only ever inside this guest), runs the cases of
 * ./cases.ts through the real native layer, and prints the result table the host
 * harness parses.
 */

import { generateKeyPairSync, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AbortedError,
  type Device,
  DeviceGoneError,
  defaultRegistry,
  InvalidInputError,
  openAccelerator,
  type Platform,
  UnsupportedError,
} from '../../../index.js';
import { generatedKeys, measure, refinement, wycheproofSign, wycheproofVerify } from './cases.js';
import { keyringBoot } from './keyring.js';
import { Report } from './report.js';
import { concurrentJobs, leadingZeroSignatures } from './stress.js';
import { bindUio, bindVfio, findFunctions, hex4 } from './sysfs.js';

const VIRTIO_VENDOR = 0x1af4;
const VIRTIO_CRYPTO_DEVICE = 0x1054;

function isPlatform(value: unknown): value is Platform {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Platform>;
  return Array.isArray(v.schemes) && v.schemes.includes('pci') && typeof v.open === 'function';
}

/** The native platform (pcie-mmio) registered for `pci:` specs, unless the package entry already did it. */
async function ensureNativePlatform(): Promise<string> {
  if (defaultRegistry.schemes().includes('pci')) return 'registered by the package entry';
  const name = 'pcie-mmio';
  const mod = (await import(name)) as Record<string, unknown>;
  const create = mod.createNativePlatform;
  if (typeof create === 'function') {
    const platform: unknown = create({
      errors: { AbortedError, DeviceGoneError, UnsupportedError, InvalidInputError },
    });
    if (isPlatform(platform)) {
      defaultRegistry.registerPlatform(platform);
      return 'registered createNativePlatform() from pcie-mmio';
    }
  }
  for (const [exported, value] of Object.entries(mod)) {
    if (isPlatform(value)) {
      defaultRegistry.registerPlatform(value);
      return `registered ${exported} from pcie-mmio`;
    }
  }
  throw new Error(`pcie-mmio exports no platform for pci: specs (exports: ${Object.keys(mod).join(', ')})`);
}

async function deviceCases(
  report: Report,
  spec: string,
  label: string,
  full: boolean,
): Promise<Device | undefined> {
  let device: Device | undefined;
  await report.run(`${label} open ${spec}`, async () => {
    device = await defaultRegistry.open(spec);
    const mode = (device as { interruptMode?: string }).interruptMode ?? '?';
    return `${device.info.model}, ${device.queuePairs.length} queue pair(s), interrupts: ${mode}, caps: ${device.capabilities.map((c) => c.op).join(',')}`;
  });
  if (device === undefined) return undefined;
  const qp = device.queuePairs[0]!;
  await wycheproofSign(report, qp, label);
  await wycheproofVerify(report, qp, label);
  if (full) {
    await generatedKeys(report, qp, label);
    await leadingZeroSignatures(report, qp, label);
    await concurrentJobs(report, qp, label);
    await refinement(report, device, qp, label);
  }
  await measure(report, device, label);
  return device;
}

/** Through openAccelerator with the software device beside it: what QEMU cannot do is routed there. */
async function acceleratorCases(report: Report, spec: string): Promise<void> {
  const accel = await openAccelerator({ devices: [spec, 'software'] });
  try {
    const subtle = accel.subtle;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const message = Buffer.from('routed by the scheduler');
    await report.run('accelerator RSASSA-PKCS1-v1_5 sign', async () => {
      const key = await subtle.importKey(
        'pkcs8',
        pkcs8,
        { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        false,
        ['sign'],
      );
      const sig = new Uint8Array(await subtle.sign({ name: 'RSASSA-PKCS1-v1_5' }, key, message));
      if (!nodeVerify('sha256', message, publicKey, sig)) throw new Error('node rejects the signature');
      return 'signature verified by node:crypto';
    });
    await report.run('accelerator RSA-PSS (software fallback)', async () => {
      const key = await subtle.importKey('pkcs8', pkcs8, { name: 'RSA-PSS', hash: 'SHA-256' }, false, [
        'sign',
      ]);
      const sig = new Uint8Array(await subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, key, message));
      const ok = nodeVerify('sha256', message, { key: publicKey, padding: 6, saltLength: 32 }, sig);
      if (!ok) throw new Error('node rejects the PSS signature');
      return 'PSS signature verified by node:crypto';
    });
    await report.run('accelerator RSA-OAEP (software fallback)', async () => {
      const enc = await subtle.importKey('spki', spki, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, [
        'encrypt',
      ]);
      const dec = await subtle.importKey('pkcs8', pkcs8, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, [
        'decrypt',
      ]);
      const ct = await subtle.encrypt({ name: 'RSA-OAEP' }, enc, message);
      const pt = Buffer.from(await subtle.decrypt({ name: 'RSA-OAEP' }, dec, ct));
      if (!pt.equals(message)) throw new Error('round trip differs');
      return 'OAEP round trip';
    });
  } finally {
    await accel.close();
  }
}

async function main(): Promise<number> {
  const arg = process.argv[2];
  const mode = arg === 'vfio' || arg === 'keyring' ? arg : 'uio';
  // Binding PCI functions is only ever done inside the harness's guest.
  if (!readFileSync('/proc/cmdline', 'utf8').includes(`e2e.mode=${mode}`)) {
    console.error('guest.js runs only inside the e2e QEMU guest (no e2e.mode= on the kernel command line)');
    return 2;
  }
  const report = new Report();
  const fn = findFunctions(VIRTIO_VENDOR, VIRTIO_CRYPTO_DEVICE)[0];
  await report.run('device present', () => {
    if (fn === undefined) throw new Error('no 1af4:1054 function in /sys/bus/pci/devices');
    return `${fn.address} ${hex4(fn.vendor)}:${hex4(fn.device)} class ${fn.classCode.toString(16)} resources [${fn.resources.join('; ')}]`;
  });
  if (fn === undefined) return report.summary();
  if (mode === 'keyring') {
    // The keyring boot (issue 16): its own cases, in test/e2e/guest/keyring.ts.
    await keyringBoot(report, fn).catch((error: unknown) =>
      report.record('keyring boot', false, String(error)),
    );
    return report.summary();
  }
  if (!(await report.run(`bind ${mode}`, () => (mode === 'vfio' ? bindVfio(fn) : bindUio(fn)))))
    return report.summary();
  if (!(await report.run('native platform', ensureNativePlatform))) return report.summary();

  const spec = `pci:${fn.address}?mode=${mode}`;
  const irqDevice = await deviceCases(report, spec, `${mode}/irq`, true);
  await irqDevice?.close();
  const pollDevice = await deviceCases(report, `${spec}&irq=poll`, `${mode}/poll`, false);
  await pollDevice?.close();
  let software: Device | undefined;
  await report.run('software device open', async () => {
    software = await defaultRegistry.open('software');
    return software.info.model;
  });
  if (software) await measure(report, software, 'software');
  await software?.close();
  await acceleratorCases(report, spec).catch((error: unknown) =>
    report.record('accelerator', false, String(error)),
  );
  return report.summary();
}

main().then(
  (failed) => {
    process.exitCode = failed === 0 ? 0 : 1;
  },
  (error: unknown) => {
    console.error('guest script crashed:', error);
    process.exitCode = 3;
  },
);
