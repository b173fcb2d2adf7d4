/**
 * Issue 11 §4 and issue 12: `await accel.close()` always settles and the process
 * then ends by itself, on every device mix; and an accelerator that is never
 * closed does not keep an idle process alive (worker threads are referenced only
 * while work or a close is pending). Each case runs in a child process, so a
 * process that ends early (exit code 13) or never ends fails here.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./lifecycle-script.ts', import.meta.url));
/** How long a child may take (a loaded machine starts worker threads slowly). */
const LIMIT_MS = 150_000;

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly killed: boolean;
}

function run(devices: string, mode: 'close' | 'leave-open', cycles: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, devices, mode, String(cycles)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, LIMIT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

const expected = (cycles: number) => Array.from({ length: cycles }, (_, i) => `after ${i}`).join('\n');

const MIXES = ['software', 'sim:ring,sim:window,software', 'sim:ring', 'sim:window', 'auto'];
const CYCLES = 8;

describe('the process after the last call', () => {
  it.each(MIXES)(
    `${CYCLES} cycles of open, sign, close on %s: the line after close() always runs, then the process exits`,
    async (devices) => {
      const outcome = await run(devices, 'close', CYCLES);
      expect(outcome.killed, `did not exit by itself: ${outcome.stdout}${outcome.stderr}`).toBe(false);
      expect(outcome.stdout.trim(), outcome.stderr).toBe(expected(CYCLES));
      expect(outcome.code, outcome.stderr).toBe(0);
    },
    LIMIT_MS + 10_000,
  );

  it.each(MIXES)(
    'a script that signs on %s and never closes exits by itself',
    async (devices) => {
      const outcome = await run(devices, 'leave-open', 1);
      expect(outcome.killed, `still running after ${LIMIT_MS} ms: ${outcome.stdout}${outcome.stderr}`).toBe(
        false,
      );
      expect(outcome.stdout.trim(), outcome.stderr).toBe(expected(1));
      expect(outcome.code, outcome.stderr).toBe(0);
    },
    LIMIT_MS + 10_000,
  );
});
