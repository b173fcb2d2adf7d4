/**
 * Builds the guest's initramfs (newc cpio): busybox-static as /init's shell, the
 * host's node binary with every library ldd lists (the loader included), the
 * guest kernel's uio and vfio modules in dependency order, the built project
 * (dist/, run-time node_modules, native/ with its addon) and the Wycheproof files
 * the guest reads. The guest script is compiled from TypeScript here.
 */

import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/** Modules the guest loads, in this order; their own dependencies are added before them. */
export const GUEST_MODULES = [
  'uio',
  'uio_pci_generic',
  'irqbypass',
  'vfio',
  'vfio_virqfd',
  'vfio_iommu_type1',
  'vfio-pci-core',
  'vfio-pci',
  // The keyring boot (issue 16): the kernel's PKCS#8 private-key parser, harmless in the other boots.
  'pkcs8_key_parser',
] as const;

/**
 * The kernel's own virtio-crypto driver and its dependencies: copied into the
 * initramfs and listed in /modules.virtio, never loaded by /init. Only the
 * keyring boot loads them, after its user-space rows, to hand the device to the
 * kernel (the other boots need the device unbound).
 */
export const VIRTIO_MODULES = ['virtio_pci', 'virtio_crypto'] as const;

/**
 * Module parameters in the guest. The emulated Intel IOMMU runs with intremap=off
 * (interrupt remapping needs a split irqchip, which TCG lacks), and
 * vfio_iommu_type1 refuses such an IOMMU with EPERM unless told to allow it; in
 * this throwaway guest that is what we want.
 */
const MODULE_PARAMETERS: Readonly<Record<string, string>> = { vfio_iommu_type1: 'allow_unsafe_interrupts=1' };

/** The Wycheproof files the guest runs. */
export const GUEST_VECTORS = [
  'rsa_pkcs1_2048_sig_gen_test.json',
  'rsa_signature_2048_sha256_test.json',
  // The keyring boot: PSS verify and OAEP decrypt composed over the kernel's raw RSA.
  'rsa_pss_2048_sha256_mgf1_32_test.json',
  'rsa_oaep_2048_sha256_mgf1sha256_test.json',
  // The keyring boot: ECDSA P-256 verify by the kernel on X.509 keys.
  'ecdsa_secp256r1_sha256_p1363_test.json',
] as const;

export interface InitramfsInputs {
  readonly repo: string;
  readonly work: string;
  readonly kernelVersion: string;
  readonly vectors: string;
}

/** Copy a host file to the same path under `root`, following symlinks (the content is what matters). */
function copyHostFile(root: string, hostPath: string, guestPath = hostPath): void {
  const target = join(root, guestPath);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(realpathSync(hostPath), target);
}

/** Every shared object `ldd` names for `binary`, the dynamic loader included. */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const arrow = line.match(/=>\s*(\/\S+)/);
    const bare = line.match(/^\s*(\/\S+)/);
    const path = arrow?.[1] ?? bare?.[1];
    if (path !== undefined) libs.push(path);
  }
  if (!libs.some((l) => l.includes('ld-linux'))) throw new Error(`ldd ${binary}: no dynamic loader found`);
  return libs;
}

/** Module files for `names` (GUEST_MODULES) with their dependencies first, each once; `skip`: already listed. */
export function moduleFiles(
  kernelVersion: string,
  names: readonly string[] = GUEST_MODULES,
  skip: readonly string[] = [],
): string[] {
  const ordered: string[] = [];
  const seen = new Set<string>(skip);
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const info = (field: string) =>
      execFileSync('modinfo', ['-k', kernelVersion, '-F', field, name], { encoding: 'utf8' }).trim();
    for (const dep of info('depends').split(',').filter(Boolean)) visit(dep);
    ordered.push(info('filename'));
  };
  for (const m of names) visit(m);
  return ordered;
}

