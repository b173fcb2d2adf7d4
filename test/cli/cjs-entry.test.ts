/**
 * `require('pkaccel')` from CommonJS (the default of `npm init -y`): the
 * package's "require" condition hands over the ES module where Node.js can
 * require() it, and otherwise throws one error saying to use `await import()`.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO, requireBuiltBinary } from './run-cli.js';

const script = `
const pkaccel = require('pkaccel');
console.log(JSON.stringify({ open: typeof pkaccel.openAccelerator, registry: typeof pkaccel.Registry }));
`;

describe("require('pkaccel')", () => {
  it('works where Node.js can require() an ES module', () => {
    requireBuiltBinary();
    const out = execFileSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ open: 'function', registry: 'function' });
  });

  it('otherwise says to use await import(), not ERR_PACKAGE_PATH_NOT_EXPORTED', () => {
    const result = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', script], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).not.toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
    expect(result.stderr).toMatch(/pkaccel is an ES module .*const pkaccel = await import\('pkaccel'\)/);
    expect(result.stderr).toMatch(/ERR_PKACCEL_ESM_ONLY/);
  });
});
