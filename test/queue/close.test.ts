/**
 * close() (issue 11 §4, queue side): it always settles, the statement after
 * `await accel.close()` always runs and the process then exits by itself (child
 * processes, many cycles each), and `{ drain: false }` / an aborted close signal
 * bound it even with a hung card.
 *
 * Cycle counts: `software` and `auto` 500 each; the simulated cards 100 cycles in
 * inline mode (with the software provider's worker pool) and 5 with their worker
 * threads (a card's bring-up costs 0.5–2 s on a loaded 2-CPU machine).
 * PKACCEL_CLOSE_CYCLES=<n> runs n cycles of every mix (n=500 is the full profile).
 */

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEVICE_CLOSE_BOUND_MS } from '../../core/queue/index.js';
import { type CryptoKeyPair, openAccelerator } from '../../index.js';

const fixture = fileURLToPath(new URL('./fixtures/close-cycles.ts', import.meta.url));
const override = Number(process.env.PKACCEL_CLOSE_CYCLES ?? 0);

function cycles(
  devices: string,
  count: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', fixture, devices, String(override > 0 ? override : count)],
      { timeout: 600_000, env: { ...process.env, PKACCEL_DEVICES: '' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const mixes: [string, number][] = [
  ['software', 500],
  ['auto', 500],
  ['sim:ring?mode=inline,sim:window?mode=inline,software', 100],
  ['sim:ring,sim:window,software', 5],
];

describe('open / sign / close cycles in a child process', () => {
  for (const [devices, count] of mixes) {
    it.concurrent(`${devices}: the line after await accel.close() runs every time, then the process exits 0`, async () => {
      const n = override > 0 ? override : count;
      const result = await cycles(devices, count);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(new RegExp(`^after-close ${n} of ${n} in \\d+ ms\\n$`));
      expect(result.code).toBe(0);
    }, 900_000);
  }
});

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};

/** An accelerator on a card that hangs from its third operation, with jobs stuck on it. */
async function hungCard(queue: { timeoutMs?: number } = {}) {
  const accel = await openAccelerator({ devices: ['sim:ring?faults=hang@3'], queue });
  const kp = (await accel.subtle.generateKey(RSA, false, ['sign'])) as CryptoKeyPair;
  const jobs = Array.from({ length: 6 }, (_, i) =>
    accel.subtle.sign(RSA, kp.privateKey, new Uint8Array([i])).then(
      () => 'ok',
      (e: Error) => e.name,
    ),
  );
  await new Promise((r) => setTimeout(r, 100));
  return { accel, jobs };
}

describe('close with a hung card', () => {
  it('{ drain: false } settles within the bound and rejects what was left', async () => {
    const { accel, jobs } = await hungCard({ timeoutMs: 60_000 });
    const started = performance.now();
    await accel.close({ drain: false });
    expect(performance.now() - started).toBeLessThan(DEVICE_CLOSE_BOUND_MS + 1_000);
    const outcomes = await Promise.all(jobs);
    expect(outcomes).toContain('OperationError');
    for (const o of outcomes) expect(['ok', 'OperationError']).toContain(o);
  });

  it('an aborted close signal ends the drain', async () => {
    const { accel, jobs } = await hungCard({ timeoutMs: 60_000 });
    const started = performance.now();
    await accel.close({ signal: AbortSignal.timeout(200) });
    expect(performance.now() - started).toBeLessThan(200 + DEVICE_CLOSE_BOUND_MS + 1_000);
    const outcomes = await Promise.all(jobs);
    for (const o of outcomes) expect(['ok', 'OperationError']).toContain(o);
  });

  it('the default close (drain) settles too: the hung jobs end by stall detection and deadline', async () => {
    const { accel, jobs } = await hungCard({ timeoutMs: 3_000 });
    const started = performance.now();
    await accel.close();
    expect(performance.now() - started).toBeLessThan(3_000 + DEVICE_CLOSE_BOUND_MS + 1_000);
    expect(await Promise.all(jobs)).toHaveLength(6);
  });
});
