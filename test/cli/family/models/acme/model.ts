/**
 * `sim:acme`: the ACME X1 as the simulator makes it — its PCI identity (what the
 * acme driver's match table claims) and a read-only ID register at BAR 0 offset 0.
 * The test driver computes on the host, so the card needs nothing more.
 */

import type { DeviceModel, ModelDefinition, ModelHost, ModelLayout } from '../../../../../simulator/model.js';
import { ACME_IDS } from '../../driver.js';
import { acmeFamily } from './family.js';

/** BAR 0 offset 0: vendor ID in the high half, device ID in the low half. */
export const ACME_ID_REGISTER = 0x000;

function layout(): ModelLayout {
  return {
    identity: { ...ACME_IDS, subsystemVendorId: 0, subsystemDeviceId: 0, classCode: 0x108000, revision: 1 },
    bars: { 0: { size: 4096 } },
    irq: { kind: 'none', vectors: 0 },
    dmaArenaBytes: 0,
  };
}

class AcmeModel implements DeviceModel {
  readonly layout = layout();
  constructor(private readonly host: ModelHost) {}
  reset(): void {
    this.host.bar(0).setUint32(ACME_ID_REGISTER, ((ACME_IDS.vendorId << 16) | ACME_IDS.deviceId) >>> 0, true);
  }
  onWrite(): void {
    // No writable registers.
  }
}

const definition: ModelDefinition = {
  name: acmeFamily.name,
  layout,
  create: (host) => new AcmeModel(host),
};

export default definition;
