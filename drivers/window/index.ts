/** The window card driver (docs/hardware/window-card.md). Re-exports only. */
export { capabilitiesOf, identify, WindowDevice } from './device.js';
export { WINDOW_DRIVER_PRIORITY, WINDOW_PROBE_OPTIONS, windowDriver } from './driver.js';
