/**
 * The package is importable by name from the repository root (`import … from
 * 'pkaccel'`, a self-reference through package.json `exports` to the built
 * dist/), with type declarations, and only the entry is exported: internal
 * modules such as the key-handle store cannot be deep-imported.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const built = join(root, 'dist', 'index.js');

beforeAll(() => {
  // `npm test` builds first; a bare `vitest run` builds here if dist/ is missing or older than the entry.
  if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(root, 'index.ts')).mtimeMs)
    execFileSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
}, 180_000);

const script = `
import { openAccelerator, registerDriver, Registry, PkaccelError } from 'pkaccel';
const accel = await openAccelerator({ devices: ['software'] });
const pair = await accel.subtle.generateKey('Ed25519', false, ['sign', 'verify']);
const data = new Uint8Array([1, 2, 3]);
const sig = await accel.subtle.sign('Ed25519', pair.privateKey, data);
const ok = await accel.subtle.verify('Ed25519', pair.publicKey, sig, data);
let deep = 'importable';
try { await import('pkaccel/dist/core/api/key-handle.js'); } catch (e) { deep = e.code; }
console.log(JSON.stringify({
  ok,
  exports: [typeof registerDriver, typeof Registry, typeof PkaccelError],
  devices: accel.devices.map((d) => d.driver),
  deep,
}));
await accel.close();
`;

describe("import from 'pkaccel'", () => {
  it('works from the repository root, and exposes only the entry', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const result = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(result).toEqual({
      ok: true,
      exports: ['function', 'function', 'function'],
      devices: ['software'],
      deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
    expect(existsSync(join(root, 'dist', 'index.d.ts'))).toBe(true);
  });
});
