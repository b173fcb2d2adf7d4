/**
 * The token's mechanisms and what each needs from the devices. A mechanism is
 * offered while some device in service can run one of the primitives it is
 * composed from (core/algorithms composes padded forms over raw RSA and ECDSA
 * over point multiplication), with the key sizes those devices take. CKF_HW is
 * set when a device other than the software provider covers it.
 *
 * Not offered: CKM_RSA_PKCS decryption (RSAES-PKCS1-v1_5, padding oracles —
 * pkaccel offers it nowhere; use OAEP), and CKM_RSA_X_509 unless the server was
 * started with raw RSA allowed (raw private-key RSA signs or decrypts anything).
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

const m = (type: number, name: string, use: MechanismForm): MechanismDef => ({ type, name, use });

export const MECHANISMS: readonly MechanismDef[] = [
  m(CKM.RSA_PKCS, 'RSA_PKCS', { key: 'rsa', form: 'pkcs1' }),
  m(CKM.RSA_X_509, 'RSA_X_509', { key: 'rsa', form: 'raw' }),
  m(CKM.SHA1_RSA_PKCS, 'SHA1_RSA_PKCS', { key: 'rsa', form: 'pkcs1', hash: 'SHA-1' }),
  m(CKM.SHA256_RSA_PKCS, 'SHA256_RSA_PKCS', { key: 'rsa', form: 'pkcs1', hash: 'SHA-256' }),
  m(CKM.SHA384_RSA_PKCS, 'SHA384_RSA_PKCS', { key: 'rsa', form: 'pkcs1', hash: 'SHA-384' }),
  m(CKM.SHA512_RSA_PKCS, 'SHA512_RSA_PKCS', { key: 'rsa', form: 'pkcs1', hash: 'SHA-512' }),
  m(CKM.RSA_PKCS_PSS, 'RSA_PKCS_PSS', { key: 'rsa', form: 'pss' }),
  m(CKM.SHA1_RSA_PKCS_PSS, 'SHA1_RSA_PKCS_PSS', { key: 'rsa', form: 'pss', hash: 'SHA-1' }),
  m(CKM.SHA256_RSA_PKCS_PSS, 'SHA256_RSA_PKCS_PSS', { key: 'rsa', form: 'pss', hash: 'SHA-256' }),
  m(CKM.SHA384_RSA_PKCS_PSS, 'SHA384_RSA_PKCS_PSS', { key: 'rsa', form: 'pss', hash: 'SHA-384' }),
  m(CKM.SHA512_RSA_PKCS_PSS, 'SHA512_RSA_PKCS_PSS', { key: 'rsa', form: 'pss', hash: 'SHA-512' }),
  m(CKM.RSA_PKCS_OAEP, 'RSA_PKCS_OAEP', { key: 'rsa', form: 'oaep' }),
  m(CKM.ECDSA, 'ECDSA', { key: 'ec', form: 'ecdsa' }),
  m(CKM.ECDSA_SHA1, 'ECDSA_SHA1', { key: 'ec', form: 'ecdsa', hash: 'SHA-1' }),
  m(CKM.ECDSA_SHA256, 'ECDSA_SHA256', { key: 'ec', form: 'ecdsa', hash: 'SHA-256' }),
  m(CKM.ECDSA_SHA384, 'ECDSA_SHA384', { key: 'ec', form: 'ecdsa', hash: 'SHA-384' }),
  m(CKM.ECDSA_SHA512, 'ECDSA_SHA512', { key: 'ec', form: 'ecdsa', hash: 'SHA-512' }),
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

/** The mechanism's info over the devices in service, or undefined when none can do it. */
export function mechanismInfo(
  def: MechanismDef,
  devices: readonly DeviceCaps[],
  allowRawRsa: boolean,
): MechanismInfo | undefined {
  if (def.use.form === 'raw' && !allowRawRsa) return undefined;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let hw = false;
  for (const device of devices) {
    if (device.state !== 'ready') continue;
    for (const cap of device.capabilities) {
      if (!covers(cap, def)) continue;
      if (def.use.key === 'rsa') {
        min = Math.min(min, cap.modulusBits?.min ?? RSA_MODULUS_BITS.min);
        max = Math.max(max, cap.modulusBits?.max ?? RSA_MODULUS_BITS.max);
      } else {
        const bits = (cap.curves ?? (['P-256', 'P-384', 'P-521'] as const)).map((c) => CURVE_BITS[c]);
        if (bits.length === 0) continue;
        min = Math.min(min, ...bits);
        max = Math.max(max, ...bits);
      }
      if (device.driver !== 'software') hw = true;
    }
  }
  if (max === 0) return undefined;
  return { minKeySize: min, maxKeySize: max, flags: flagsFor(def.use) | (hw ? CKF_MECH.HW : 0) };
}

/** Every mechanism some device in service can do now, in the table's order. */
export function availableMechanisms(devices: readonly DeviceCaps[], allowRawRsa: boolean): MechanismDef[] {
  return MECHANISMS.filter((def) => mechanismInfo(def, devices, allowRawRsa) !== undefined);
}
