import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireAddon } from './helpers.js';

beforeAll(requireAddon);

const child = fileURLToPath(new URL('./memory-safety-child.ts', import.meta.url));

/** Runs one scenario of memory-safety-child.ts; a native crash shows as the child's signal. */
function run(scenario: string) {
  return spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', child, scenario], {
    encoding: 'utf8',
    timeout: 120_000, // a hang guard, not a timing assertion
  });
}

function expectOk(scenario: string): void {
  const result = run(scenario);
  expect(result.signal, result.stderr).toBeNull();
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toContain(`ok ${scenario}`);
}

describe('DMA memory is never reused while a view of it can be reached', () => {
  it.each([
    [
      'a buffer object collected while its bytes view lives keeps its range leased',
      'dma-view-outlives-buffer',
    ],
    ['free() detaches the views taken earlier', 'dma-free-detaches-views'],
    ['the DMA memfd is sealed against shrinking', 'dma-memfd-is-sealed'],
  ])('%s', (_what, scenario) => expectOk(scenario));
});

describe('a mapped file that shrinks does not kill the process (SIGBUS)', () => {
  it.each([
    ['register and block accesses throw ERR_PCIE_MMIO_GONE', 'shrunk-file-register-access'],
    ['an ArrayBuffer view reads zeros past the new end', 'shrunk-file-arraybuffer-view'],
  ])('%s', (_what, scenario) => expectOk(scenario));
  it('a SIGBUS from elsewhere keeps its default action', () => {
    const result = run('foreign-sigbus-still-kills');
    expect(result.signal, result.stdout + result.stderr).toBe('SIGBUS');
    expect(result.stdout).not.toContain('ok foreign');
  });
});
