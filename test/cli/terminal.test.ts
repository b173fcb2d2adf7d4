/**
 * Behaviour on a terminal, under a pseudo-terminal made by util-linux `script`:
 * colour only on a TTY and never with NO_COLOR or --no-color; the speed
 * progress bar only on a TTY (the pipe case is in speed.test.ts).
 */

import { execFile, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { argv, BIN, type CliArgs, REPO, requireBuiltBinary } from './run-cli.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

/** Run the CLI with a pty as stdin/stdout/stderr; returns everything the terminal received. */
function onTerminal(args: CliArgs, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const command = [process.execPath, BIN, ...argv(args)].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      'script',
      ['-qec', command, '/dev/null'],
      {
        cwd: REPO,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', ...env },
        timeout: 60_000,
      },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

const ESC = '\u001b[';

beforeAll(requireBuiltBinary);

describe.skipIf(!hasScript)('pkaccel on a terminal (util-linux script)', () => {
  it('colours the self-test table on a terminal', async () => {
    const out = await onTerminal(['selftest', '--devices', 'software']);
    expect(out).toContain(`${ESC}32mpass`);
    expect(out).toMatch(/self-test passed/);
  });

  it('never colours with NO_COLOR or --no-color', async () => {
    expect(await onTerminal(['selftest', '--devices', 'software'], { NO_COLOR: '1' })).not.toContain(
      `${ESC}32m`,
    );
    expect(await onTerminal(['--no-color', 'selftest', '--devices', 'software'])).not.toContain(`${ESC}32m`);
  });

  it('draws a progress bar while speed runs', async () => {
    const out = await onTerminal('speed ed25519 --devices software --seconds 0.2 --concurrency 1');
    expect(out).toMatch(/\[\.{30}\] +0% ed25519: making a key/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing the terminal's escape sequences
    expect(out.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')).toMatch(/^ed25519 +Ed25519 sign/m);
  });
});
