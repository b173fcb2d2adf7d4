/**
 * Child processes for the consumer tests: a command run to completion with a
 * bound (`runTool`), and a long-running service started until it prints a
 * ready line (`startService`) and stopped with SIGTERM, then SIGKILL. Every
 * failure message carries what the process printed, so a CI log says why.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string | Buffer;
  /** Killed after this long (default 30 s: a loaded machine, never a speed claim). */
  readonly timeoutMs?: number;
}

function describeRun(command: string, args: readonly string[], r: ToolResult): string {
  return `${command} ${args.join(' ')} exited ${r.code}\nstdout:\n${r.stdout.slice(-4000)}\nstderr:\n${r.stderr.slice(-4000)}`;
}

/** Run `command` to its end; resolves with its exit code and output (a non-zero exit is not an error here). */
export function runTool(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        env: options.env ?? process.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${command} ${args.join(' ')} did not finish: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** As runTool, but an exit other than 0 throws with everything the command printed. */
export async function runOk(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ToolResult> {
  const result = await runTool(command, args, options);
  if (result.code !== 0) throw new Error(describeRun(command, args, result));
  return result;
}

export interface Service {
  readonly child: ChildProcess;
  /** Every line printed so far (stderr lines prefixed `stderr: `). */
  readonly log: string[];
  /** The match of the ready pattern (undefined when the probe said ready). */
  readonly ready: RegExpMatchArray | undefined;
  /** SIGTERM, SIGKILL after `graceMs` (default 5 s); resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServiceOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** A line matching this (on stdout or stderr) means the service is ready. */
  readonly ready?: RegExp;
  /** Bound on becoming ready (default 45 s). */
  readonly timeoutMs?: number;
  /** Also ready when this resolves true (polled every 100 ms), e.g. a socket accepting. */
  readonly probe?: () => Promise<boolean>;
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Start a long-running command and wait until it says it is ready (or the probe passes). */
export function startService(
  command: string,
  args: readonly string[],
  options: ServiceOptions,
): Promise<Service> {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const stop = (graceMs = 5000) => stopChild(child, graceMs);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      void stop(1000).then(() =>
        reject(new Error(`${command} ${args.join(' ')}: ${why}\n${log.slice(-60).join('\n')}`)),
      );
    };
    const succeed = (ready: RegExpMatchArray | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ child, log, ready, stop });
    };
    const timer = setTimeout(
      () => fail(`not ready after ${options.timeoutMs ?? 45_000} ms`),
      options.timeoutMs ?? 45_000,
    );
    const probe = options.probe;
    const poll =
      probe === undefined
        ? undefined
        : setInterval(() => {
            void probe().then((ok) => {
              if (ok) succeed(undefined);
            });
          }, 100);
    const lines = (prefix: string) => {
      let partial = '';
      return (chunk: Buffer) => {
        partial += chunk.toString('utf8');
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          log.push(`${prefix}${line}`);
          const m = options.ready === undefined ? null : line.match(options.ready);
          if (m) succeed(m);
        }
      };
    };
    child.stdout!.on('data', lines(''));
    child.stderr!.on('data', lines('stderr: '));
    child.once('error', (error) => fail(`could not start: ${error.message}`));
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before it was ready`));
  });
}
