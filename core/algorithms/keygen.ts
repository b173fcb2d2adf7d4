/**
 * Key generation, on any accelerator:
 * - the device's keygen primitive first;
 * - EC keys: a random scalar d made here, and d·G by the device — its scalar
 *   multiplication (ec-mul), or its ECDH with the base point as the peer (which
 *   returns only x; a second ECDH with d+1 tells which of the two points with that
 *   x is d·G);
 * - RSA keys: generated on the host with node:crypto (prime generation is not a
 *   card primitive here) when no device generates them, and then held by the
 *   device like an imported key — only if some device can use an RSA private key;
 * - otherwise an UnsupportedError that says what to add (`software`, or
 *   `softwareFallback: true`).
 */

import { generateKeyPair as nodeGenerateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { Alternative } from '../driver/device.js';
import { DeviceError, InvalidInputError, throwIfAborted, UnsupportedError } from '../driver/errors.js';
import type { KeygenSpec, PrimitiveExecutor } from '../driver/index.js';
import {
  EcPrivateKeyMaterial,
  type EcPublicKeyMaterial,
  type KeyPairMaterial,
  RSA_MODULUS_BITS,
  RsaPrivateKeyMaterial,
} from '../driver/keys.js';
import { bytesToBigint } from '../encoding/bytes.js';
import { ecAdd, generator, isOnCurve } from '../math/ec.js';
import { mod, modSqrt } from '../math/modular.js';
import { checkDevicePoint, curveParams } from './ec-keys.js';
import { randomScalar } from './nonce.js';
import type { Options } from './params.js';
import { bytesResult, keyPairResult, pointResult } from './results.js';

const generateOnHost = promisify(nodeGenerateKeyPair);

/** What to tell a caller whose accelerator cannot make a key. */
const ADD_A_DEVICE = 'open the accelerator with "software" in its devices, or with softwareFallback: true';

/** Check a keygen spec's parameters (WebCrypto: OperationError) before any work. */
export function checkKeygenSpec(spec: KeygenSpec): void {
  if (spec.kind === 'rsa') {
    if (
      !Number.isInteger(spec.bits) ||
      spec.bits < RSA_MODULUS_BITS.min ||
      spec.bits > RSA_MODULUS_BITS.max
    ) {
      throw new InvalidInputError(
        `RSA key size ${spec.bits} is outside ${RSA_MODULUS_BITS.min}–${RSA_MODULUS_BITS.max} bits`,
      );
    }
    if (spec.publicExponent < 3n || (spec.publicExponent & 1n) === 0n) {
      throw new InvalidInputError('RSA public exponent must be odd and at least 3');
    }
  } else if (spec.kind === 'ec') {
    curveParams(spec.curve);
  } else if (spec.curve !== 'Ed25519' && spec.curve !== 'X25519') {
    throw new InvalidInputError(`unknown curve ${String(spec.curve)}`);
  }
}

/** What came back must be the kind of key asked for (and an EC public point must be on its curve). */
function checkKeyPair(spec: KeygenSpec, pair: KeyPairMaterial, device: string): KeyPairMaterial {
  const key = pair.privateKey;
  const ok =
    pair.kind === spec.kind &&
    (spec.kind === 'rsa'
      ? key.kind === 'rsa-private' && key.bits === spec.bits && key.e === spec.publicExponent
      : spec.kind === 'ec'
        ? key.kind === 'ec-private' &&
          key.curve === spec.curve &&
          isOnCurve(curveParams(spec.curve), key.publicKey)
        : key.kind === 'okp-private' && key.curve === spec.curve);
  if (!ok) throw new DeviceError(`device ${device} generated a key other than the one asked for`, { device });
  return pair;
}

export async function generateKeyPair(
  exec: PrimitiveExecutor,
  spec: KeygenSpec,
  options?: Options,
): Promise<KeyPairMaterial> {
  throwIfAborted(options?.signal);
  checkKeygenSpec(spec);
  const alternatives: Alternative[] = [{ op: 'keygen', spec }];
  let d = 0n;
  if (spec.kind === 'ec') {
    const curve = curveParams(spec.curve);
    const G = generator(curve);
    const base: EcPublicKeyMaterial = { kind: 'ec-public', curve: spec.curve, x: G.x, y: G.y };
    alternatives.push(
      {
        probe: { op: 'ec-mul', curve: spec.curve, scalar: 1n },
        build: () => {
          d = randomScalar(curve);
          return { op: 'ec-mul', curve: spec.curve, scalar: d };
        },
      },
      {
        probe: { op: 'ecdh', key: new EcPrivateKeyMaterial(spec.curve, 1n, base), peer: base },
        build: () => {
          d = randomScalar(curve);
          return { op: 'ecdh', key: new EcPrivateKeyMaterial(spec.curve, d, base), peer: base };
        },
      },
    );
  }
  if (spec.kind === 'rsa' && !exec.supports({ op: 'keygen', spec })) return rsaOnHost(exec, spec, options);
  if (!alternatives.some((a) => exec.supports('probe' in a ? a.probe : a)))
    throw new UnsupportedError(`no open device can generate a ${describe(spec)} key: ${ADD_A_DEVICE}`);
  const result = await exec.runFirst(alternatives, { signal: options?.signal });
  if (result.index === 0) return checkKeyPair(spec, keyPairResult(result), result.device);
  if (spec.kind !== 'ec') throw new DeviceError('keygen ran an alternative that does not exist');
  const curve = curveParams(spec.curve);
  let Q: { x: bigint; y: bigint };
  if (result.index === 1) {
    Q = pointResult(result);
    checkDevicePoint(curve, Q, result.device);
  } else
    Q = await pointFromEcdh(
      exec,
      curve,
      d,
      bytesToBigint(bytesResult(result, curve.bytes)),
      result.device,
      options,
    );
  const publicKey = { kind: 'ec-public', curve: spec.curve, x: Q.x, y: Q.y } as const;
  return { kind: 'ec', privateKey: new EcPrivateKeyMaterial(spec.curve, d, publicKey) };
}

function describe(spec: KeygenSpec): string {
  return spec.kind === 'rsa' ? `${spec.bits}-bit RSA` : spec.curve;
}

/**
 * d·G from x = x(d·G), which an ECDH with the base point returns: the two points
 * with that x are ±d·G; x((d+1)·G), from a second ECDH, is x(d·G + G), which
 * tells them apart. A value that matches neither is the device's fault.
 */
async function pointFromEcdh(
  exec: PrimitiveExecutor,
  curve: ReturnType<typeof curveParams>,
  d: bigint,
  x: bigint,
  device: string,
  options?: Options,
): Promise<{ x: bigint; y: bigint }> {
  const y = modSqrt(mod(x * x * x + curve.a * x + curve.b, curve.p), curve.p);
  if (y === null)
    throw new DeviceError(`device ${device} returned an x that is on no point of ${curve.name}`, { device });
  const plus = { x, y };
  const minus = { x, y: mod(-y, curve.p) };
  const G = generator(curve);
  const next = mod(d + 1n, curve.n);
  const base: EcPublicKeyMaterial = { kind: 'ec-public', curve: curve.name, x: G.x, y: G.y };
  const key = new EcPrivateKeyMaterial(curve.name, next, {
    kind: 'ec-public',
    curve: curve.name,
    ...(ecAdd(curve, plus, G) ?? G),
  });
  const x2 = bytesToBigint(await exec.run({ op: 'ecdh', key, peer: base }, { signal: options?.signal }));
  for (const candidate of [plus, minus]) {
    const sum = ecAdd(curve, candidate, G);
    if (sum !== null && sum.x === x2 && isOnCurve(curve, candidate)) return candidate;
  }
  throw new DeviceError(`device ${device} returned ECDH results that disagree with each other`, { device });
}

/** RSA keys generated on the host (node:crypto), held by the devices from then on like imported keys. */
async function rsaOnHost(
  exec: PrimitiveExecutor,
  spec: Extract<KeygenSpec, { kind: 'rsa' }>,
  options?: Options,
): Promise<KeyPairMaterial> {
  // Some device must be able to use the private key, or the key would be useless here.
  const probe = new RsaPrivateKeyMaterial(
    (1n << BigInt(spec.bits)) - 1n,
    spec.publicExponent,
    1n,
    1n,
    1n,
    1n,
    1n,
    1n,
  );
  const k = Math.ceil(spec.bits / 8);
  const usable =
    exec.supports({ op: 'rsa-private', key: probe, input: new Uint8Array(k) }) ||
    exec.supports({
      op: 'rsa-sign',
      key: probe,
      padding: { scheme: 'pkcs1-v1_5', hash: 'SHA-256' },
      digest: new Uint8Array(32),
    });
  if (!usable)
    throw new UnsupportedError(`no open device can use a ${spec.bits}-bit RSA private key: ${ADD_A_DEVICE}`);
  if (spec.publicExponent > 0xffffffffn)
    throw new InvalidInputError('RSA public exponent must fit in 32 bits');
  let jwk: {
    n?: string;
    e?: string;
    d?: string;
    p?: string;
    q?: string;
    dp?: string;
    dq?: string;
    qi?: string;
  };
  try {
    const { privateKey } = await generateOnHost('rsa', {
      modulusLength: spec.bits,
      publicExponent: Number(spec.publicExponent),
    });
    jwk = privateKey.export({ format: 'jwk' });
  } catch (error) {
    throw new InvalidInputError(`RSA key generation on the host failed for ${spec.bits} bits`, {
      cause: error,
    });
  }
  throwIfAborted(options?.signal);
  const n = (v: string | undefined) => bytesToBigint(Buffer.from(v ?? '', 'base64url'));
  const key = new RsaPrivateKeyMaterial(
    n(jwk.n),
    n(jwk.e),
    n(jwk.d),
    n(jwk.p),
    n(jwk.q),
    n(jwk.dp),
    n(jwk.dq),
    n(jwk.qi),
  );
  return checkKeyPair(spec, { kind: 'rsa', privateKey: key }, 'host');
}
