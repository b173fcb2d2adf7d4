/**
 * A simulated card's PCI config space: the standard type-0 header with the
 * model's identity. Only the command register is writable. A model may list
 * capabilities (ModelLayout.configCapabilities: virtio's vendor capabilities).
 */

import type { PciConfigSpace, PciIdentity } from '../core/platform/pci.js';

const COMMAND = 0x04;

export class SimConfigSpace implements PciConfigSpace {
  readonly size = 256;
  readonly #view: DataView;
  readonly #removed: () => boolean;

  constructor(
    identity: PciIdentity,
    barSizes: Readonly<Record<number, number>>,
    removed: () => boolean,
    capabilities: readonly Uint8Array[] = [],
  ) {
    this.#view = new DataView(new ArrayBuffer(this.size));
    this.#removed = removed;
    const v = this.#view;
    v.setUint16(0x00, identity.vendorId, true);
    v.setUint16(0x02, identity.deviceId, true);
    v.setUint16(COMMAND, 0x0006, true); // memory space + bus master, as a bound driver would leave it
    v.setUint8(0x08, identity.revision);
    v.setUint8(0x09, identity.classCode & 0xff);
    v.setUint16(0x0a, (identity.classCode >> 8) & 0xffff, true);
    v.setUint16(0x2c, identity.subsystemVendorId, true);
    v.setUint16(0x2e, identity.subsystemDeviceId, true);
    // Memory BARs: the simulator's "bus address" of each BAR is only informational.
    for (const [index, size] of Object.entries(barSizes)) {
      const i = Number(index);
      if (i >= 0 && i < 6) v.setUint32(0x10 + 4 * i, (0xf000_0000 + i * 0x0100_0000) & ~(size - 1), true);
    }
    this.#linkCapabilities(capabilities);
  }

  /** Lay out the model's capabilities from 0x40, dword-aligned, chained through their next pointers. */
  #linkCapabilities(capabilities: readonly Uint8Array[]): void {
    const v = this.#view;
    let at = 0x40;
    let previousNext = 0x34; // the capabilities pointer, then each capability's next byte
    for (const cap of capabilities) {
      if (cap.length < 2 || at + cap.length > this.size)
        throw new RangeError('model capabilities do not fit in config space');
      new Uint8Array(v.buffer).set(cap, at);
      v.setUint8(at + 1, 0);
      v.setUint8(previousNext, at);
      previousNext = at + 1;
      at = (at + cap.length + 3) & ~3;
    }
    if (capabilities.length > 0) v.setUint16(0x06, v.getUint16(0x06, true) | 0x10, true); // status: capability list
  }

  #check(offset: number, width: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + width > this.size || offset % width !== 0) {
      throw new RangeError(`config space access of ${width} bytes at 0x${offset.toString(16)} is invalid`);
    }
  }

  read8(offset: number): number {
    this.#check(offset, 1);
    return this.#removed() ? 0xff : this.#view.getUint8(offset);
  }
  read16(offset: number): number {
    this.#check(offset, 2);
    return this.#removed() ? 0xffff : this.#view.getUint16(offset, true);
  }
  read32(offset: number): number {
    this.#check(offset, 4);
    return this.#removed() ? 0xffffffff : this.#view.getUint32(offset, true);
  }
  write16(offset: number, value: number): void {
    this.#check(offset, 2);
    if (offset === COMMAND) this.#view.setUint16(offset, value & 0xffff, true);
  }
  write32(offset: number, value: number): void {
    this.#check(offset, 4);
    if (offset === COMMAND) this.#view.setUint16(offset, value & 0xffff, true);
  }
}
