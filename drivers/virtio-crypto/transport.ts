/**
 * The virtio-pci modern transport (VIRTIO 1.2 §4.1): device status handshake,
 * feature negotiation, virtqueue setup and notification, over the structures the
 * capability walk found. Knows nothing of crypto.
 */

import { DeviceError, throwIfAborted, UnsupportedError } from '../../core/driver/index.js';
import type { Mmio, PciFunction } from '../../core/platform/index.js';
import { BarRegion } from './bar-region.js';
import { walkVirtioCapabilities } from './pci-caps.js';
import { CommonCfg, Feature, Status, VIRTIO_MSI_NO_VECTOR } from './registers.js';

/** How long a reset may take before the device is declared broken. */
const RESET_TIMEOUT_MS = 1000;

export class ModernTransport {
  readonly common: BarRegion;
  readonly isr: BarRegion;
  readonly deviceConfig: BarRegion;
  readonly #notify: BarRegion;
  readonly #notifyMultiplier: number;
  /** Notify offsets by queue, read once at setup. */
  readonly #notifyOffsets = new Map<number, number>();
  #negotiated = 0n;

  constructor(fn: PciFunction) {
    const layout = walkVirtioCapabilities(fn.config);
    const bars = new Map<number, Mmio>();
    const bar = (i: number): Mmio => {
      let m = bars.get(i);
      if (m === undefined) {
        m = fn.bar(i);
        bars.set(i, m);
      }
      return m;
    };
    this.common = BarRegion.of(bar, layout.common);
    this.isr = BarRegion.of(bar, layout.isr);
    this.deviceConfig = BarRegion.of(bar, layout.device);
    this.#notify = BarRegion.of(bar, layout.notify);
    this.#notifyMultiplier = layout.notify.offMultiplier;
    if (this.common.length < CommonCfg.size)
      throw new UnsupportedError(
        `virtio-crypto: common configuration is ${this.common.length} bytes, too short`,
      );
  }

  get status(): number {
    return this.common.read8(CommonCfg.deviceStatus);
  }

  get negotiatedFeatures(): bigint {
    return this.#negotiated;
  }

  /** Write 0 to the status and wait until the device reads back 0 (§4.1.4.3.2). */
  async reset(signal?: AbortSignal): Promise<void> {
    this.common.write8(CommonCfg.deviceStatus, 0);
    const deadline = performance.now() + RESET_TIMEOUT_MS;
    while (this.status !== 0) {
      throwIfAborted(signal);
      if (performance.now() > deadline)
        throw new DeviceError('virtio-crypto: the device did not finish its reset');
      await new Promise((r) => setTimeout(r, 1));
    }
    this.#notifyOffsets.clear();
  }

  addStatus(bits: number): void {
    this.common.write8(CommonCfg.deviceStatus, this.status | bits);
  }

  /**
   * Negotiate features: VERSION_1 is required; ACCESS_PLATFORM is accepted when
   * offered (the device then translates its DMA through the platform's IOMMU, as
   * VFIO needs). Nothing else: no REVISION_1 crypto features (QEMU offers none).
   */
  negotiate(): bigint {
    const offered = this.#readDeviceFeatures();
    if ((offered & (1n << Feature.version1)) === 0n)
      throw new UnsupportedError('virtio-crypto: the device does not offer VIRTIO_F_VERSION_1 (legacy only)');
    const wanted = (1n << Feature.version1) | (offered & (1n << Feature.accessPlatform));
    this.common.write32(CommonCfg.driverFeatureSelect, 0);
    this.common.write32(CommonCfg.driverFeature, Number(wanted & 0xffffffffn));
    this.common.write32(CommonCfg.driverFeatureSelect, 1);
    this.common.write32(CommonCfg.driverFeature, Number(wanted >> 32n));
    this.addStatus(Status.featuresOk);
    if ((this.status & Status.featuresOk) === 0)
      throw new UnsupportedError('virtio-crypto: the device refused the feature set (FEATURES_OK not kept)');
    this.#negotiated = wanted;
    return wanted;
  }

  #readDeviceFeatures(): bigint {
    this.common.write32(CommonCfg.deviceFeatureSelect, 0);
    const low = BigInt(this.common.read32(CommonCfg.deviceFeature));
    this.common.write32(CommonCfg.deviceFeatureSelect, 1);
    const high = BigInt(this.common.read32(CommonCfg.deviceFeature));
    return (high << 32n) | low;
  }

  get numQueues(): number {
    return this.common.read16(CommonCfg.numQueues);
  }

  /** The largest size the device allows for queue `index` (0 = the queue does not exist). */
  maxQueueSize(index: number): number {
    this.common.write16(CommonCfg.queueSelect, index);
    return this.common.read16(CommonCfg.queueSize);
  }

  /**
   * Program queue `index` with its ring addresses and size, route its interrupt
   * to `vector` (or none), and enable it. Returns false if the device refused the vector.
   */
  setupQueue(
    index: number,
    size: number,
    rings: { desc: bigint; avail: bigint; used: bigint },
    vector: number,
  ): boolean {
    const c = this.common;
    c.write16(CommonCfg.queueSelect, index);
    c.write16(CommonCfg.queueSize, size);
    write64(c, CommonCfg.queueDescLo, rings.desc);
    write64(c, CommonCfg.queueDriverLo, rings.avail);
    write64(c, CommonCfg.queueDeviceLo, rings.used);
    c.write16(CommonCfg.queueMsixVector, vector);
    const vectorKept = c.read16(CommonCfg.queueMsixVector) === vector;
    this.#notifyOffsets.set(index, c.read16(CommonCfg.queueNotifyOff) * this.#notifyMultiplier);
    c.write16(CommonCfg.queueEnable, 1);
    return vectorKept || vector === VIRTIO_MSI_NO_VECTOR;
  }

  /** Route configuration-change interrupts to `vector`; false if refused. */
  setConfigVector(vector: number): boolean {
    this.common.write16(CommonCfg.configMsixVector, vector);
    return this.common.read16(CommonCfg.configMsixVector) === vector;
  }

  /** Tell the device queue `index` has new available buffers. The caller has already ordered its ring writes. */
  notify(index: number): void {
    const offset = this.#notifyOffsets.get(index);
    if (offset === undefined) throw new DeviceError(`virtio-crypto: queue ${index} is not set up`);
    this.#notify.barrier();
    this.#notify.write16(offset, index);
  }

  /** Read (and thereby clear) the ISR byte: needed to lower the INTx line. */
  readIsr(): number {
    return this.isr.read8(0);
  }
}

/** 64-bit fields of the common configuration, as two 32-bit writes (low first), which every device accepts. */
function write64(w: BarRegion, lowOffset: number, value: bigint): void {
  w.write32(lowOffset, Number(value & 0xffffffffn));
  w.write32(lowOffset + 4, Number(value >> 32n));
}
