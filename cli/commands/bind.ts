/**
 * `pkaccel bind <bdf> --to vfio|uio` and `pkaccel unbind <bdf>`: plan (read-only),
 * print the plan, and unless --dry-run or refused, do the sysfs writes through
 * pcie-mmio's helpers. Tests point --sysfs-root at a tree they build; only a
 * person running the command without it touches the real /sys.
 */

import { bindDevice, currentDriver, unbindDevice } from 'pcie-mmio';
import { type BindPlan, type BindTarget, planBind, planUnbind } from '../bind-plan.js';
import { type CommandContext, messageOf, printJson, sysfsRootOf } from '../context.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';

export interface BindOptions {
  readonly to?: BindTarget;
  readonly force?: boolean;
  readonly dryRun?: boolean;
  readonly sysfsRoot?: string;
  readonly json?: boolean;
}

interface Outcome {
  readonly executed: boolean;
  /** The kernel driver bound after the writes. */
  readonly driverAfter?: string;
  readonly error?: string;
}

function printPlan(ctx: CommandContext, plan: BindPlan, dryRun: boolean): void {
  const { style } = ctx.io;
  const d = plan.device;
  const lines = [
    `${style.bold(plan.address)}  ${d.ids}  class ${d.classCode}  kernel driver ${d.kernelDriver ?? 'none'}  ` +
      `pkaccel driver ${d.pkaccelDriver ?? 'none'}  iommu group ${d.iommuGroup ?? 'none'}`,
  ];
  for (const r of plan.refusals) lines.push(style.red(`refused: ${r}`));
  if (plan.nothingToDo)
    lines.push(
      plan.action === 'bind'
        ? `already bound to ${plan.targetDriver}: nothing to do`
        : 'not bound: nothing to do',
    );
  if (plan.steps.length > 0) {
    lines.push(dryRun ? 'would run:' : 'running:');
    for (const s of plan.steps) lines.push(`  ${s}`);
  }
  // A refused plan says why, and nothing a reader could paste to do it anyway.
  if (plan.requirements.length > 0 && plan.refusals.length === 0) {
    lines.push('needs:');
    for (const r of plan.requirements) lines.push(`  - ${r}`);
  }
  ctx.io.out(`${lines.join('\n')}\n`);
}

function execute(plan: BindPlan): Outcome {
  const options = { sysfsRoot: plan.sysfsRoot, allowRealSysfs: true };
  try {
    if (plan.action === 'bind') bindDevice(plan.address, plan.targetDriver!, options);
    else unbindDevice(plan.address, options);
  } catch (error) {
    return { executed: false, error: messageOf(error) };
  }
  const after = currentDriver(plan.address, plan.sysfsRoot);
  return { executed: true, ...(after === undefined ? {} : { driverAfter: after }) };
}

function succeeded(plan: BindPlan, outcome: Outcome): boolean {
  if (!outcome.executed) return false;
  return plan.action === 'bind'
    ? outcome.driverAfter === plan.targetDriver
    : outcome.driverAfter === undefined;
}

async function run(ctx: CommandContext, plan: BindPlan, options: BindOptions): Promise<number> {
  const dryRun = options.dryRun === true;
  const refused = plan.refusals.length > 0;
  const outcome: Outcome | undefined = refused || dryRun || plan.nothingToDo ? undefined : execute(plan);
  const ok = !refused && (outcome === undefined || succeeded(plan, outcome));
  if (options.json === true) {
    printJson(ctx, { ...plan, dryRun, ...(outcome === undefined ? {} : { outcome }), ok });
    return ok ? EXIT_OK : EXIT_FAILURE;
  }
  printPlan(ctx, plan, dryRun);
  if (outcome?.error !== undefined) ctx.io.err(`${plan.action} failed: ${outcome.error}\n`);
  else if (outcome !== undefined) {
    const now = outcome.driverAfter ?? 'none';
    if (ok) ctx.io.out(`${plan.address}: kernel driver now ${now}\n`);
    else
      ctx.io.err(
        `${plan.action}: the writes were made but the kernel driver is now ${now} ` +
          `(expected ${plan.action === 'bind' ? plan.targetDriver : 'none'}); see dmesg\n`,
      );
  }
  return ok ? EXIT_OK : EXIT_FAILURE;
}

export async function runBind(ctx: CommandContext, address: string, options: BindOptions): Promise<number> {
  const plan = await planBind(ctx.registry, address, options.to ?? 'vfio', {
    sysfsRoot: sysfsRootOf(options.sysfsRoot, ctx.env),
    force: options.force === true,
  });
  return run(ctx, plan, options);
}

export async function runUnbind(ctx: CommandContext, address: string, options: BindOptions): Promise<number> {
  const plan = await planUnbind(ctx.registry, address, {
    sysfsRoot: sysfsRootOf(options.sysfsRoot, ctx.env),
    force: options.force === true,
  });
  return run(ctx, plan, options);
}
