/** The PKR-1 ring card driver (docs/hardware/ring-card.md). */
export { capabilitiesOf, identify, RingDevice } from './device.js';
export { RING_DRIVER_PRIORITY, ringDriver } from './driver.js';
export { KeySlotManager } from './key-slots.js';
export { RingQueuePair } from './queue-pair.js';
