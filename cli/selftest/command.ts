/**
 * `pkaccel selftest`: the known-answer vectors (vectors/kat.json) on every
 * selected device, one device at a time, each vector the device has the
 * capabilities for. The vector logic is selftest.ts's (also used by
 * test/api/kat.test.ts); this command adds device selection, tables and --json.
 */

import { type Accelerator, openAccelerator } from '../../index.js';
import { type KatOutcome, loadKnownAnswers, runKnownAnswers } from '../../selftest.js';
import { type CommandContext, messageOf, printJson } from '../context.js';
import { selectDevices, selectionNote } from '../device-selection.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { renderTable } from '../table.js';

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
}

export interface DeviceSelftest {
  readonly spec: string;
  readonly model?: string;
  readonly opened: boolean;
  readonly error?: string;
  readonly kinds: readonly KindTally[];
  readonly failures: readonly { readonly id: string; readonly detail: string }[];
  readonly passed: boolean;
}

function tally(outcomes: readonly KatOutcome[]): KindTally[] {
  const kinds = [...new Set(outcomes.map((o) => o.kind))];
  return kinds.map((kind) => {
    const of = outcomes.filter((o) => o.kind === kind);
    const count = (status: KatOutcome['status']) => of.filter((o) => o.status === status).length;
    return { kind, pass: count('pass'), fail: count('fail'), skip: count('skip') };
  });
}

async function testDevice(
  ctx: CommandContext,
  spec: string,
  vectors: ReturnType<typeof loadKnownAnswers>,
): Promise<DeviceSelftest> {
  let accel: Accelerator;
  try {
    accel = await openAccelerator({ devices: [spec], registry: ctx.registry, signal: ctx.signal });
  } catch (error) {
    return { spec, opened: false, error: messageOf(error), kinds: [], failures: [], passed: false };
  }
  try {
    const outcomes = await runKnownAnswers(accel, vectors);
    const failures = outcomes
      .filter((o) => o.status === 'fail')
      .map((o) => ({ id: o.id, detail: o.detail ?? 'failed' }));
    return {
      spec,
      model: accel.devices.map((d) => d.model).join(', '),
      opened: true,
      kinds: tally(outcomes),
      failures,
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
  ]);
  const lines = [
    head,
    renderTable(['vectors', 'pass', 'fail', 'skipped', 'result'], rows, [
      'left',
      'right',
      'right',
      'right',
      'left',
    ]),
  ];
  for (const f of result.failures) lines.push(style.red(`  FAIL ${f.id}: ${f.detail}`));
  if (result.kinds.every((k) => k.pass === 0 && k.fail === 0))
    lines.push(style.yellow('  no vector matches any capability of this device'));
  return lines.join('\n');
}

export async function runSelftest(ctx: CommandContext, options: SelftestOptions): Promise<number> {
  const vectors = loadKnownAnswers(options.vectors);
  const selection = await selectDevices(ctx.registry, options.devices, ctx.env, ctx.signal);
  const note = selectionNote(selection);
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
