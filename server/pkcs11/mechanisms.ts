/**
 * The token's mechanisms and what each needs from the devices. A mechanism is
 * offered while some device in service can run one of the primitives it is
 * composed from (core/algorithms composes padded forms over raw RSA and ECDSA
 * over point multiplication), with the key sizes those devices take. CKF_HW is
 * set when a device other than the software provider covers it.
 *
 * CKM_RSA_PKCS decrypts (RSAES-PKCS1-v1_5) only with implicit rejection: raw RSA
 * on a device, the padding decoded on the host, and a bad padding answered with a
 * synthetic message instead of an error (core/algorithms/rsaes-pkcs1-implicit), so
 * the token is no padding oracle. That needs a device doing raw RSA and a key whose
 * rejection secret was derived at load; without both, CKF_DECRYPT is not set.
 * CKM_RSA_X_509 is offered only when the server was started with raw RSA allowed
 * (raw private-key RSA signs or decrypts anything).
 */

import type { Capability, HashName, PrimitiveOp } from '../../index.js';
import { RSA_MODULUS_BITS } from '../../index.js';
import { CKF_MECH, CKM } from './constants.js';

/** How a mechanism treats its input. */
export type MechanismForm =
  /** RSASSA-PKCS1-v1_5: with `hash`, hash the data; without, the data is a DigestInfo (or any short T). */
  | { readonly key: 'rsa'; readonly form: 'pkcs1'; readonly hash?: HashName }
  /** RSASSA-PSS: with `hash`, hash the data; without, the data is the hash the parameters name. */
  | { readonly key: 'rsa'; readonly form: 'pss'; readonly hash?: HashName }
  | { readonly key: 'rsa'; readonly form: 'oaep' }
  | { readonly key: 'rsa'; readonly form: 'raw' }
  /** ECDSA: with `hash`, hash the data; without, the data is a hash (truncated to the order). */
  | { readonly key: 'ec'; readonly form: 'ecdsa'; readonly hash?: HashName };

export interface MechanismDef {
  readonly type: number;
  readonly name: string;
  readonly use: MechanismForm;
}

/** The hash-and-sign families, by hash: SHAx_RSA_PKCS, SHAx_RSA_PKCS_PSS, ECDSA_SHAx. */
const HASHED: readonly (readonly [HashName, number, number, number])[] = [
  ['SHA-1', CKM.SHA1_RSA_PKCS, CKM.SHA1_RSA_PKCS_PSS, CKM.ECDSA_SHA1],
  ['SHA-256', CKM.SHA256_RSA_PKCS, CKM.SHA256_RSA_PKCS_PSS, CKM.ECDSA_SHA256],
  ['SHA-384', CKM.SHA384_RSA_PKCS, CKM.SHA384_RSA_PKCS_PSS, CKM.ECDSA_SHA384],
  ['SHA-512', CKM.SHA512_RSA_PKCS, CKM.SHA512_RSA_PKCS_PSS, CKM.ECDSA_SHA512],
];

export const MECHANISMS: readonly MechanismDef[] = [
  { type: CKM.RSA_PKCS, name: 'RSA_PKCS', use: { key: 'rsa', form: 'pkcs1' } },
  { type: CKM.RSA_X_509, name: 'RSA_X_509', use: { key: 'rsa', form: 'raw' } },
  { type: CKM.RSA_PKCS_PSS, name: 'RSA_PKCS_PSS', use: { key: 'rsa', form: 'pss' } },
  { type: CKM.RSA_PKCS_OAEP, name: 'RSA_PKCS_OAEP', use: { key: 'rsa', form: 'oaep' } },
  { type: CKM.ECDSA, name: 'ECDSA', use: { key: 'ec', form: 'ecdsa' } },
  ...HASHED.flatMap(([hash, pkcs1, pss, ecdsa]): MechanismDef[] => {
    const sha = hash.replace('-', '');
    return [
      { type: pkcs1, name: `${sha}_RSA_PKCS`, use: { key: 'rsa', form: 'pkcs1', hash } },
      { type: pss, name: `${sha}_RSA_PKCS_PSS`, use: { key: 'rsa', form: 'pss', hash } },
      { type: ecdsa, name: `ECDSA_${sha}`, use: { key: 'ec', form: 'ecdsa', hash } },
    ];
  }),
];

const BY_TYPE = new Map(MECHANISMS.map((d) => [d.type, d]));

export function mechanismDef(type: number): MechanismDef | undefined {
  return BY_TYPE.get(type);
}

