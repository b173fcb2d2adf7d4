/**
 * Opening a function through VFIO: container, group and device fds; BARs and
 * config space as regions of the device fd; DMA memory mapped through the IOMMU at
 * IOVAs chosen here; interrupts as eventfds attached with VFIO_DEVICE_SET_IRQS.
 * The secure path: the device reaches only the memory mapped for it.
 */
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { addon } from './addon.js';
import { FileConfigSpace } from './config.js';
import type { IrqSupport } from './contracts.js';
import { type ChunkSource, type DmaChunk, DmaPool, memfdChunks } from './dma.js';
import type { FunctionParts } from './function.js';
import { FdIrq } from './irq.js';
import { mapFd } from './mmio.js';
import {
  COMMAND_BUS_MASTER,
  COMMAND_INTX_DISABLE,
  COMMAND_MEMORY,
  type ModeContext,
  updateCommand,
} from './modes.js';

const VFIO_API_VERSION = 0;
const VFIO_TYPE1_IOMMU = 1;
const VFIO_TYPE1v2_IOMMU = 3;
const VFIO_GROUP_FLAGS_VIABLE = 1;
const REGION_FLAG_MMAP = 1 << 2;
const CONFIG_REGION = 7;
const IRQ_INDEX = { intx: 0, msi: 1, msix: 2 } as const;
const ACTION_MASK = 1 << 3;
const ACTION_UNMASK = 1 << 4;
const ACTION_TRIGGER = 1 << 5;
/** IOVAs start at 4 GiB: clear of the x86 MSI window at 0xfee00000 and of low reserved ranges. */
const IOVA_BASE = 0x1_0000_0000n;
const IOVA_ALIGN = 2n * 1024n * 1024n;

/** memfd chunks mapped into the container's IOMMU at increasing IOVAs. */
function iommuChunks(container: number): ChunkSource {
  const plain = memfdChunks({ busBase: 0n });
  let nextIova = IOVA_BASE;
  return {
    chunkSize: plain.chunkSize,
    maxBuffer: plain.maxBuffer,
    allocate(size): DmaChunk {
      const chunk = plain.allocate(size);
      const iova = nextIova;
      try {
        addon().vfio.mapDma(container, chunk.window.handle, 0, chunk.size, iova);
      } catch (error) {
        chunk.release();
        throw error;
      }
      nextIova += ((BigInt(chunk.size) + IOVA_ALIGN - 1n) / IOVA_ALIGN) * IOVA_ALIGN;
      return {
        window: chunk.window,
        busAddress: iova,
        size: chunk.size,
        get fd() {
          return chunk.fd;
        },
        release() {
          try {
            addon().vfio.unmapDma(container, iova, chunk.size);
          } finally {
            chunk.release();
          }
        },
      };
    },
  };
}

function chooseIrq(device: number, wanted: string | undefined): IrqSupport {
  if (wanted === 'poll') return { kind: 'none', vectors: 0 };
  const count = (kind: 'intx' | 'msi' | 'msix') => {
    try {
      return addon().vfio.irqInfo(device, IRQ_INDEX[kind]).count;
    } catch {
      return 0;
    }
  };
  const order: ('msix' | 'msi' | 'intx')[] =
    wanted === 'intx' || wanted === 'msi' || wanted === 'msix' ? [wanted] : ['msix', 'msi', 'intx'];
  for (const kind of order) {
    const n = count(kind);
    if (n > 0) return { kind, vectors: kind === 'intx' ? 1 : n };
  }
  return { kind: 'none', vectors: 0 };
}

