/**
 * The virtio-pci modern transport and split virtqueues of the simulated virtio
 * device (VIRTIO 1.2 §4.1, §2.7), as QEMU's virtio-pci.c is to its devices: the
 * capability list, the common configuration (features, status, queue setup), the
 * ISR byte, notifications, descriptor-chain walking and the used ring, interrupts.
 * What a request means is the device's (`VirtioDeviceFunction`, here the crypto
 * device in crypto-device.ts): the transport hands it each available chain.
 */

import type { ModelHost, ModelLayout } from '../../model.js';
import {
  BAR,
  BAR_SIZE,
  COMMON,
  CommonCfg,
  DESC_SIZE,
  DEVICE,
  Desc,
  Feature,
  ISR,
  Isr,
  MAX_CHAIN,
  MAX_QUEUE_SIZE,
  NOTIFY,
  NOTIFY_MULTIPLIER,
  PCI_CAP_ID_VENDOR,
  Status,
  VIRTIO_MSI_NO_VECTOR,
  VirtioPciCapType,
} from './registers.js';

/** One virtqueue as the device sees it. */
export interface Queue {
  readonly index: number;
  size: number;
  vector: number;
  enabled: boolean;
  desc: bigint;
  avail: bigint;
  used: bigint;
  lastAvail: number;
  usedIdx: number;
  /** Stopped by a hang fault until the next reset. */
  hung: boolean;
}

/** A descriptor chain: what the device may read (gathered), and where it may write. */
export interface Chain {
  readonly readable: Uint8Array;
  readonly writable: readonly { readonly address: bigint; readonly length: number }[];
}

/** The driver broke a ring rule or pointed outside the DMA arena: the device needs a reset. */
export class DmaError extends Error {}

/** What a virtio device type gives the transport. */
export interface VirtioDeviceFunction {
  /** Every virtqueue of the device. */
  readonly queueCount: number;
  /** Write the device-specific configuration structure (at reset). */
  resetConfig(config: DataView): void;
  /** Device-level state back to power-on (sessions, …). */
  reset(): void;
  /** Serve one available chain of `queue` (head descriptor `head`). Throw a DmaError for a ring violation. */
  process(queue: Queue, head: number): void;
  /** True once the device vanished (surprise removal): the transport stops serving. */
  readonly removed: boolean;
}

/** One virtio_pci_cap (16 bytes; 20 for notify). */
function vendorCap(type: number, offset: number, length: number, multiplier?: number): Uint8Array {
  const cap = new Uint8Array(multiplier === undefined ? 16 : 20);
  const v = new DataView(cap.buffer);
  cap[0] = PCI_CAP_ID_VENDOR;
  cap[2] = cap.length;
  cap[3] = type;
  cap[4] = BAR;
  v.setUint32(8, offset, true);
  v.setUint32(12, length, true);
  if (multiplier !== undefined) v.setUint32(16, multiplier, true);
  return cap;
}

/** The transport's part of a model layout: BAR 4 with its capabilities, the interrupts, the DMA arena. */
export function virtioPciLayout(device: {
  readonly identity: ModelLayout['identity'];
  readonly irq: 'msix' | 'intx' | 'none';
  /** MSI-X vectors when `irq` is msix. */
  readonly vectors: number;
  readonly dmaArenaBytes: number;
  /** Bytes of the device configuration structure. */
  readonly configBytes: number;
}): ModelLayout {
  return {
    identity: device.identity,
    bars: { [BAR]: { size: BAR_SIZE } },
    irq:
      device.irq === 'msix'
        ? { kind: 'msix', vectors: device.vectors }
        : device.irq === 'intx'
          ? { kind: 'intx', vectors: 1 }
          : { kind: 'none', vectors: 0 },
    dmaArenaBytes: device.dmaArenaBytes,
    configCapabilities: [
      vendorCap(VirtioPciCapType.common, COMMON, CommonCfg.size),
      vendorCap(VirtioPciCapType.isr, ISR, 1),
      vendorCap(VirtioPciCapType.device, DEVICE, device.configBytes),
      vendorCap(VirtioPciCapType.notify, NOTIFY, 0x1000, NOTIFY_MULTIPLIER),
    ],
  };
}

const VERSION_1 = 1n << Feature.version1;

