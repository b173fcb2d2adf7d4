/**
 * Packs the project as `npm pack` does for a release, without touching the working
 * tree: the tracked and untracked-but-not-ignored files are copied to a temporary
 * directory, whose node_modules links to the repository's (pcie-mmio to the copy's
 * own native/), and `npm pack` runs there (prepack cleans dist/, prepare builds it).
 * Packing in place would delete dist/ under whoever else is using it.
 *
 * Run alone: `node --import tsx test/package/pack.ts [destination]` prints the tarball's path.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * What gets packed: `worktree` (default) copies what git would put in a fresh clone
 * plus uncommitted work; any other value of env PKACCEL_PACK_FROM is a git revision
 * (`HEAD`, a commit) whose tree is packed, for a stable run while the working tree is
 * mid-change. In a clean clone `worktree` and `HEAD` are the same.
 */
export type PackSource = 'worktree' | { readonly revision: string };

export function packSource(): PackSource {
  const from = process.env.PKACCEL_PACK_FROM;
  return from === undefined || from === '' || from === 'worktree' ? 'worktree' : { revision: from };
}

/** Copies the project's files (see PackSource) into `target`. */
export function copyTree(target: string, source: PackSource = packSource()): void {
  if (source !== 'worktree') {
    const archive = execFileSync('git', ['archive', '--format=tar', source.revision], {
      cwd: repoRoot,
      maxBuffer: 512 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', target], { input: archive });
    return;
  }
  const listing = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const file of listing.split('\0')) {
    if (file === '') continue;
    const from = join(repoRoot, file);
    if (!existsSync(from) || !lstatSync(from).isFile()) continue; // deleted in the working tree
    const to = join(target, file);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
}

/** node_modules of the copy: links to the repository's packages, pcie-mmio to the copy's native/. */
export function linkModules(target: string): void {
  const modules = join(target, 'node_modules');
  mkdirSync(modules, { recursive: true });
  for (const name of readdirSync(join(repoRoot, 'node_modules'))) {
    if (name === 'pcie-mmio' || name === '.package-lock.json') continue;
    symlinkSync(join(repoRoot, 'node_modules', name), join(modules, name));
  }
  symlinkSync('../native', join(modules, 'pcie-mmio'));
}

export interface Packed {
  readonly tarball: string;
  readonly files: readonly string[];
  readonly log: string;
}

/**
 * Packs the project into `destination` (a new temp directory by default). `prepared`:
 * a directory already holding the files to pack (skips the copy).
 */
export function packProject(
  destination = mkdtempSync(join(tmpdir(), 'pkaccel-pack-')),
  prepared?: string,
): Packed {
  const work = prepared ?? join(destination, 'source');
  if (prepared === undefined) {
    mkdirSync(work, { recursive: true });
    copyTree(work);
  }
  if (!existsSync(join(work, 'node_modules'))) linkModules(work);
  const result = spawnSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: work,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' },
  });
  const log = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0) throw new Error(`npm pack failed (${result.status}):\n${log}`);
  // npm pack --json prints the build's output before the JSON array
  const json = result.stdout.slice(result.stdout.lastIndexOf('\n[') + 1);
  const report = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
  const entry = report[0];
  if (entry === undefined) throw new Error(`npm pack printed no report:\n${log}`);
  return {
    tarball: join(destination, entry.filename),
    files: entry.files.map((f) => f.path),
    log,
  };
}

/** The package version of the working tree (names the tarball). */
export function projectVersion(): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const packed = packProject(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(packed.tarball);
}
