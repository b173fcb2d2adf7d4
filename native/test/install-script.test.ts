/**
 * The install script (scripts/build.mjs) on a machine without build tools, in a copy
 * of the package: the install succeeds, records the missing tools, and addonStatus()
 * and the system module say so — without touching this package's own build/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(packageRoot, '..');

describe('install without python3, make and g++', () => {
  const { dir, cleanup } = tempDir('pcie-mmio-install-');
  const copy = join(dir, 'pcie-mmio');
  const bin = join(dir, 'bin');

  beforeAll(() => {
    mkdirSync(copy);
    for (const part of ['package.json', 'binding.gyp', 'src', 'scripts', 'lib'])
      cpSync(join(packageRoot, part), join(copy, part), { recursive: true });
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node')); // node only: no compiler, no python, no make
  });
  afterAll(cleanup);

  function install(extraEnv: Record<string, string> = {}) {
    const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: bin, ...extraEnv };
    return spawnSync(process.execPath, ['scripts/build.mjs'], {
      cwd: copy,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  it('fails the install only when PCIE_MMIO_REQUIRE_ADDON=1', () => {
    const strict = install({ PCIE_MMIO_REQUIRE_ADDON: '1' });
    expect(strict.status, strict.stderr).toBe(1);
  });

  it('succeeds, warns and records the missing tools', () => {
    const result = install();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /WARNING: the native addon was not built: missing build tools: python3, make, g\+\+/,
    );
    const record = JSON.parse(readFileSync(join(copy, 'build', 'BUILD_FAILED.json'), 'utf8')) as {
      missing: string[];
      reason: string;
    };
    expect(record.missing).toEqual(['python3', 'make', 'g++']);
    expect(existsSync(join(copy, 'dist'))).toBe(false); // the install never compiles TypeScript
  });

  it('addonStatus() and the system module report it without throwing; the addon call names the tools', () => {
    const probe = `
      const { addonStatus, addon } = await import(${JSON.stringify(join(copy, 'lib', 'addon.ts'))});
      const { systemModuleStatus } = await import(${JSON.stringify(join(copy, 'lib', 'system.ts'))});
      const s = addonStatus();
      let thrown = '';
      try { addon(); } catch (e) { thrown = e.message; }
      console.log(JSON.stringify({ loaded: s.loaded, built: s.built, reason: s.reason, missingTools: s.missingTools, thrown, system: systemModuleStatus() }));
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as {
      loaded: boolean;
      built: boolean;
      reason: string;
      missingTools: string[];
      thrown: string;
      system: { loaded: boolean; reason?: string };
    };
    expect(status).toMatchObject({ loaded: false, built: false, missingTools: ['python3', 'make', 'g++'] });
    expect(status.reason).toMatch(/python3, make, g\+\+ not found on PATH/);
    expect(status.reason).toMatch(/npm rebuild/);
    expect(status.thrown).toContain(status.reason);
    expect(status.system.loaded).toBe(false);
    expect(status.system.reason).toMatch(/not built/);
  });
});
