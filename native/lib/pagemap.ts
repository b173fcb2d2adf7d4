/**
 * Physical addresses of our own pages from /proc/self/pagemap: the bus address of a
 * DMA buffer when there is no IOMMU (UIO mode). Each 8-byte entry describes one base
 * page: bit 63 "present", bits 0–54 the page frame number, which the kernel reports
 * as 0 to a process without CAP_SYS_ADMIN.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const PAGE = 4096n;
const PRESENT = 1n << 63n;
const PFN_MASK = (1n << 55n) - 1n;

/** The physical address behind virtual address `vaddr` of this process; throws if it cannot tell. */
export function physicalAddress(vaddr: bigint, pagemapPath = '/proc/self/pagemap'): bigint {
  const entry = Buffer.alloc(8);
  const fd = openSync(pagemapPath, 'r');
  try {
    const n = readSync(fd, entry, 0, 8, (vaddr / PAGE) * 8n);
    if (n !== 8) throw new Error(`${pagemapPath}: short read for address 0x${vaddr.toString(16)}`);
  } finally {
    closeSync(fd);
  }
  const value = entry.readBigUInt64LE(0);
  if ((value & PRESENT) === 0n)
    throw new Error(`page at 0x${vaddr.toString(16)} is not present (was the memory locked and populated?)`);
  const pfn = value & PFN_MASK;
  if (pfn === 0n)
    throw new Error(
      `${pagemapPath} reports no frame numbers: reading them needs CAP_SYS_ADMIN (run as root)`,
    );
  return pfn * PAGE + (vaddr % PAGE);
}
