/**
 * ECDSA (FIPS 186-5 §6.4) over whatever the devices offer: the device's own
 * ECDSA first, scalar multiplication with the rest done here second.
 *
 * The composed signing path does s = k⁻¹(e + r·d) mod n with bigint on this
 * thread, which is not constant-time: it is for cards that only multiply
 * points; the software provider signs with OpenSSL.
 */

import { bigintToBytes, bytesToBigint } from '../driver/bytes.js';
import type { CurveParams } from '../driver/curves.js';
import type { Alternative } from '../driver/device.js';
import { DeviceError, throwIfAborted } from '../driver/errors.js';
import type { PrimitiveExecutor } from '../driver/index.js';
import type { EcPrivateKeyMaterial, EcPublicKeyMaterial, HashName } from '../driver/keys.js';
import { ecAdd } from '../math/ec.js';
import { mod, modInv } from '../math/modular.js';
import { checkDevicePoint, curveParams, validateEcPublicKey } from './ec-keys.js';
import { derToP1363, encodeDer, encodeP1363, parseDer, parseP1363 } from './ecdsa-encoding.js';
import { digest, HASH_BYTES } from './hash.js';
import { randomScalar } from './nonce.js';
import type { EcdsaSignatureFormat, Options } from './params.js';
import { booleanResult, bytesResult, pointResult } from './results.js';

/**
 * The digest as the device takes it: the leftmost orderBits bits of the hash
 * (P-256 with SHA-512 keeps the first 256 bits), as a big-endian byte string of
 * at most the order's byte length.
 */
export function ecdsaDigest(curve: CurveParams, hash: HashName, message: Uint8Array): Uint8Array {
  const h = digest(hash, message);
  const hashBits = 8 * HASH_BYTES[hash];
  if (hashBits <= curve.orderBits) return h;
  const e = bytesToBigint(h) >> BigInt(hashBits - curve.orderBits);
  return bigintToBytes(e, Math.ceil(curve.orderBits / 8));
}

/** Retries when r or s comes out 0 (probability about 2/n each); more than a few means a broken device. */
const MAX_SIGN_ATTEMPTS = 8;

export async function ecdsaSign(
  exec: PrimitiveExecutor,
  key: EcPrivateKeyMaterial,
  hash: HashName,
  message: Uint8Array,
  format: EcdsaSignatureFormat,
  options?: Options,
): Promise<Uint8Array> {
  throwIfAborted(options?.signal);
  const curve = curveParams(key.curve);
  const eBytes = ecdsaDigest(curve, hash, message);
  const e = bytesToBigint(eBytes);
  const { n } = curve;
  for (let attempt = 0; attempt < MAX_SIGN_ATTEMPTS; attempt++) {
    let nonce = 0n;
    const alternatives: Alternative[] = [
      { op: 'ecdsa-sign', key, digest: eBytes },
      {
        probe: { op: 'ec-mul', curve: key.curve, scalar: 1n },
        build: () => {
          nonce = randomScalar(curve);
          return { op: 'ec-mul', curve: key.curve, scalar: nonce };
        },
      },
    ];
    const result = await exec.runFirst(alternatives, { signal: options?.signal });
    if (result.index === 0) {
      const rs = parseP1363(bytesResult(result, 2 * curve.bytes), curve.bytes)!;
      if (rs.r < 1n || rs.r >= n || rs.s < 1n || rs.s >= n) {
        throw new DeviceError(`device ${result.device} returned an ECDSA signature out of range`, {
          device: result.device,
        });
      }
      return format === 'der' ? encodeDer(rs.r, rs.s) : encodeP1363(rs.r, rs.s, curve.bytes);
    }
    const R = pointResult(result);
    checkDevicePoint(curve, R, result.device);
    const r = mod(R.x, n);
    if (r === 0n) continue;
    const s = mod(modInv(nonce, n) * (e + r * key.d), n);
    if (s === 0n) continue;
    return format === 'der' ? encodeDer(r, s) : encodeP1363(r, s, curve.bytes);
  }
  throw new DeviceError(
    'ECDSA signing kept producing r = 0 or s = 0; the device multiplying points is suspect',
  );
}

export async function ecdsaVerify(
  exec: PrimitiveExecutor,
  key: EcPublicKeyMaterial,
  hash: HashName,
  message: Uint8Array,
  signature: Uint8Array,
  format: EcdsaSignatureFormat,
  options?: Options,
): Promise<boolean> {
  throwIfAborted(options?.signal);
  validateEcPublicKey(key);
  const curve = curveParams(key.curve);
  const { n } = curve;
  const rs = format === 'der' ? parseDer(signature) : parseP1363(signature, curve.bytes);
  if (rs === null) return false;
  const { r, s } = rs;
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  const eBytes = ecdsaDigest(curve, hash, message);
  const p1363 = format === 'der' ? derToP1363(signature, curve.bytes)! : signature;
  const w = modInv(s, n);
  const u1 = mod(bytesToBigint(eBytes) * w, n);
  const u2 = mod(r * w, n);
  const Q = { x: key.x, y: key.y };
  // u2 = r·w is never 0, so u2·Q is a finite point any ec-mul device can return;
  // u1 is 0 when e ≡ 0 (mod n), and then u1·G is the identity, not asked for.
  const result = await exec.runFirst(
    [
      { op: 'ecdsa-verify', key, digest: eBytes, signature: p1363 },
      { op: 'ec-mul', curve: key.curve, scalar: u2, point: Q },
    ],
    { signal: options?.signal },
  );
  if (result.index === 0) return booleanResult(result);
  const uQ = pointResult(result);
  checkDevicePoint(curve, uQ, result.device);
  let sum = uQ;
  if (u1 !== 0n) {
    const uG = await exec.run({ op: 'ec-mul', curve: key.curve, scalar: u1 }, { signal: options?.signal });
    checkDevicePoint(curve, uG, 'that ran u1·G');
    const total = ecAdd(curve, uG, uQ);
    if (total === null) return false;
    sum = total;
  }
  return mod(sum.x, n) === r;
}