/** Compile the guest script (test/e2e/guest/*.ts) to where tsc would put it under dist/. */
function compileGuest(repo: string, root: string): void {
  const source = join(repo, 'test/e2e/guest');
  const outDir = join(root, 'pkaccel/dist/test/e2e/guest');
  mkdirSync(outDir, { recursive: true });
  for (const name of readdirSync(source)) {
    if (!name.endsWith('.ts')) continue;
    const { outputText, diagnostics } = ts.transpileModule(readFileSync(join(source, name), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      reportDiagnostics: true,
      fileName: name,
    });
    if (diagnostics !== undefined && diagnostics.length > 0)
      throw new Error(`cannot compile guest script ${name}: ${diagnostics.length} diagnostics`);
    writeFileSync(join(outDir, name.replace(/\.ts$/, '.js')), outputText);
  }
}

/** Copy a directory, skipping build intermediates and nested node_modules. */
function copyTree(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true,
    dereference: true,
    filter: (src) => {
      const rel = relative(from, src);
      return !/(^|\/)(node_modules|obj\.target|\.deps|\.git)(\/|$)/.test(rel) && !/\.(o|cc|h|d)$/.test(rel);
    },
  });
}

/** The project's run-time packages (npm's production tree), copied to /pkaccel/node_modules. */
function copyRuntimePackages(repo: string, root: string): void {
  const listing = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: repo,
    encoding: 'utf8',
  });
  for (const path of listing.split('\n').map((l) => l.trim())) {
    if (path === '' || path === repo) continue;
    const rel = relative(repo, path);
    if (!rel.startsWith('node_modules/')) continue;
    const target = join(root, 'pkaccel', rel);
    if (existsSync(target)) continue;
    const linked = lstatSync(path).isSymbolicLink();
    const real = realpathSync(path);
    const inRepo = !relative(repo, real).startsWith('..');
    if (linked && inRepo) {
      // A workspace/file: package (pcie-mmio → ../native): keep it a link to the copy of its folder.
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(relative(dirname(join(repo, rel)), real), target);
    } else {
      copyTree(real, target);
    }
  }
}

/** Build the initramfs; returns its path. */
export function buildInitramfs(inputs: InitramfsInputs): string {
  const { repo, work, kernelVersion, vectors } = inputs;
  const root = join(work, 'root');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'vectors', 'pkaccel'])
    mkdirSync(join(root, d), { recursive: true });

  copyHostFile(root, '/bin/busybox', '/bin/busybox');
  const node = realpathSync(execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim());
  copyHostFile(root, node, '/usr/bin/node');
  for (const lib of sharedLibraries(node)) copyHostFile(root, lib);

  const modules = moduleFiles(kernelVersion);
  for (const ko of modules) copyHostFile(root, ko);
  const lines = modules.map((ko) => {
    const name = ko.slice(ko.lastIndexOf('/') + 1).replace(/\.ko(\.[a-z]+)?$/, '');
    const params = MODULE_PARAMETERS[name];
    return params === undefined ? ko : `${ko} ${params}`;
  });
  writeFileSync(join(root, 'modules.order'), `${lines.join('\n')}\n`);
  const loaded = modules.map((ko) => ko.slice(ko.lastIndexOf('/') + 1).replace(/\.ko(\.[a-z]+)?$/, ''));
  const virtio = moduleFiles(kernelVersion, VIRTIO_MODULES, [...GUEST_MODULES, ...loaded]);
  for (const ko of virtio) copyHostFile(root, ko);
  writeFileSync(join(root, 'modules.virtio'), `${virtio.join('\n')}\n`);

  copyFileSync(join(repo, 'test/e2e/guest/init.sh'), join(root, 'init'));
  execFileSync('chmod', ['755', join(root, 'init')]);

  const app = join(root, 'pkaccel');
  copyFileSync(join(repo, 'package.json'), join(app, 'package.json'));
  copyTree(join(repo, 'dist'), join(app, 'dist'));
  if (existsSync(join(repo, 'native'))) copyTree(join(repo, 'native'), join(app, 'native'));
  copyRuntimePackages(repo, root);
  compileGuest(repo, root);
  for (const name of GUEST_VECTORS) copyFileSync(join(vectors, name), join(root, 'vectors', name));

  const image = join(work, 'initramfs.cpio');
  execFileSync('sh', ['-c', `cd "${root}" && find . | cpio -o -H newc --quiet > "${image}"`]);
  return image;
}
