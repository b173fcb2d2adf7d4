/**
 * `pkaccel devices`: the PCI functions the registered drivers claim (from the
 * sysfs scan) and the configured devices (software, simulated, opened cards),
 * each opened once to show its state and capabilities.
 */

import { addonStatus } from 'pcie-mmio';
import type { Capability } from '../../index.js';
import { summarizeCapabilities } from '../capability-summary.js';
import { type CommandContext, messageOf, printJson, sysfsRootOf } from '../context.js';
import { openSelected, selectDevices, selectionNote, sourceLabel } from '../device-selection.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { type HardwareFunction, scanHardware } from '../hardware.js';
import { renderTable } from '../table.js';

export interface DevicesOptions {
  readonly devices?: string[];
  readonly sysfsRoot?: string;
  readonly all?: boolean;
  readonly json?: boolean;
}

export interface ConfiguredDevice {
  readonly spec: string;
  readonly id?: string;
  readonly driver?: string;
  readonly model?: string;
  readonly state: string;
  readonly summary?: string;
  readonly capabilities?: readonly Capability[];
  readonly error?: string;
}

async function inspect(ctx: CommandContext, spec: string): Promise<ConfiguredDevice[]> {
  const { accel, error } = await openSelected(ctx, spec);
  if (accel === undefined) return [{ spec, state: 'unavailable', error: messageOf(error) }];
  try {
    return accel.devices.map((d) => ({
      spec,
      id: d.id,
      driver: d.driver,
      model: d.model,
      state: d.state,
      summary: summarizeCapabilities(d.capabilities),
      capabilities: d.capabilities,
    }));
  } finally {
    await accel.close();
  }
}

function hardwareTable(ctx: CommandContext, hardware: readonly HardwareFunction[]): string {
  const { style } = ctx.io;
  return renderTable(
    ['address', 'ids', 'class', 'pkaccel driver', 'kernel driver', 'iommu', 'usable'],
    hardware.map((h) => [
      h.address,
      h.ids,
      h.classCode,
      h.pkaccelDriver ?? style.dim('none'),
      h.kernelDriver ?? style.dim('none'),
      h.iommuGroup === undefined ? style.dim('-') : String(h.iommuGroup),
      h.usable ? style.green(`yes (${h.mode})`) : h.bindCommand ? style.yellow(`no: ${h.bindCommand}`) : 'no',
    ]),
    ['left', 'left', 'left', 'left', 'left', 'right', 'left'],
  );
}

function configuredTable(ctx: CommandContext, configured: readonly ConfiguredDevice[]): string {
  const { style } = ctx.io;
  return renderTable(
    ['device', 'driver', 'model', 'state', 'capabilities'],
    configured.map((d) => [
      d.id ?? d.spec,
      d.driver ?? '',
      d.model ?? '',
      d.state === 'ready' ? style.green(d.state) : style.red(d.state),
      d.summary ?? d.error ?? '',
    ]),
    ['left', 'left', 'left', 'left', 'left'],
  );
}

/**
 * Whether pcie-mmio's native addon (the `pci:` platform's register access) is
 * usable, and if not why: the install-time build records the tools it did not
 * find, and addonStatus() turns that into one sentence with the fix.
 */
function nativeAddon():
  | { readonly loaded: true }
  | {
      readonly loaded: false;
      readonly built: boolean;
      readonly reason: string;
      readonly missingTools: readonly string[];
    } {
  const status = addonStatus();
  if (status.loaded) return { loaded: true };
  return { loaded: false, built: status.built, reason: status.reason, missingTools: status.missingTools };
}

export async function runDevices(ctx: CommandContext, options: DevicesOptions): Promise<number> {
  const sysfsRoot = sysfsRootOf(options.sysfsRoot, ctx.env);
  let hardware: HardwareFunction[] = [];
  let scanError: string | undefined;
  try {
    hardware = await scanHardware(ctx.registry, { sysfsRoot, all: options.all === true, signal: ctx.signal });
  } catch (error) {
    scanError = messageOf(error);
  }
  const selection = await selectDevices(ctx, options.devices);
  const configured: ConfiguredDevice[] = [];
  for (const spec of selection.specs) configured.push(...(await inspect(ctx, spec)));
  const failed = configured.some((d) => d.state !== 'ready');
  const note = selectionNote(ctx, selection);
  const native = nativeAddon();
  if (options.json === true) {
    printJson(ctx, {
      sysfsRoot,
      hardware,
      ...(scanError === undefined ? {} : { scanError }),
      nativeAddon: native,
      selection,
      devices: configured,
      ...(note === undefined ? {} : { note }),
    });
    return failed ? EXIT_FAILURE : EXIT_OK;
  }
  const { style } = ctx.io;
  const lines: string[] = [style.bold(`PCI functions under ${sysfsRoot}`)];
  if (!native.loaded) lines.push(`  ${style.yellow(`pci: cards cannot be opened: ${native.reason}`)}`);
  if (scanError !== undefined) lines.push(`  could not scan: ${scanError}`);
  else if (hardware.length === 0)
    lines.push(`  ${options.all === true ? 'none' : 'none that a registered pkaccel driver claims'}`);
  else lines.push(hardwareTable(ctx, hardware));
  lines.push(
    '',
    style.bold(`Configured devices (from ${sourceLabel(selection)})`),
    configuredTable(ctx, configured),
  );
  ctx.io.out(`${lines.join('\n')}\n`);
  if (note !== undefined) ctx.io.err(`note: ${note}\n`);
  return failed ? EXIT_FAILURE : EXIT_OK;
}
