/**
 * A sub-range of a BAR, bounds-checked, so each virtio structure (common
 * configuration, ISR, device configuration, notifications) is addressed from its own 0.
 */

import type { Mmio } from '../../core/platform/index.js';
import type { StructureLocation } from './pci-caps.js';

export class BarRegion {
  constructor(
    private readonly mmio: Mmio,
    private readonly base: number,
    readonly length: number,
  ) {
    if (base + length > mmio.size)
      throw new RangeError(`virtio structure at ${base}+${length} lies outside its BAR (${mmio.size} bytes)`);
  }

  static of(bars: (index: number) => Mmio, location: StructureLocation): BarRegion {
    return new BarRegion(bars(location.bar), location.offset, location.length);
  }

  private at(offset: number, width: number): number {
    if (offset < 0 || offset + width > this.length)
      throw new RangeError(
        `access at ${offset} (${width} bytes) outside a ${this.length}-byte virtio structure`,
      );
    return this.base + offset;
  }

  read8(offset: number): number {
    return this.mmio.read8(this.at(offset, 1));
  }
  read16(offset: number): number {
    return this.mmio.read16(this.at(offset, 2));
  }
  read32(offset: number): number {
    return this.mmio.read32(this.at(offset, 4));
  }
  write8(offset: number, value: number): void {
    this.mmio.write8(this.at(offset, 1), value);
  }
  write16(offset: number, value: number): void {
    this.mmio.write16(this.at(offset, 2), value);
  }
  write32(offset: number, value: number): void {
    this.mmio.write32(this.at(offset, 4), value);
  }
  barrier(): void {
    this.mmio.barrier();
  }
}
