/**
 * PCI config space: access through a file (sysfs `config`, or the VFIO config
 * region of the device fd at its offset), and the capability lists parsed from its
 * bytes: the standard list from 0x34 and the extended list from 0x100, with the
 * bytes of vendor-specific capabilities (virtio's live there).
 */
import { readSync, writeSync } from 'node:fs';
import type { PciConfigSpace } from './contracts.js';

/** Config space as a range of an open file descriptor, with pread/pwrite. */
export class FileConfigSpace implements PciConfigSpace {
  readonly size: number;
  readonly #fd: number;
  readonly #base: number;
  readonly #scratch = Buffer.alloc(4);
  #closed = false;

  constructor(fd: number, size: number, base = 0) {
    this.#fd = fd;
    this.size = size;
    this.#base = base;
  }

  read8(offset: number): number {
    return this.#read(offset, 1).readUInt8(0);
  }
  read16(offset: number): number {
    return this.#read(offset, 2).readUInt16LE(0);
  }
  read32(offset: number): number {
    return this.#read(offset, 4).readUInt32LE(0);
  }
  write16(offset: number, value: number): void {
    this.#check(offset, 2);
    this.#scratch.writeUInt16LE(value & 0xffff, 0);
    this.#write(offset, 2);
  }
  write32(offset: number, value: number): void {
    this.#check(offset, 4);
    this.#scratch.writeUInt32LE(value >>> 0, 0);
    this.#write(offset, 4);
  }

  /** Stop using the fd (its owner closes it). */
  close(): void {
    this.#closed = true;
  }

  #check(offset: number, width: number): void {
    if (this.#closed) throw new Error('config space used after close');
    if (!Number.isInteger(offset) || offset < 0 || offset + width > this.size || offset % width !== 0)
      throw new RangeError(
        `config access of ${width} bytes at ${offset} is outside or misaligned in ${this.size} bytes`,
      );
  }

  #read(offset: number, width: number): Buffer {
    this.#check(offset, width);
    const n = readSync(this.#fd, this.#scratch, 0, width, this.#base + offset);
    if (n !== width) throw new Error(`config space read of ${width} bytes at ${offset} returned ${n}`);
    return this.#scratch;
  }

  #write(offset: number, width: number): void {
    const n = writeSync(this.#fd, this.#scratch, 0, width, this.#base + offset);
    if (n !== width) throw new Error(`config space write of ${width} bytes at ${offset} wrote ${n}`);
  }
}

export interface PciCapability {
  /** "standard" (list at 0x34) or "extended" (list at 0x100, PCIe). */
  readonly kind: 'standard' | 'extended';
  readonly id: number;
  readonly offset: number;
  /** Extended capabilities' version field. */
  readonly version?: number;
  /** Vendor-specific (standard id 0x09): the whole capability, its length byte included. */
  readonly data?: Uint8Array;
}

export const PCI_CAP_ID = {
  powerManagement: 0x01,
  msi: 0x05,
  vendorSpecific: 0x09,
  pciExpress: 0x10,
  msix: 0x11,
} as const;

const STATUS = 0x06;
const STATUS_CAP_LIST = 0x10;
const CAP_POINTER = 0x34;
const MAX_CAPS = 64; // guards against a looping list in a broken or hostile config space

/** The capabilities in a copy of config space (64, 256 or 4096 bytes). */
export function parseCapabilities(config: Uint8Array): PciCapability[] {
  const caps: PciCapability[] = [];
  const view = new DataView(config.buffer, config.byteOffset, config.byteLength);
  if (config.length >= 0x40 && view.getUint16(STATUS, true) & STATUS_CAP_LIST) {
    let p = config[CAP_POINTER]! & 0xfc;
    const seen = new Set<number>();
    while (p >= 0x40 && p + 2 <= Math.min(config.length, 256) && !seen.has(p) && seen.size < MAX_CAPS) {
      seen.add(p);
      const id = config[p]!;
      if (id === PCI_CAP_ID.vendorSpecific && p + 3 <= config.length) {
        const length = config[p + 2]!;
        caps.push({
          kind: 'standard',
          id,
          offset: p,
          data: config.slice(p, Math.min(p + length, config.length)),
        });
      } else {
        caps.push({ kind: 'standard', id, offset: p });
      }
      p = config[p + 1]! & 0xfc;
    }
  }
  if (config.length >= 4096) {
    let p = 0x100;
    const seen = new Set<number>();
    while (p >= 0x100 && p + 4 <= config.length && !seen.has(p) && seen.size < MAX_CAPS) {
      seen.add(p);
      const header = view.getUint32(p, true);
      if (header === 0 || header === 0xffffffff) break;
      caps.push({ kind: 'extended', id: header & 0xffff, version: (header >>> 16) & 0xf, offset: p });
      p = (header >>> 20) & 0xffc;
    }
  }
  return caps;
}

/** Read the whole config space through an accessor (byte by byte: any length works). */
export function snapshotConfig(config: PciConfigSpace): Uint8Array {
  const bytes = new Uint8Array(config.size);
  for (let i = 0; i < config.size; i += 4) {
    if (i + 4 <= config.size) new DataView(bytes.buffer).setUint32(i, config.read32(i), true);
    else for (let j = i; j < config.size; j++) bytes[j] = config.read8(j);
  }
  return bytes;
}
