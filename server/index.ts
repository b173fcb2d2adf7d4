/**
 * The broker daemon for embedding: `serve()` (the `pkaccel serve` command is cli/commands/serve.ts),
 * and the PKCS#11 token over p11-kit's RPC on its own: `servePkcs11()` (docs/pkcs11.md).
 */

export {
  type BrokerClientStats,
  type BrokerDeviceStats,
  type BrokerStats,
  type ReadBrokerStatsOptions,
  readBrokerStats,
} from '../drivers/broker/index.js';
export { type Broker, type ClientInfo, type ServeOptions, serve } from './broker.js';
export {
  loadNamedKey,
  type NamedKey,
  type NamedKeySpec,
  namedKeyPermits,
  parseNamedKey,
} from './named-keys.js';
export {
  defaultPkcs11Path,
  type Pkcs11Accelerator,
  type Pkcs11Server,
  type Pkcs11ServerOptions,
  servePkcs11,
} from './pkcs11/index.js';
export { readPinFile } from './pkcs11/pin.js';
