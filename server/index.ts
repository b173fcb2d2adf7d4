/** The broker daemon for embedding: `serve()` (the `pkaccel serve` command is cli/commands/serve.ts). */

export {
  type BrokerClientStats,
  type BrokerDeviceStats,
  type BrokerStats,
  type ReadBrokerStatsOptions,
  readBrokerStats,
} from '../drivers/broker/index.js';
export { type Broker, type ClientInfo, type ServeOptions, serve } from './broker.js';
export { type NamedKeySpec, parseNamedKey } from './named-keys.js';