export function openVfio(ctx: ModeContext): FunctionParts {
  const { info, errors } = ctx;
  const v = addon().vfio;
  if (info.iommuGroup === undefined)
    throw new errors.UnsupportedError(`${info.address} is in no IOMMU group: VFIO needs an IOMMU`);
  const opened: number[] = [];
  const closeAll = () => {
    for (const fd of opened.reverse()) closeSync(fd);
  };
  try {
    const container = openSync(join(ctx.devRoot, 'vfio', 'vfio'), 'r+');
    opened.push(container);
    if (v.apiVersion(container) !== VFIO_API_VERSION) throw new Error('unknown VFIO API version');
    const type = v.checkExtension(container, VFIO_TYPE1v2_IOMMU)
      ? VFIO_TYPE1v2_IOMMU
      : v.checkExtension(container, VFIO_TYPE1_IOMMU)
        ? VFIO_TYPE1_IOMMU
        : 0;
    if (type === 0) throw new errors.UnsupportedError('VFIO has no type-1 IOMMU driver here');
    const group = openSync(join(ctx.devRoot, 'vfio', String(info.iommuGroup)), 'r+');
    opened.push(group);
    if ((v.groupStatus(group) & VFIO_GROUP_FLAGS_VIABLE) === 0)
      throw new errors.UnsupportedError(
        `IOMMU group ${info.iommuGroup} is not viable: bind every function in it to vfio-pci`,
      );
    v.groupSetContainer(group, container);
    try {
      v.setIommu(container, type);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EPERM') throw error;
      // vfio_iommu_type1 refuses an IOMMU without interrupt remapping (e.g. QEMU's
      // intel-iommu with intremap=off) unless told to accept it.
      throw new errors.UnsupportedError(
        'VFIO_SET_IOMMU refused (EPERM): the IOMMU does not remap interrupts; load vfio_iommu_type1 with ' +
          'allow_unsafe_interrupts=1 (a device could then forge MSIs: trusted devices only) or enable ' +
          'interrupt remapping',
        { cause: error },
      );
    }
    const device = v.groupDeviceFd(group, info.address);
    opened.push(device);

    const cfg = v.regionInfo(device, CONFIG_REGION);
    const config = new FileConfigSpace(device, cfg.size, cfg.offset);
    updateCommand(config, COMMAND_MEMORY | COMMAND_BUS_MASTER, 0);
    const irqSupport = chooseIrq(device, ctx.options.irq);
    const index = irqSupport.kind === 'none' ? -1 : IRQ_INDEX[irqSupport.kind];
    // VFIO takes the whole set of eventfds for an index at once; -1 leaves a vector unrouted.
    const routed: number[] = [];
    const program = () => {
      let last = routed.length;
      while (last > 0 && routed[last - 1] === -1) last--;
      const fds = routed.slice(0, last);
      if (fds.length === 0) {
        v.setIrqs(device, index, 0, ACTION_TRIGGER, [], 0);
        return;
      }
      try {
        v.setIrqs(device, index, 0, ACTION_TRIGGER, fds, 0);
      } catch {
        // older kernels cannot resize an enabled MSI/MSI-X set: disable, then set again
        v.setIrqs(device, index, 0, ACTION_TRIGGER, [], 0);
        v.setIrqs(device, index, 0, ACTION_TRIGGER, fds, 0);
      }
    };

    return {
      mode: 'vfio',
      info,
      config,
      dma: new DmaPool(iommuChunks(container)),
      irqSupport,
      mapBar: (bar) => {
        const region = v.regionInfo(device, bar);
        if ((region.flags & REGION_FLAG_MMAP) === 0)
          throw new errors.UnsupportedError(`${info.address} BAR ${bar} cannot be mmap'ed through VFIO`);
        return mapFd(device, { offset: region.offset, size: region.size });
      },
      openIrq: (vector, hooks) => {
        const fd = addon().eventfd();
        while (routed.length <= vector) routed.push(-1);
        routed[vector] = fd;
        try {
          program();
        } catch (error) {
          routed[vector] = -1;
          closeSync(fd);
          throw error;
        }
        const intx = irqSupport.kind === 'intx';
        if (intx) updateCommand(config, 0, COMMAND_INTX_DISABLE);
        const action = (a: number) => v.setIrqs(device, index, vector, a, [], 1);
        return new FdIrq({
          vector,
          fd,
          kind: 'eventfd',
          errors,
          ...hooks,
          control: {
            // VFIO masks INTx itself when it fires; MSI/MSI-X need no re-arm.
            unmask: intx ? () => action(ACTION_UNMASK) : undefined,
            enable: intx ? () => action(ACTION_UNMASK) : undefined,
            disable: intx ? () => action(ACTION_MASK) : undefined,
            close: () => {
              routed[vector] = -1;
              program();
            },
          },
        });
      },
      close: () => {
        config.close();
        closeAll();
      },
    };
  } catch (error) {
    closeAll();
    throw error;
  }
}
