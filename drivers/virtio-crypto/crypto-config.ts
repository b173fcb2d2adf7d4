/**
 * The crypto device's configuration (§5.9.4) and the capability list derived
 * from it, refined at run time by what the device refuses.
 */

import type { Capability, HashName } from '../../core/driver/index.js';
import type { BarRegion } from './bar-region.js';
import { AkcipherAlgo, CommonCfg, CryptoCfg, Service, VIRTIO_CRYPTO_S_HW_READY } from './registers.js';

export interface CryptoConfig {
  readonly hwReady: boolean;
  readonly maxDataQueues: number;
  readonly services: number;
  readonly akcipherAlgos: number;
  readonly maxSize: bigint;
}

/** Read the device configuration consistently: retry while config_generation changes under us (§4.1.4.3.1). */
export function readCryptoConfig(common: BarRegion, device: BarRegion): CryptoConfig {
  for (let attempt = 0; attempt < 8; attempt++) {
    const before = common.read8(CommonCfg.configGeneration);
    const config = {
      hwReady: (device.read32(CryptoCfg.status) & VIRTIO_CRYPTO_S_HW_READY) !== 0,
      maxDataQueues: device.read32(CryptoCfg.maxDataQueues),
      services: device.read32(CryptoCfg.cryptoServices),
      akcipherAlgos: device.length >= CryptoCfg.akcipherAlgo + 4 ? device.read32(CryptoCfg.akcipherAlgo) : 0,
      maxSize:
        device.length >= CryptoCfg.size
          ? BigInt(device.read32(CryptoCfg.maxSize)) | (BigInt(device.read32(CryptoCfg.maxSize + 4)) << 32n)
          : 0n,
    };
    if (common.read8(CommonCfg.configGeneration) === before) return config;
  }
  throw new Error('virtio-crypto: device configuration kept changing while being read');
}

/** Modulus sizes this driver sizes its buffers for. */
export const MODULUS_BITS = { min: 1024, max: 4096 } as const;
/** The hashes the device can add a DigestInfo for, among those pkaccel names. */
export const SPEC_HASHES: readonly HashName[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];

/** One thing the device may refuse although the spec allows it. */
export type Combination =
  | { readonly op: 'rsa-sign' | 'rsa-verify'; readonly hash: HashName }
  | { readonly op: 'rsa-public' | 'rsa-private' };

export function combinationKey(c: Combination): string {
  return 'hash' in c ? `${c.op}/${c.hash}` : c.op;
}

/**
 * What the device does: RSA when the config lists the akcipher service and RSA,
 * minus the combinations it has refused. A refusal is believed only for a
 * combination that has never worked on this device (QEMU reports an unsupported
 * hash as a plain ERR, the same status as a bad key).
 */
export class CapabilityBook {
  readonly rsa: boolean;
  readonly #refused = new Set<string>();
  readonly #confirmed = new Set<string>();
  #list: readonly Capability[];

  constructor(config: CryptoConfig) {
    this.rsa =
      (config.services & (1 << Service.akcipher)) !== 0 &&
      (config.akcipherAlgos & (1 << AkcipherAlgo.rsa)) !== 0;
    this.#list = this.#build();
  }

  get list(): readonly Capability[] {
    return this.#list;
  }

  confirm(c: Combination): void {
    this.#confirmed.add(combinationKey(c));
  }

  /** Whether this combination has worked before (so a failure is about the key or input, not the device). */
  confirmed(c: Combination): boolean {
    return this.#confirmed.has(combinationKey(c));
  }

  /** Record a refusal; returns true if the capability list changed. */
  refuse(c: Combination): boolean {
    const key = combinationKey(c);
    if (this.#confirmed.has(key) || this.#refused.has(key)) return false;
    this.#refused.add(key);
    this.#list = this.#build();
    return true;
  }

  #build(): Capability[] {
    if (!this.rsa) return [];
    const caps: Capability[] = [];
    for (const op of ['rsa-sign', 'rsa-verify'] as const) {
      const hashes = SPEC_HASHES.filter((hash) => !this.#refused.has(combinationKey({ op, hash })));
      if (hashes.length > 0) caps.push({ op, modulusBits: MODULUS_BITS, paddings: ['pkcs1-v1_5'], hashes });
    }
    for (const op of ['rsa-public', 'rsa-private'] as const)
      if (!this.#refused.has(op)) caps.push({ op, modulusBits: MODULUS_BITS });
    return caps;
  }
}