export class VirtioPciTransport {
  readonly #host: ModelHost;
  readonly #layout: ModelLayout;
  readonly #bar: DataView;
  #device: VirtioDeviceFunction | undefined;
  #queues: Queue[] = [];
  #deviceFeatureSelect = 0;
  #driverFeatureSelect = 0;
  #driverFeatures = 0n;
  #queueSelect = 0;
  #epoch = 0;

  constructor(host: ModelHost, layout: ModelLayout) {
    this.#host = host;
    this.#layout = layout;
    this.#bar = host.bar(BAR);
  }

  /** Plug the device type in (once, before the first reset). */
  attach(device: VirtioDeviceFunction): void {
    this.#device = device;
  }

  get #fn(): VirtioDeviceFunction {
    if (this.#device === undefined) throw new Error('virtio transport without a device');
    return this.#device;
  }

  /** Bumped by every reset: work scheduled before it (a delayed completion) is dropped. */
  get epoch(): number {
    return this.#epoch;
  }

  reset(): void {
    this.#epoch++;
    const b = this.#bar;
    for (let off = 0; off < BAR_SIZE; off += 4) b.setUint32(off, 0, true);
    const count = this.#fn.queueCount;
    this.#queues = Array.from({ length: count }, (_, index) => ({
      index,
      size: MAX_QUEUE_SIZE,
      vector: VIRTIO_MSI_NO_VECTOR,
      enabled: false,
      desc: 0n,
      avail: 0n,
      used: 0n,
      lastAvail: 0,
      usedIdx: 0,
      hung: false,
    }));
    this.#deviceFeatureSelect = 0;
    this.#driverFeatureSelect = 0;
    this.#driverFeatures = 0n;
    this.#queueSelect = 0;
    b.setUint16(COMMON + CommonCfg.configMsixVector, VIRTIO_MSI_NO_VECTOR, true);
    b.setUint16(COMMON + CommonCfg.numQueues, count, true);
    this.#showFeatures();
    this.#showQueue();
    this.#fn.reset();
    this.#fn.resetConfig(new DataView(b.buffer, b.byteOffset + DEVICE, NOTIFY - DEVICE));
  }

  #offeredFeatures(): bigint {
    return VERSION_1;
  }

  #showFeatures(): void {
    const word =
      this.#deviceFeatureSelect < 2
        ? (this.#offeredFeatures() >> BigInt(32 * this.#deviceFeatureSelect)) & 0xffffffffn
        : 0n;
    this.#bar.setUint32(COMMON + CommonCfg.deviceFeature, Number(word), true);
  }

  #showQueue(): void {
    const b = this.#bar;
    const q = this.#queues[this.#queueSelect];
    b.setUint16(COMMON + CommonCfg.queueSelect, this.#queueSelect, true);
    b.setUint16(COMMON + CommonCfg.queueSize, q ? q.size : 0, true);
    b.setUint16(COMMON + CommonCfg.queueMsixVector, q ? q.vector : VIRTIO_MSI_NO_VECTOR, true);
    b.setUint16(COMMON + CommonCfg.queueEnable, q?.enabled ? 1 : 0, true);
    b.setUint16(COMMON + CommonCfg.queueNotifyOff, q ? this.#queueSelect : 0, true);
    b.setBigUint64(COMMON + CommonCfg.queueDescLo, q?.desc ?? 0n, true);
    b.setBigUint64(COMMON + CommonCfg.queueDriverLo, q?.avail ?? 0n, true);
    b.setBigUint64(COMMON + CommonCfg.queueDeviceLo, q?.used ?? 0n, true);
  }

  #vectorOk(vector: number): number {
    return this.#layout.irq.kind === 'msix' && vector < this.#layout.irq.vectors
      ? vector
      : VIRTIO_MSI_NO_VECTOR;
  }

  onWrite(bar: number, offset: number, width: 1 | 2 | 4 | 8, value: bigint): void {
    if (bar !== BAR) return;
    if (offset >= NOTIFY && offset < NOTIFY + 0x1000) {
      this.#notify((offset - NOTIFY) / NOTIFY_MULTIPLIER);
      return;
    }
    if (offset >= COMMON + CommonCfg.size) return; // ISR and device config are read-only
    this.#writeCommon(offset - COMMON, width, value);
  }

  #writeCommon(offset: number, width: number, value: bigint): void {
    const v = Number(value & 0xffffffffn);
    const b = this.#bar;
    const q = this.#queues[this.#queueSelect];
    // 64-bit ring addresses may come as one 8-byte write or two 4-byte halves.
    const setHalf = (field: 'desc' | 'avail' | 'used', base: number): void => {
      if (q === undefined) return;
      if (width === 8) q[field] = value;
      else if (offset === base) q[field] = (q[field] & ~0xffffffffn) | BigInt(v >>> 0);
      else q[field] = (q[field] & 0xffffffffn) | (BigInt(v >>> 0) << 32n);
    };
    switch (offset) {
      case CommonCfg.deviceFeatureSelect:
        this.#deviceFeatureSelect = v;
        this.#showFeatures();
        b.setUint32(COMMON + CommonCfg.deviceFeatureSelect, v, true);
        return;
      case CommonCfg.driverFeatureSelect:
        this.#driverFeatureSelect = v;
        b.setUint32(COMMON + CommonCfg.driverFeatureSelect, v, true);
        return;
      case CommonCfg.driverFeature:
        if (this.#driverFeatureSelect < 2) {
          const shift = BigInt(32 * this.#driverFeatureSelect);
          this.#driverFeatures =
            (this.#driverFeatures & ~(0xffffffffn << shift)) | (BigInt(v >>> 0) << shift);
        }
        b.setUint32(COMMON + CommonCfg.driverFeature, v, true);
        return;
      case CommonCfg.configMsixVector:
        b.setUint16(COMMON + CommonCfg.configMsixVector, this.#vectorOk(v & 0xffff), true);
        return;
      case CommonCfg.deviceStatus:
        this.#writeStatus(v & 0xff);
        return;
      case CommonCfg.queueSelect:
        this.#queueSelect = v & 0xffff;
        this.#showQueue();
        return;
      case CommonCfg.queueSize:
        if (q && !q.enabled) {
          const size = v & 0xffff;
          // Split rings: a power of two no larger than the maximum.
          if (size > 0 && size <= MAX_QUEUE_SIZE && (size & (size - 1)) === 0) q.size = size;
        }
        this.#showQueue();
        return;
      case CommonCfg.queueMsixVector:
        if (q) q.vector = this.#vectorOk(v & 0xffff);
        this.#showQueue();
        return;
      case CommonCfg.queueEnable:
        if (q && (v & 0xffff) === 1) q.enabled = true;
        this.#showQueue();
        return;
      case CommonCfg.queueDescLo:
      case CommonCfg.queueDescHi:
      case CommonCfg.queueDriverLo:
      case CommonCfg.queueDriverHi:
      case CommonCfg.queueDeviceLo:
      case CommonCfg.queueDeviceHi:
        // The three ring addresses follow each other (desc, driver, device), low half then high.
        if (offset < CommonCfg.queueDriverLo) setHalf('desc', CommonCfg.queueDescLo);
        else if (offset < CommonCfg.queueDeviceLo) setHalf('avail', CommonCfg.queueDriverLo);
        else setHalf('used', CommonCfg.queueDeviceLo);
        this.#showQueue();
        return;
    }
  }

  #writeStatus(status: number): void {
    if (status === 0) {
      this.reset();
      return;
    }
    let next = status;
    if (status & Status.featuresOk) {
      const offered = this.#offeredFeatures();
      // FEATURES_OK stays clear if the driver asked for something not offered, or not VERSION_1 (§3.1.1).
      if ((this.#driverFeatures & ~offered) !== 0n || (this.#driverFeatures & VERSION_1) === 0n)
        next &= ~Status.featuresOk;
    }
    const at = COMMON + CommonCfg.deviceStatus;
    this.#bar.setUint8(at, next | (this.#bar.getUint8(at) & Status.deviceNeedsReset));
  }

  #status(): number {
    return this.#bar.getUint8(COMMON + CommonCfg.deviceStatus);
  }

  /** Set DEVICE_NEEDS_RESET and send a configuration-change interrupt (§2.1.2). */
  needsReset(): void {
    this.#bar.setUint8(COMMON + CommonCfg.deviceStatus, this.#status() | Status.deviceNeedsReset);
    this.#bar.setUint8(ISR, this.#bar.getUint8(ISR) | Isr.config);
    const vector = this.#bar.getUint16(COMMON + CommonCfg.configMsixVector, true);
    if (this.#layout.irq.kind === 'msix' && vector !== VIRTIO_MSI_NO_VECTOR) this.#host.raiseIrq(vector);
    else if (this.#layout.irq.kind === 'intx') this.#host.raiseIrq(0);
  }

  #notify(index: number): void {
    const q = this.#queues[index];
    if (q === undefined || !q.enabled || (this.#status() & Status.driverOk) === 0 || q.hung) return;
    if (this.#status() & Status.deviceNeedsReset) return;
    try {
      const availIdx = this.#read16(q.avail + 2n);
      while (q.lastAvail !== availIdx && !q.hung) {
        const head = this.#read16(q.avail + 4n + 2n * BigInt(q.lastAvail % q.size));
        q.lastAvail = (q.lastAvail + 1) & 0xffff;
        this.#fn.process(q, head);
        if (this.#fn.removed) return;
      }
    } catch (error) {
      if (!(error instanceof DmaError)) throw error;
      this.needsReset();
    }
  }

  #read16(address: bigint): number {
    const bytes = this.#dmaRead(address, 2);
    return bytes[0]! | (bytes[1]! << 8);
  }

  #dmaRead(address: bigint, length: number): Uint8Array {
    try {
      return this.#host.dma.read(address, length);
    } catch (error) {
      throw new DmaError('DMA read outside the arena', { cause: error });
    }
  }

  #dmaWrite(address: bigint, data: Uint8Array): void {
    try {
      this.#host.dma.write(address, data);
    } catch (error) {
      throw new DmaError('DMA write outside the arena', { cause: error });
    }
  }

  /** Walk a descriptor chain: device-readable buffers first, then device-writable ones (§2.7.4.2). */
  chain(q: Queue, head: number): Chain {
    const parts: Uint8Array[] = [];
    const writable: { address: bigint; length: number }[] = [];
    let index = head;
    for (let n = 0; ; n++) {
      if (index >= q.size || n >= MAX_CHAIN) throw new DmaError(`bad descriptor chain from ${head}`);
      const d = new DataView(this.#dmaRead(q.desc + BigInt(DESC_SIZE * index), DESC_SIZE).buffer);
      const address = d.getBigUint64(0, true);
      const length = d.getUint32(8, true);
      const flags = d.getUint16(12, true);
      if (flags & Desc.write) writable.push({ address, length });
      else if (writable.length > 0) throw new DmaError('a readable descriptor after a writable one');
      else parts.push(this.#dmaRead(address, length));
      if ((flags & Desc.next) === 0) break;
      index = d.getUint16(14, true);
    }
    const total = parts.reduce((s, p) => s + p.length, 0);
    const readable = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      readable.set(p, at);
      at += p.length;
    }
    return { readable, writable };
  }

  /** Scatter `data` over the writable buffers from their start; returns bytes written. */
  scatter(chain: Chain, data: Uint8Array, limit: number): number {
    let at = 0;
    for (const w of chain.writable) {
      if (at >= data.length || at >= limit) break;
      const n = Math.min(w.length, data.length - at, limit - at);
      this.#dmaWrite(w.address, data.subarray(at, at + n));
      at += n;
    }
    return at;
  }

  /** Write a 1-byte status into the last byte of the last writable buffer (QEMU's rule). */
  writeStatusByte(chain: Chain, status: number): boolean {
    const last = chain.writable.at(-1);
    if (last === undefined || last.length === 0) return false;
    this.#dmaWrite(last.address + BigInt(last.length - 1), Uint8Array.of(status));
    return true;
  }

  /** Put `id` with `length` written bytes on the used ring, and interrupt (§2.7.8). */
  pushUsed(q: Queue, id: number, length: number): void {
    const at = q.used + 4n + 8n * BigInt(q.usedIdx % q.size);
    const element = new Uint8Array(8);
    const v = new DataView(element.buffer);
    v.setUint32(0, id, true);
    v.setUint32(4, length, true);
    this.#dmaWrite(at, element);
    q.usedIdx = (q.usedIdx + 1) & 0xffff;
    const idx = new Uint8Array(2);
    new DataView(idx.buffer).setUint16(0, q.usedIdx, true);
    this.#dmaWrite(q.used + 2n, idx);
    this.#bar.setUint8(ISR, this.#bar.getUint8(ISR) | Isr.queue);
    if (this.#layout.irq.kind === 'msix' && q.vector !== VIRTIO_MSI_NO_VECTOR) this.#host.raiseIrq(q.vector);
    else if (this.#layout.irq.kind === 'intx') this.#host.raiseIrq(0);
  }
}
