/** The PKR-1 ring card driver (docs/hardware/ring-card.md; folder layout in README.md). Re-exports only. */
export { capabilitiesOf, identify, RingDevice, type RingIdentity } from './device.js';
export { RING_DRIVER_PRIORITY, RING_PROBE_OPTIONS, ringDriver, ringOptions } from './driver.js';
export { KeySlotManager } from './key-slots.js';
export { RingQueuePair } from './queue-pair.js';
