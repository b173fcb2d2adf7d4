/**
 * The `pkaccel` command line: commander wiring, option parsing and exit codes.
 * Each command's work lives in cli/commands/; this file only turns argv into
 * calls and errors into exit codes (0 ok, 1 failure, 2 usage).
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { defaultRegistry, type Registry } from '../index.js';
import { runBind, runUnbind } from './commands/bind.js';
import { runDevices } from './commands/devices.js';
import { runServe } from './commands/serve.js';
import { runSpeedCommand } from './commands/speed.js';
import { runStats } from './commands/stats.js';
import type { CommandContext } from './context.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes.js';
import { registryHelp } from './help.js';
import { type Io, processIo } from './io.js';
import { runSelftest } from './selftest/command.js';
import { algorithmNamed, DEFAULT_SPEED_ALGORITHMS, SPEED_ALGORITHMS } from './speed/algorithms.js';

function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'pkaccel') return pkg.version ?? '0.0.0';
  }
  return '0.0.0';
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`not a positive number: "${value}"`);
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`not a positive integer: "${value}"`);
  return n;
}

/**
 * `--concurrency 1 16` or `--concurrency 1,16` (repeatable). The option is
 * variadic, so it also collects the words after it (`--concurrency 1 16
 * rsa2048`): they are kept as text here and sorted out by splitConcurrency.
 */
function concurrencyWords(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').filter((v) => v.trim() !== '')];
}

