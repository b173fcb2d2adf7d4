/**
 * Named keys the broker loads itself: `--key name=/path/key.pk8[:uids=1000,1001][:gids=27]`.
 * PKCS#8, PEM or DER. With neither uids nor gids, only the broker's own uid (and
 * root) may open the key.
 */

import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rejectionSecret } from '../core/algorithms/rsaes-pkcs1-implicit.js';
import {
  type EcCurveName,
  EcPrivateKeyMaterial,
  InvalidInputError,
  OkpPrivateKeyMaterial,
  type PrivateKeyMaterial,
  RsaPrivateKeyMaterial,
} from '../index.js';

export interface NamedKeySpec {
  readonly name: string;
  readonly path: string;
  readonly uids: readonly number[];
  readonly gids: readonly number[];
}

export interface NamedKey extends NamedKeySpec {
  readonly material: PrivateKeyMaterial;
  /**
   * RSA keys loaded from a file: SHA-256(I2OSP(d, k)), derived here once, the secret
   * that RSAES-PKCS1-v1_5 decryption with implicit rejection derives every synthetic
   * message from (core/algorithms/rsaes-pkcs1-implicit). A key without it (one whose
   * d the host never sees) is not offered for that decryption (server/pkcs11).
   */
  readonly rejectionSecret?: Uint8Array;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

function ids(text: string, what: string): number[] {
  return text
    .split(',')
    .filter((s) => s !== '')
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new InvalidInputError(`--key: bad ${what} "${s}"`);
      return n;
    });
}

/**
 * The named-key ACL, for every server that hands named keys out (the broker's
 * `open`, the PKCS#11 token's objects): the listed uids and gids; with neither,
 * only the broker's own uid, and root.
 */
export function namedKeyPermits(key: NamedKeySpec, uid: number, gid: number): boolean {
  if (key.uids.length === 0 && key.gids.length === 0) return uid === process.getuid?.() || uid === 0;
  return key.uids.includes(uid) || key.gids.includes(gid);
}

/** Parse `name=/path[:uids=..][:gids=..]`. */
export function parseNamedKey(text: string): NamedKeySpec {
  const eq = text.indexOf('=');
  if (eq <= 0)
    throw new InvalidInputError(`--key "${text}": expected name=/path/key.pk8[:uids=..][:gids=..]`);
  const name = text.slice(0, eq);
  if (!NAME.test(name)) throw new InvalidInputError(`--key: bad name "${name}" (letters, digits, . _ -)`);
  const parts = text.slice(eq + 1).split(':');
  const path = parts[0] ?? '';
  if (path === '') throw new InvalidInputError(`--key ${name}: no path`);
  let uids: number[] = [];
  let gids: number[] = [];
  for (const part of parts.slice(1)) {
    if (part.startsWith('uids=')) uids = ids(part.slice(5), 'uid');
    else if (part.startsWith('gids=')) gids = ids(part.slice(5), 'gid');
    else throw new InvalidInputError(`--key ${name}: unknown option "${part}" (uids=, gids=)`);
  }
  return { name, path, uids, gids };
}

function b64(value: unknown): bigint {
  if (typeof value !== 'string') throw new InvalidInputError('key component missing');
  const hex = Buffer.from(value, 'base64url').toString('hex');
  return hex === '' ? 0n : BigInt(`0x${hex}`);
}

/** Load a PKCS#8 private key into key material. */
export function loadNamedKey(spec: NamedKeySpec): NamedKey {
  const data = readFileSync(spec.path);
  const pem = data.subarray(0, 11).toString('latin1') === '-----BEGIN ';
  const key = createPrivateKey(
    pem ? { key: data, format: 'pem' } : { key: data, format: 'der', type: 'pkcs8' },
  );
  data.fill(0);
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>;
  let material: PrivateKeyMaterial;
  if (jwk.kty === 'RSA') {
    material = new RsaPrivateKeyMaterial(
      b64(jwk.n),
      b64(jwk.e),
      b64(jwk.d),
      b64(jwk.p),
      b64(jwk.q),
      b64(jwk.dp),
      b64(jwk.dq),
      b64(jwk.qi),
    );
  } else if (jwk.kty === 'EC') {
    const curve = jwk.crv as EcCurveName;
    if (curve !== 'P-256' && curve !== 'P-384' && curve !== 'P-521')
      throw new InvalidInputError(`--key ${spec.name}: curve ${String(jwk.crv)} is not supported`);
    material = new EcPrivateKeyMaterial(curve, b64(jwk.d), {
      kind: 'ec-public',
      curve,
      x: b64(jwk.x),
      y: b64(jwk.y),
    });
  } else if (jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'X25519')) {
    const curve = jwk.crv;
    material = new OkpPrivateKeyMaterial(curve, Buffer.from(jwk.d as string, 'base64url'), {
      kind: 'okp-public',
      curve,
      x: Buffer.from(jwk.x as string, 'base64url'),
    });
  } else throw new InvalidInputError(`--key ${spec.name}: unsupported key type ${String(jwk.kty)}`);
  return material.kind === 'rsa-private'
    ? { ...spec, material, rejectionSecret: rejectionSecret(material) }
    : { ...spec, material };
}
