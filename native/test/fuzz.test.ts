import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireAddon } from './helpers.js';

beforeAll(requireAddon);

describe('fuzzing the whole surface with random arguments', () => {
  it('finishes without a crash, throwing only typed errors', () => {
    const child = fileURLToPath(new URL('./fuzz-child.ts', import.meta.url));
    const result = spawnSync(process.execPath, ['--import', 'tsx', child, '300'], {
      encoding: 'utf8',
      timeout: 120_000, // a hang guard, not a timing assertion
    });
    // a native crash shows up as a signal (SIGSEGV/SIGBUS/SIGABRT) here
    expect(result.signal, result.stderr).toBeNull();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('fuzz-child: 300 runs without a crash');
  });
});