/** The primitives that can carry a form (the first: done whole by a device; the rest: composed). */
function primitivesFor(use: MechanismForm): PrimitiveOp[] {
  switch (use.form) {
    case 'pkcs1':
    case 'pss':
      return ['rsa-sign', 'rsa-private'];
    case 'oaep':
      return ['rsa-decrypt', 'rsa-private'];
    case 'raw':
      return ['rsa-private'];
    case 'ecdsa':
      return ['ecdsa-sign', 'ec-mul'];
  }
}

function flagsFor(use: MechanismForm): number {
  if (use.form === 'oaep') return CKF_MECH.DECRYPT;
  if (use.form === 'raw') return CKF_MECH.SIGN | CKF_MECH.VERIFY | CKF_MECH.DECRYPT;
  if (use.form === 'ecdsa')
    return (
      CKF_MECH.SIGN | CKF_MECH.VERIFY | CKF_MECH.EC_F_P | CKF_MECH.EC_NAMEDCURVE | CKF_MECH.EC_UNCOMPRESS
    );
  return CKF_MECH.SIGN | CKF_MECH.VERIFY;
}

/** What the token's configuration and keys allow beyond the devices' capabilities. */
export interface MechanismPolicy {
  /** CKM_RSA_X_509 (raw private-key RSA) is offered. */
  readonly allowRawRsa: boolean;
  /** Some RSA key has a rejection secret: CKM_RSA_PKCS may decrypt (with implicit rejection). */
  readonly pkcs1Decrypt: boolean;
}

/** A device as the mechanism list sees it: its driver name, state and capabilities. */
export interface DeviceCaps {
  readonly driver: string;
  readonly state: string;
  readonly capabilities: readonly Capability[];
}

export interface MechanismInfo {
  readonly minKeySize: number;
  readonly maxKeySize: number;
  readonly flags: number;
}

const CURVE_BITS = { 'P-256': 256, 'P-384': 384, 'P-521': 521 } as const;

function covers(cap: Capability, def: MechanismDef): boolean {
  if (!primitivesFor(def.use).includes(cap.op)) return false;
  // A device that pads itself must do this padding (raw alternatives need no padding).
  if (cap.op === 'rsa-sign' || cap.op === 'rsa-decrypt') {
    const scheme = def.use.form === 'oaep' ? 'oaep' : def.use.form === 'pss' ? 'pss' : 'pkcs1-v1_5';
    return cap.paddings === undefined || cap.paddings.includes(scheme);
  }
  return true;
}

/** The flags one capability gives the mechanism (0: it does not cover it). */
function capabilityFlags(cap: Capability, def: MechanismDef, policy: MechanismPolicy): number {
  if (!covers(cap, def)) return 0;
  const flags = flagsFor(def.use);
  // CKM_RSA_PKCS decryption: implicit rejection decodes on the host, so raw RSA only.
  const decrypts =
    def.use.form === 'pkcs1' && def.use.hash === undefined && cap.op === 'rsa-private' && policy.pkcs1Decrypt;
  return decrypts ? flags | CKF_MECH.DECRYPT : flags;
}

/** The mechanism's info over the devices in service, or undefined when none can do it. */
export function mechanismInfo(
  def: MechanismDef,
  devices: readonly DeviceCaps[],
  policy: MechanismPolicy,
): MechanismInfo | undefined {
  if (def.use.form === 'raw' && !policy.allowRawRsa) return undefined;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let flags = 0;
  let hw = false;
  for (const device of devices) {
    if (device.state !== 'ready') continue;
    for (const cap of device.capabilities) {
      const given = capabilityFlags(cap, def, policy);
      if (given === 0) continue;
      if (def.use.key === 'rsa') {
        min = Math.min(min, cap.modulusBits?.min ?? RSA_MODULUS_BITS.min);
        max = Math.max(max, cap.modulusBits?.max ?? RSA_MODULUS_BITS.max);
      } else {
        const bits = (cap.curves ?? (['P-256', 'P-384', 'P-521'] as const)).map((c) => CURVE_BITS[c]);
        if (bits.length === 0) continue;
        min = Math.min(min, ...bits);
        max = Math.max(max, ...bits);
      }
      flags |= given;
      if (device.driver !== 'software') hw = true;
    }
  }
  if (max === 0) return undefined;
  return { minKeySize: min, maxKeySize: max, flags: flags | (hw ? CKF_MECH.HW : 0) };
}

/** Every mechanism some device in service can do now, in the table's order. */
export function availableMechanisms(devices: readonly DeviceCaps[], policy: MechanismPolicy): MechanismDef[] {
  return MECHANISMS.filter((def) => mechanismInfo(def, devices, policy) !== undefined);
}
