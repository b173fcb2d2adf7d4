/**
 * Opening a function through sysfs alone (BAR mmap of resourceN, no interrupts,
 * no DMA) or through uio_pci_generic (the same BARs, plus INTx by read() on
 * /dev/uioN and DMA from pinned hugepages at physical addresses).
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { FileConfigSpace } from './config.js';
import type { PciConfigSpace } from './contracts.js';
import { DmaPool, hugepageChunks, noDma } from './dma.js';
import type { ErrorClasses } from './errors.js';
import type { FunctionParts } from './function.js';
import { FdIrq } from './irq.js';
import { mapFile } from './mmio.js';
import type { NativePciFunctionInfo } from './sysfs.js';

export const PCI_COMMAND = 0x04;
export const COMMAND_MEMORY = 1 << 1;
export const COMMAND_BUS_MASTER = 1 << 2;
export const COMMAND_INTX_DISABLE = 1 << 10;

/** Set and clear bits of the command register (read-modify-write). */
export function updateCommand(config: PciConfigSpace, set: number, clear: number): void {
  const command = config.read16(PCI_COMMAND);
  const next = (command | set) & ~clear & 0xffff;
  if (next !== command) config.write16(PCI_COMMAND, next);
}

export interface ModeContext {
  readonly info: NativePciFunctionInfo;
  readonly errors: ErrorClasses;
  readonly devRoot: string;
  readonly pagemapPath?: string;
  readonly options: Readonly<Record<string, string>>;
}

function openConfig(info: NativePciFunctionInfo, writable: boolean): { config: FileConfigSpace; fd: number } {
  const fd = openSync(join(info.sysfsPath, 'config'), writable ? 'r+' : 'r');
  return { config: new FileConfigSpace(fd, fstatSync(fd).size), fd };
}

function mapResource(info: NativePciFunctionInfo, index: number, writable: boolean) {
  return mapFile(join(info.sysfsPath, `resource${index}`), { writable });
}

/** sysfs: BARs and config only; the driver polls. `?readonly=1` maps read-only. */
export function openSysfs(ctx: ModeContext): FunctionParts {
  const { info, errors } = ctx;
  const writable = ctx.options.readonly !== '1';
  const { config, fd } = openConfig(info, writable);
  return {
    mode: 'sysfs',
    info,
    config,
    dma: noDma(
      'sysfs mode maps BARs only; open with mode=uio or mode=vfio',
      (m) => new errors.UnsupportedError(m),
    ),
    irqSupport: { kind: 'none', vectors: 0 },
    mapBar: (index) => mapResource(info, index, writable),
    openIrq: () => {
      throw new errors.UnsupportedError(
        'sysfs mode has no interrupts: poll the device, or open with mode=uio|vfio',
      );
    },
    close: () => {
      config.close();
      closeSync(fd);
    },
  };
}

/**
 * uio_pci_generic. Its kernel handler masks INTx through the command register's
 * INTx-disable bit at each interrupt, and write() to /dev/uioN is not implemented
 * (ENOSYS), so unmask clears that bit through config space. `?irq=poll` opens no
 * interrupt. DMA memory: see dma.ts on the trust this implies.
 */
export function openUio(ctx: ModeContext): FunctionParts {
  const { info, errors } = ctx;
  if (!info.uio)
    throw new errors.UnsupportedError(
      `${info.address} is not bound to a uio driver (bound: ${info.kernelDriver ?? 'none'})`,
    );
  const { config, fd } = openConfig(info, true);
  updateCommand(config, COMMAND_MEMORY | COMMAND_BUS_MASTER, 0);
  const polling = ctx.options.irq === 'poll';
  return {
    mode: 'uio',
    info,
    config,
    dma: new DmaPool(hugepageChunks(ctx.pagemapPath)),
    irqSupport: polling ? { kind: 'none', vectors: 0 } : { kind: 'intx', vectors: 1 },
    mapBar: (index) => mapResource(info, index, true),
    openIrq: (vector, hooks) => {
      const uioFd = openSync(join(ctx.devRoot, info.uio!), constants.O_RDWR | constants.O_NONBLOCK);
      const unmask = () => updateCommand(config, 0, COMMAND_INTX_DISABLE);
      unmask();
      return new FdIrq({
        vector,
        fd: uioFd,
        kind: 'uio',
        errors,
        ...hooks,
        control: {
          enable: unmask,
          unmask,
          disable: () => updateCommand(config, COMMAND_INTX_DISABLE, 0),
        },
      });
    },
    close: () => {
      config.close();
      closeSync(fd);
    },
  };
}
