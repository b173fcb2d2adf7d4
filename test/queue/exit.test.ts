import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/exit-after-close.ts', import.meta.url));

describe('after close()', () => {
  it('the process exits on its own: no timer, immediate, listener or wait of the queue stays alive', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fixture], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.error).toBeUndefined();
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    // 20 aborted, the rest run on the fast device after the hung one was abandoned.
    expect(child.stdout.trim()).toBe('settled 200, fulfilled 180');
  });
});