/** Numbers are concurrencies; algorithm names that a variadic --concurrency swallowed go back to the algorithms. */
export function splitConcurrency(
  words: readonly string[] | undefined,
  algorithms: readonly string[],
): { concurrency: number[] | undefined; algorithms: string[] } {
  if (words === undefined) return { concurrency: undefined, algorithms: [...algorithms] };
  const concurrency: number[] = [];
  const swallowed: string[] = [];
  for (const word of words.map((w) => w.trim())) {
    if (/^\d+$/.test(word)) {
      const n = Number(word);
      if (!Number.isSafeInteger(n) || n <= 0)
        throw new UsageError(
          `option '-c, --concurrency <n...>' argument '${word}' is invalid: not a positive integer`,
        );
      concurrency.push(n);
    } else if (algorithmNamed(word) !== undefined) swallowed.push(word);
    else
      throw new UsageError(
        `option '-c, --concurrency <n...>' argument '${word}' is invalid: not a positive integer`,
      );
  }
  if (concurrency.length === 0)
    throw new UsageError("option '-c, --concurrency <n...>' needs at least one number");
  return { concurrency, algorithms: [...swallowed, ...algorithms] };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const devicesOption = () =>
  new Option(
    '-d, --devices <specs>',
    'device specs, comma-separated or repeated (default: $PKACCEL_DEVICES, else auto)',
  ).argParser(collect);
const jsonOption = () => new Option('--json', 'print the result as JSON on stdout');
const sysfsOption = () =>
  new Option('--sysfs-root <dir>', 'where sysfs is mounted (tests use a fake tree)').env(
    'PKACCEL_SYSFS_ROOT',
  );

export interface RunOptions {
  readonly registry?: Registry;
  readonly io?: Io;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
}

/** Run the command line `argv` (as process.argv: node, script, args…) and return the exit code. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  let code = EXIT_OK;
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const context = (command: Command): CommandContext => {
    const globals = command.optsWithGlobals<{ color?: boolean }>();
    return {
      registry,
      env: options.env ?? process.env,
      io: options.io ?? processIo(globals.color !== false),
      signal,
    };
  };
  const io = () => options.io ?? processIo(false);
  // What is registered, for the help text (read only when help may be shown: it loads the model list).
  const registry = options.registry ?? defaultRegistry;
  const args = argv.slice(2);
  const helpWanted = args.length === 0 || args.some((a) => a === 'help' || a === '--help' || a === '-h');
  let devicesHelp = '';
  if (helpWanted) {
    try {
      devicesHelp = registryHelp(await registry.list(signal));
    } catch (error) {
      devicesHelp = `\n(the registered drivers could not be listed: ${error instanceof Error ? error.message : String(error)})`;
    }
  }
  const program = new Command('pkaccel')
    .description('asymmetric-crypto offload: list, bind, self-test and measure pkaccel devices')
    .version(packageVersion())
    .option('--no-color', 'no colour even on a terminal (NO_COLOR=1 does the same)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io().out(text), writeErr: (text) => io().err(text) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      () =>
        `${devicesHelp}\n` +
        'Exit codes: 0 ok, 1 failure (a test failed, a device could not be opened, a bind was refused), 2 usage.',
    );

  program
    .command('devices')
    .description('list the PCI functions pkaccel drivers claim and the configured devices, with capabilities')
    .addOption(devicesOption())
    .addOption(sysfsOption())
    .option('--all', 'list every PCI function, not only those a pkaccel driver claims')
    .addOption(jsonOption())
    .action(async (opts, command: Command) => {
      code = await runDevices(context(command), opts);
    });

  /** bind and unbind: a PCI address, --force, --dry-run, the sysfs root and --json. */
  const bindingCommand = (name: string, description: string, dryRun: string, options: Option[] = []) => {
    const command = program.command(name).description(description);
    command.argument('<bdf>', 'PCI address, e.g. 0000:03:00.0');
    for (const option of options) command.addOption(option);
    return command
      .option('--force', `${name} even if no registered pkaccel driver matches the IDs`)
      .option('-n, --dry-run', dryRun)
      .addOption(sysfsOption())
      .addOption(jsonOption());
  };

  bindingCommand(
    'bind',
    'hand a PCI function to vfio-pci or uio_pci_generic so pkaccel can drive it from user space',
    'show what would be written and what the machine needs, change nothing',
    [new Option('--to <driver>', 'user-space driver').choices(['vfio', 'uio']).default('vfio')],
  ).action(async (bdf: string, opts, command: Command) => {
    code = await runBind(context(command), bdf, opts);
  });

  bindingCommand(
    'unbind',
    'release a PCI function from its driver (and clear driver_override)',
    'show what would be written, change nothing',
  ).action(async (bdf: string, opts, command: Command) => {
    code = await runUnbind(context(command), bdf, opts);
  });

  program
    .command('selftest')
    .description('run the known-answer vectors on every selected device; non-zero exit on any failure')
    .addOption(devicesOption())
    .option('--vectors <file>', 'a known-answer vector file (default: vectors/kat.json in the package)')
    .addOption(jsonOption())
    .action(async (opts, command: Command) => {
      code = await runSelftest(context(command), opts);
    });

  program
    .command('speed')
    .description('ops/s and latency per device, beside the software provider and node crypto.subtle')
    .argument(
      '[algorithms...]',
      `any of: ${SPEED_ALGORITHMS.map((a) => a.name).join(' ')} (default: ${DEFAULT_SPEED_ALGORITHMS.join(' ')})`,
    )
    .addOption(devicesOption())
    .addOption(
      new Option('-s, --seconds <n>', 'seconds per measurement').argParser(positiveNumber).default(1),
    )
    .addOption(
      new Option(
        '-r, --rounds <n>',
        'split each measurement into rounds, providers interleaved; ratios vary by round',
      )
        .argParser(positiveInteger)
        .default(3),
    )
    .addOption(
      new Option(
        '-c, --concurrency <n...>',
        'operations in flight, one measurement each (e.g. 1 16, or 1,16)',
      ).argParser(concurrencyWords),
    )
    .addOption(jsonOption())
    .option('--html <file>', 'also write a self-contained HTML report with charts')
    .action(async (names: string[], opts, command: Command) => {
      const { concurrency, algorithms } = splitConcurrency(opts.concurrency, names);
      code = await runSpeedCommand(context(command), algorithms, {
        ...opts,
        concurrency: concurrency ?? [1, 16],
      });
    });

  program
    .command('stats')
    .description(
      "run a workload and show the job queue's live stats (stats$) per device; without --workload, a running broker's counters per device and per client (--devices broker[:SOCKET])",
    )
    .option(
      '-w, --workload <algorithm>',
      `one of: ${SPEED_ALGORITHMS.map((a) => a.name).join(' ')} (without one: read broker: devices' counters)`,
    )
    .addOption(devicesOption())
    .addOption(new Option('-s, --seconds <n>', 'how long to run').argParser(positiveNumber).default(5))
    .addOption(
      new Option('-c, --concurrency <n>', 'operations in flight').argParser(positiveInteger).default(32),
    )
    .addOption(
      new Option('--interval <ms>', 'milliseconds between stats snapshots')
        .argParser(positiveInteger)
        .default(1000),
    )
    .addOption(jsonOption())
    .action(async (opts, command: Command) => {
      code = await runStats(context(command), { ...opts, intervalMs: opts.interval });
    });

  program
    .command('serve')
    .description('share the devices with other processes: the broker on a Unix socket (broker: devices)')
    .addOption(devicesOption())
    .option(
      '--socket <path>',
      'socket path (default: $PKACCEL_SOCKET, /run/pkaccel/pkaccel.sock as root, $XDG_RUNTIME_DIR/pkaccel.sock)',
    )
    .option('--group <name>', 'group given the socket and its directory')
    .option(
      '--key <name=path>',
      'named key: name=/path/key.pk8[:uids=..][:gids=..] (repeatable)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option(
      '--pkcs11 [socket]',
      'also serve the named keys as a PKCS#11 token over p11-kit RPC (default $XDG_RUNTIME_DIR/p11-kit/pkcs11, /run/pkaccel/pkcs11 as root)',
    )
    .option('--pkcs11-pin-file <file>', 'the PKCS#11 user PIN: first line of this file (C_Login required)')
    .option('--pkcs11-allow-raw-rsa', 'offer CKM_RSA_X_509 (raw RSA with the private key)')
    .addOption(
      new Option('--drain-ms <ms>', 'bound on draining at SIGTERM/SIGINT')
        .argParser(positiveInteger)
        .default(5000),
    )
    .action(async (opts, command: Command) => {
      code = await runServe(context(command), opts);
    });

  const onInterrupt = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onInterrupt);
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    const err = io().err;
    if (error instanceof CommanderError) {
      // `--help`, `help` and `help <command>` asked for help (exit code 0); no command at all did not.
      if (
        (error.code === 'commander.helpDisplayed' ||
          error.code === 'commander.help' ||
          error.code === 'commander.version') &&
        error.exitCode === 0
      )
        return EXIT_OK;
      return EXIT_USAGE; // commander has already printed what was wrong
    }
    if (error instanceof UsageError) {
      err(`error: ${error.message}\n`);
      return EXIT_USAGE;
    }
    err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}
