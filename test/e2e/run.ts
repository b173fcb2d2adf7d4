/**
 * `npm run test:e2e`: the end-to-end test on QEMU's virtio-crypto device.
 * Builds an initramfs from the built project, boots the guest twice (UIO without
 * an IOMMU, VFIO behind an emulated Intel IOMMU) and passes only if every case
 * the guest ran passed in both boots. Without the Debian packages it needs, it
 * says what is missing and fails.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInitramfs, GUEST_VECTORS } from './initramfs.js';
import { boot } from './qemu.js';
import { bootPassed, formatTable, parseGuestResults } from './results.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = join(repo, '.e2e');
const vectors = process.env.PKACCEL_VECTORS ?? join(repo, '../shared/vectors/wycheproof');
const BOOT_TIMEOUT_SECONDS = Number(process.env.PKACCEL_E2E_TIMEOUT ?? 240);

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The newest /boot/vmlinuz-<v> whose /lib/modules/<v> has the vfio modules. */
function findKernel(): { kernel: string; version: string } | undefined {
  const override = process.env.PKACCEL_E2E_KERNEL;
  const versions = existsSync('/boot')
    ? readdirSync('/boot')
        .filter((f) => f.startsWith('vmlinuz-'))
        .map((f) => f.slice('vmlinuz-'.length))
        .filter((v) => existsSync(`/lib/modules/${v}/kernel/drivers/vfio`))
        .sort()
    : [];
  const version = override ?? versions.at(-1);
  if (version === undefined) return undefined;
  return { kernel: `/boot/vmlinuz-${version}`, version };
}

function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (!onPath('qemu-system-x86_64')) missing.push('qemu-system-x86_64 (Debian package qemu-system-x86)');
  if (!onPath('cpio')) missing.push('cpio (package cpio)');
  if (!onPath('modinfo')) missing.push('modinfo (package kmod)');
  if (!onPath('timeout')) missing.push('timeout (package coreutils)');
  if (!existsSync('/bin/busybox')) missing.push('/bin/busybox (package busybox-static)');
  if (findKernel() === undefined)
    missing.push('a kernel in /boot with its vfio/uio modules in /lib/modules (package linux-image-amd64)');
  if (!existsSync(join(repo, 'dist/index.js'))) missing.push('the built project dist/ (run `npm run build`)');
  for (const v of GUEST_VECTORS)
    if (!existsSync(join(vectors, v)))
      missing.push(`Wycheproof file ${join(vectors, v)} (set PKACCEL_VECTORS)`);
  return missing;
}

async function main(): Promise<number> {
  const started = performance.now();
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    console.error('test:e2e cannot run; missing:');
    for (const m of missing) console.error(`  - ${m}`);
    console.error(
      'Install with: apt-get update && apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static cpio kmod',
    );
    return 1;
  }
  const foundKernel = findKernel();
  if (foundKernel === undefined) return 1;
  const found = foundKernel;
  // One staging folder per run: two runs at once (CI and a developer) must not share an initramfs tree.
  const staging = join(work, `run-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  const initramfs = buildInitramfs({ repo, work: staging, kernelVersion: found.version, vectors });
  console.log(`== initramfs ${initramfs} for kernel ${found.version}`);

  let allPassed = true;
  const tables: string[] = [];
  // The keyring boot (issue 16) runs unless PKACCEL_E2E_KEYRING=0.
  const keyring = process.env.PKACCEL_E2E_KEYRING !== '0';
  const all = keyring ? (['uio', 'vfio', 'keyring'] as const) : (['uio', 'vfio'] as const);
  // PKACCEL_E2E_MODES=keyring (comma-separated): run only those boots, for working on one of them.
  const only = process.env.PKACCEL_E2E_MODES?.split(',');
  const modes = all.filter((m) => only === undefined || only.includes(m));
  // Each mode boots once; a failed boot fails the stage (no second boot). A retry was here for a
  // while after a vfio boot once got a wrong 1024/SHA-512 PKCS#1 signature at the queue-pair level
  // that the next boots did not reproduce. The cause was deterministic, not a flake: QEMU 7.2
  // (nettle) hands back a signature whose first byte is zero with that byte in front and its last
  // byte lost, 1 signature in 256 (drivers/virtio-crypto/short-output.ts). The boots then compared
  // 9 random-key signatures with node, so about 1 boot in 29 failed and a second boot passed 28
  // times in 29: a retry hides exactly this kind of fault. The case is now tested on purpose
  // (guest/stress.ts, test/drivers/virtio-crypto/short-output.test.ts).
  for (const mode of modes) if (!(await bootOnce(mode))) allPassed = false;

  async function bootOnce(mode: (typeof modes)[number]): Promise<boolean> {
    const verbose = process.env.PKACCEL_E2E_VERBOSE === '1';
    const result = await boot({
      kernel: found.kernel,
      initramfs,
      mode,
      timeoutSeconds: BOOT_TIMEOUT_SECONDS,
      onLine: verbose ? (line) => console.log(`[${mode}] ${line}`) : undefined,
    });
    writeFileSync(join(work, `console-${mode}.log`), result.console);
    const parsed = parseGuestResults(result.console);
    const passed = bootPassed(parsed) && !result.timedOut;
    const title = `boot ${mode}: ${passed ? 'PASSED' : 'FAILED'} in ${result.seconds.toFixed(1)} s${result.timedOut ? ' (timed out)' : ''}`;
    const table = formatTable(title, parsed);
    tables.push(table);
    console.log(table);
    const measured = /E2E-TABLE-BEGIN\r?\n([\s\S]*?)E2E-TABLE-END/.exec(result.console)?.[1];
    if (measured !== undefined) {
      const text = `keyring boot: RSA-2048 PKCS#1 v1.5, one key, every path (TCG-emulated figures)\n${measured.replace(/\r/g, '')}`;
      tables.push(text);
      console.log(text);
    }
    if (!passed) console.log(`-- guest console (${mode}) --\n${result.console}\n-- end of console --`);
    return passed;
  }
  rmSync(staging, { recursive: true, force: true });
  const seconds = (performance.now() - started) / 1000;
  console.log(`== e2e stage ${allPassed ? 'PASSED' : 'FAILED'} in ${seconds.toFixed(1)} s`);
  writeFileSync(join(work, 'results.txt'), `${tables.join('\n\n')}\n\ne2e stage: ${seconds.toFixed(1)} s\n`);
  return allPassed ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('test:e2e crashed:', error);
    process.exitCode = 1;
  },
);
