export { BrokerDevice } from './device.js';
export { BROKER_OPTIONS, brokerDriver } from './driver.js';
export type { BrokerClientStats, BrokerDeviceStats, BrokerStats } from './protocol.js';
export { defaultSocketPath } from './socket-path.js';
export { type ReadBrokerStatsOptions, readBrokerStats } from './stats.js';
