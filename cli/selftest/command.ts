/**
 * `pkaccel selftest`: the known-answer vectors (vectors/kat.json, shipped with
 * the package) on every selected device, one device at a time, each vector the
 * device has the capabilities for. The vector logic is ./known-answers.ts
 * (also used by test/api/kat.test.ts); this command adds device selection,
 * tables and --json.
 */

import { type CommandContext, messageOf, printJson } from '../context.js';
import { openSelected, selectDevices, selectionNote } from '../device-selection.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../exit-codes.js';
import { renderTable } from '../table.js';
import { type KatOutcome, type KatVector, loadKnownAnswers, runKnownAnswers } from './known-answers.js';

export interface SelftestOptions {
  readonly devices?: string[];
  readonly json?: boolean;
  /** Another vector file (default: the package's vectors/kat.json). */
  readonly vectors?: string;
}

interface KindTally {
  readonly kind: KatOutcome['kind'];
  readonly pass: number;
  readonly fail: number;
  readonly skip: number;
  /** Why vectors of this kind were skipped (distinct reasons). */
  readonly skipReasons?: readonly string[];
}

export interface DeviceSelftest {
  readonly spec: string;
  readonly model?: string;
  readonly opened: boolean;
  readonly error?: string;
  readonly kinds: readonly KindTally[];
  readonly failures: readonly { readonly id: string; readonly detail: string }[];
  /** The vectors not run, each with why (the capability the device lacks). */
  readonly skipped: readonly { readonly id: string; readonly reason: string }[];
  readonly passed: boolean;
}

function tally(outcomes: readonly KatOutcome[]): KindTally[] {
  const kinds = [...new Set(outcomes.map((o) => o.kind))];
  return kinds.map((kind) => {
    const of = outcomes.filter((o) => o.kind === kind);
    const count = (status: KatOutcome['status']) => of.filter((o) => o.status === status).length;
    const reasons = [
      ...new Set(of.filter((o) => o.status === 'skip').map((o) => o.detail ?? 'not supported')),
    ];
    return {
      kind,
      pass: count('pass'),
      fail: count('fail'),
      skip: count('skip'),
      ...(reasons.length > 0 ? { skipReasons: reasons } : {}),
    };
  });
}

async function testDevice(
  ctx: CommandContext,
  spec: string,
  vectors: readonly KatVector[],
): Promise<DeviceSelftest> {
  const { accel, error } = await openSelected(ctx, spec);
  if (accel === undefined)
    return {
      spec,
      opened: false,
      error: messageOf(error),
      kinds: [],
      failures: [],
      skipped: [],
      passed: false,
    };
  try {
    const outcomes = await runKnownAnswers(accel, vectors);
    const failures = outcomes
      .filter((o) => o.status === 'fail')
      .map((o) => ({ id: o.id, detail: o.detail ?? 'failed' }));
    const skipped = outcomes
      .filter((o) => o.status === 'skip')
      .map((o) => ({ id: o.id, reason: o.detail ?? 'not supported' }));
    return {
      spec,
      model: accel.devices.map((d) => d.model).join(', '),
      opened: true,
      kinds: tally(outcomes),
      failures,
      skipped,
      passed: failures.length === 0,
    };
  } finally {
    await accel.close();
  }
}

function report(ctx: CommandContext, result: DeviceSelftest): string {
  const { style } = ctx.io;
  const head = `${style.bold(result.spec)}${result.model ? ` (${result.model})` : ''}`;
  if (!result.opened) return `${head}\n  ${style.red('could not be opened')}: ${result.error}`;
  const rows = result.kinds.map((k) => [
    k.kind,
    String(k.pass),
    k.fail > 0 ? style.red(String(k.fail)) : '0',
    String(k.skip),
    k.fail > 0 ? style.red('FAIL') : k.pass > 0 ? style.green('pass') : style.dim('not supported'),
    k.skipReasons === undefined ? '' : style.dim(k.skipReasons.join('; ')),
  ]);
  const lines = [
    head,
    renderTable(['vectors', 'pass', 'fail', 'skipped', 'result', 'why skipped'], rows, [
      'left',
      'right',
      'right',
      'right',
      'left',
      'left',
    ]),
  ];
  for (const f of result.failures) lines.push(style.red(`  FAIL ${f.id}: ${f.detail}`));
  if (result.kinds.every((k) => k.pass === 0 && k.fail === 0))
    lines.push(style.yellow('  no vector matches any capability of this device'));
  return lines.join('\n');
}

/** The vectors of `--vectors <file>` (an unreadable or malformed file is a usage error naming it), or the shipped ones. */
function readVectors(file: string | undefined): KatVector[] {
  if (file === undefined) return loadKnownAnswers();
  try {
    const vectors = loadKnownAnswers(file);
    for (const [i, v] of vectors.entries()) {
      if (typeof v !== 'object' || v === null || typeof v.id !== 'string' || typeof v.kind !== 'string')
        throw new Error(`vector ${i + 1} has no "id" and "kind"`);
    }
    return vectors;
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : error instanceof Error
          ? error.message
          : String(error);
    throw new UsageError(`--vectors ${file}: ${reason}`);
  }
}

export async function runSelftest(ctx: CommandContext, options: SelftestOptions): Promise<number> {
  const vectors = readVectors(options.vectors);
  const selection = await selectDevices(ctx, options.devices);
  const note = selectionNote(ctx, selection);
  if (note !== undefined && options.json !== true) ctx.io.err(`note: ${note}\n`);
  const results: DeviceSelftest[] = [];
  for (const spec of selection.specs) {
    if (ctx.signal.aborted) break;
    const result = await testDevice(ctx, spec, vectors);
    results.push(result);
    if (options.json !== true) ctx.io.out(`${report(ctx, result)}\n\n`);
  }
  const passed = results.length === selection.specs.length && results.every((r) => r.passed);
  if (options.json === true) {
    printJson(ctx, {
      vectors: vectors.length,
      selection,
      ...(note ? { note } : {}),
      devices: results,
      passed,
    });
  } else {
    const failedCount = results.filter((r) => !r.passed).length;
    ctx.io.out(
      passed
        ? `${ctx.io.style.green('self-test passed')} on ${results.length} device(s)\n`
        : `${ctx.io.style.red('self-test FAILED')} on ${failedCount} of ${selection.specs.length} device(s)\n`,
    );
  }
  return passed ? EXIT_OK : EXIT_FAILURE;
}
