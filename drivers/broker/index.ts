export { BrokerDevice } from './device.js';
export { BROKER_OPTIONS, brokerDriver } from './driver.js';
export { defaultSocketPath } from './socket-path.js';
