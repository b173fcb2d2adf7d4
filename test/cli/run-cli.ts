/** Runs the built `pkaccel` binary (dist/cli/main.js) as a user would, and captures what it printed. */

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO, 'dist', 'cli', 'main.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The binary must have been built (`npm test` builds first; alone: `npm run build`). */
export function requireBuiltBinary(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} does not exist: run \`npm run build\` before these tests`);
}

/** Arguments as a list, or as one line split at white space (`'speed ed25519 --seconds 0.1'`). */
export type CliArgs = string | readonly string[];

export function argv(args: CliArgs): readonly string[] {
  return typeof args === 'string' ? args.trim().split(/\s+/) : args;
}

export function runCli(cliArgs: CliArgs, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const args = argv(cliArgs);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: REPO,
        // No PKACCEL_* from the developer's shell: each test says what it wants.
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`pkaccel ${args.join(' ')} did not exit normally: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

/** Parse stdout as JSON, with the output in the message when it is not. */
export function json<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** Assert the exit code, showing what the command printed when it differs. */
export function expectExit(result: CliResult, code: number): void {
  if (result.code !== code)
    throw new Error(
      `expected exit ${code}, got ${result.code}\nstdout:\n${result.stdout.slice(0, 4000)}\nstderr:\n${result.stderr.slice(0, 4000)}`,
    );
}
