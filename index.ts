/**
 * pkaccel: one WebCrypto-compatible interface for asymmetric-crypto offload
 * cards, with a software provider, a job queue and a register-level simulator.
 *
 * Applications use {@link openAccelerator} and the {@link Accelerator} it
 * returns (`subtle`, `crypto`, `queue`, `stats$`, `events$`); driver authors
 * implement the {@link Driver} contracts and call {@link registerDriver}.
 *
 * This module is the package entry and composition root: the only module that
 * imports every layer. It registers the built-in drivers and platforms with core
 * and re-exports the public API.
 *
 * @example
 * ```ts
 * import { openAccelerator } from 'pkaccel';
 * const accel = await openAccelerator(); // the cards found, plus software
 * const keys = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
 * ```
 *
 * @module
 */

import { createNativePlatform } from 'pcie-mmio';
import { Keyctl } from 'pcie-mmio/system';
import * as pkaccelErrors from './core/driver/errors.js';
import { defaultRegistry } from './core/registry/registry.js';
import { brokerDriver } from './drivers/broker/index.js';
import { keyringDriver } from './drivers/keyring/index.js';
import { ringDriver } from './drivers/ring/index.js';
import { softwareDriver } from './drivers/software/index.js';
import { virtioCryptoDriver } from './drivers/virtio-crypto/index.js';
import { windowDriver } from './drivers/window/index.js';
import { simulatorPlatform } from './simulator/platform.js';

export type { ASYMMETRIC_NAMES } from './core/algorithms/suite.js';
// AcceleratorQueue and the core/queue types below: what accel.queue, stats$, events$ and the queue options are typed with.
export type {
  AcceleratorQueue,
  DeviceSelectionOptions,
  DeviceSelectionSource,
} from './core/api/accelerator.js';
export * from './core/api/index.js';
export type { KeyUsages, SecretKeyAlgorithm } from './core/api/types.js';
export * from './core/driver/index.js';
// Types the public ones refer to: the close, integrity and self-test options, the queue pair modes.
export type { IntegrityOptions, SignCheck, VerifyCheck } from './core/integrity/options.js';
export type {
  DeviceSpec,
  DmaAllocateOptions,
  DmaAllocator,
  DmaBuffer,
  Irq,
  IrqSupport,
  Mmio,
  PciConfigSpace,
  PciFunction,
  PciFunctionInfo,
  PciIdentity,
  Platform,
} from './core/platform/index.js';
export { parseDeviceSpec } from './core/platform/index.js';
export type {
  BacklogFullPolicy,
  Counters,
  DeviceStats,
  LatencyStats,
  Percentiles,
  ProcessOptions,
  QueueEvent,
  QueueOptions,
  QueuePairStats,
  QueueStats,
  SubmitOptions,
} from './core/queue/index.js';
export type { CloseOptions } from './core/queue/job-queue.js';
export type { LaneMode } from './core/queue/lane.js';
export type { SelfTestRunner } from './core/queue/options.js';
export {
  type AutoSpecs,
  type DiscoveredFunction,
  type DriverListing,
  defaultRegistry,
  type PlatformListing,
  Registry,
  type RegistryListing,
  registerDriver,
  registerPlatform,
  type SimulatedListing,
} from './core/registry/registry.js';
export type { SelfTestFailure, SelfTestOptions, SelfTestReport } from './core/selftest/device-self-test.js';
export type { KatVector } from './core/selftest/vectors.js';

/**
 * The built-in drivers: one line per device family. Adding a family is a folder
 * in drivers/, its datasheet in docs/hardware/, its model folder in
 * simulator/models/, and one line here; core decides nothing by a driver's name
 * (the fallback provider is the driver whose `role` is `'fallback'`).
 */
const BUILT_IN_DRIVERS = [
  ringDriver,
  virtioCryptoDriver,
  windowDriver,
  softwareDriver,
  brokerDriver,
  keyringDriver(() => new Keyctl(pkaccelErrors)),
];

for (const driver of BUILT_IN_DRIVERS) defaultRegistry.registerDriver(driver);

// The real machine's PCI functions (scheme "pci"), through pcie-mmio; it throws pkaccel's typed errors.
defaultRegistry.registerPlatform(createNativePlatform({ errors: pkaccelErrors }));

// The simulated cards (scheme "sim"): opened when named; `auto` never opens them in a library
// (the CLI adds the ones the simulator offers by default when no card is found, and says so).
defaultRegistry.registerPlatform(simulatorPlatform);
