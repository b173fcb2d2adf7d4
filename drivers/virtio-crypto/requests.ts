/**
 * How each primitive becomes one akcipher data request, and back: which session
 * (key type, padding, hash), which opcode, what the device reads, how long its
 * output is, and how that output becomes the primitive's value. Requests the
 * device cannot express fail here, before the ring.
 */

import {
  DeviceError,
  type HashName,
  InvalidInputError,
  type PkaccelError,
  type PrimitiveRequest,
  type PrimitiveValue,
  UnsupportedError,
} from '../../core/driver/index.js';
import { emsaPkcs1v15Encode } from '../../core/encoding/emsa-pkcs1v15.js';
import { HASH_BYTES } from '../../core/encoding/hashes.js';
import type { Combination } from './crypto-config.js';
import type { SessionParams } from './messages.js';
import { KeyType, Opcode, RsaHash, RsaPadding } from './registers.js';
import type { SessionKey } from './sessions.js';
import { completeShortOutput, type Opening } from './short-output.js';

const HASH_CODES: Readonly<Record<HashName, number>> = {
  'SHA-1': RsaHash.sha1,
  'SHA-256': RsaHash.sha256,
  'SHA-384': RsaHash.sha384,
  'SHA-512': RsaHash.sha512,
};

export interface DataPlan {
  readonly opcode: number;
  readonly key: SessionKey;
  readonly params: SessionParams;
  readonly combination: Combination;
  /** Device-readable payload after the header, in order (VERIFY: signature then digest). */
  readonly payload: readonly Uint8Array[];
  /** The header's src_data_len and dst_data_len. */
  readonly srcLength: number;
  readonly dstLength: number;
  /** Bytes of device-writable output before the status byte (0 for VERIFY). */
  readonly outputLength: number;
  /** Modulus length in bytes (outputs are exactly this long). */
  readonly modulusBytes: number;
  /** What a private-key output opens to with the public key (to complete a truncated one). */
  readonly opening?: Opening;
}

/** A request that needs no device: its answer is known (a verify with a signature of the wrong length). */
export interface ImmediateAnswer {
  readonly immediate: boolean;
}

function modulusBytes(bits: number): number {
  return Math.ceil(bits / 8);
}

export function planRequest(request: PrimitiveRequest): DataPlan | ImmediateAnswer {
  switch (request.op) {
    case 'rsa-sign': {
      if (request.padding.scheme !== 'pkcs1-v1_5')
        throw new UnsupportedError(
          `virtio-crypto signs with PKCS#1 v1.5 only, not ${request.padding.scheme}`,
        );
      const { hash } = request.padding;
      checkDigest(request.digest, hash);
      const k = modulusBytes(request.key.bits);
      return {
        opcode: Opcode.sign,
        key: request.key,
        params: { keyType: KeyType.private, padding: RsaPadding.pkcs1, hash: HASH_CODES[hash] },
        combination: { op: 'rsa-sign', hash },
        payload: [request.digest],
        srcLength: request.digest.length,
        dstLength: k,
        outputLength: k,
        modulusBytes: k,
        opening: {
          key: request.key.publicKey,
          expected: () => emsaPkcs1v15Encode(hash, request.digest, k),
        },
      };
    }
    case 'rsa-verify': {
      if (request.padding.scheme !== 'pkcs1-v1_5')
        throw new UnsupportedError(`virtio-crypto verifies PKCS#1 v1.5 only, not ${request.padding.scheme}`);
      const { hash } = request.padding;
      checkDigest(request.digest, hash);
      const k = modulusBytes(request.key.bits);
      // A signature of the wrong length cannot verify (RFC 8017 8.2.2 step 1); no need to ask the device.
      if (request.signature.length !== k) return { immediate: false };
      return {
        opcode: Opcode.verify,
        key: request.key,
        params: { keyType: KeyType.public, padding: RsaPadding.pkcs1, hash: HASH_CODES[hash] },
        combination: { op: 'rsa-verify', hash },
        payload: [request.signature, request.digest],
        srcLength: request.signature.length,
        dstLength: request.digest.length,
        outputLength: 0,
        modulusBytes: k,
      };
    }
    case 'rsa-public':
    case 'rsa-private': {
      const k = modulusBytes(request.key.bits);
      if (request.input.length !== k)
        throw new InvalidInputError(`${request.op} input is ${request.input.length} bytes, the modulus ${k}`);
      const isPublic = request.op === 'rsa-public';
      return {
        opcode: isPublic ? Opcode.encrypt : Opcode.decrypt,
        key: request.key,
        params: {
          keyType: isPublic ? KeyType.public : KeyType.private,
          padding: RsaPadding.raw,
          hash: RsaHash.none,
        },
        combination: { op: request.op },
        payload: [request.input],
        srcLength: k,
        dstLength: k,
        outputLength: k,
        modulusBytes: k,
        opening: isPublic ? undefined : { key: request.key.publicKey, expected: () => request.input },
      };
    }
    default:
      throw new UnsupportedError(`virtio-crypto does not do ${request.op}`);
  }
}

function checkDigest(digest: Uint8Array, hash: HashName): void {
  if (digest.length !== HASH_BYTES[hash])
    throw new InvalidInputError(`a ${hash} digest is ${HASH_BYTES[hash]} bytes, got ${digest.length}`);
}

/**
 * The primitive's value from what the device wrote before the status byte: `true`
 * for a verify that ran clean, else the integer mod n in modulus-length bytes. A
 * device may write fewer bytes, never more; a short output is completed by
 * ./short-output.ts (a minimal encoding is left-padded; QEMU 7.2's truncated copy
 * has its lost last byte found with the public key) or is a DeviceError.
 */
export function decodeOutput(
  plan: DataPlan,
  output: Uint8Array,
  device: string,
): PrimitiveValue | PkaccelError {
  if (plan.outputLength === 0) return true;
  if (output.length > plan.modulusBytes || output.length === 0)
    return new DeviceError(
      `virtio-crypto ${device} returned ${output.length} bytes for a ${plan.modulusBytes}-byte modulus`,
      { device },
    );
  if (output.length === plan.modulusBytes) return Uint8Array.from(output);
  const value = completeShortOutput(output, plan.modulusBytes, plan.opening);
  if (value instanceof Uint8Array) return value;
  const message = `virtio-crypto ${device} returned ${value.reason} for a ${plan.modulusBytes}-byte modulus`;
  return value.fault ? new DeviceError(message, { device }) : new UnsupportedError(message, { device });
}
