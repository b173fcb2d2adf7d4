/** The window card driver (docs/hardware/window-card.md). */
export { capabilitiesOf, identify, WindowDevice } from './device.js';
export { WINDOW_DRIVER_PRIORITY, windowDriver } from './driver.js';
