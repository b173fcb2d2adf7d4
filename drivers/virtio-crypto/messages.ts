/**
 * Encoders of the akcipher control and data requests, in the padded session-mode
 * layout (no REVISION_1) that QEMU and Linux use: a 72-byte device-readable header.
 */

import { Opcode, REQUEST_HEADER_SIZE } from './registers.js';

/** What a session is created for: one key, one key type, one padding and hash. */
export interface SessionParams {
  readonly keyType: number;
  readonly padding: number;
  readonly hash: number;
}

export function sessionParamsKey(p: SessionParams): string {
  return `${p.keyType}/${p.padding}/${p.hash}`;
}

function header(target: Uint8Array): DataView {
  target.fill(0, 0, REQUEST_HEADER_SIZE);
  return new DataView(target.buffer, target.byteOffset, REQUEST_HEADER_SIZE);
}

/** virtio_crypto_op_ctrl_req for AKCIPHER_CREATE_SESSION, RSA (§5.9.7.2.1.3 in the akcipher drafts). */
export function encodeCreateSession(target: Uint8Array, params: SessionParams, keyLength: number): void {
  const v = header(target);
  v.setUint32(0, Opcode.createSession, true);
  v.setUint32(4, 1, true); // header.algo = RSA (QEMU reads para.algo; Linux and DPDK set both)
  v.setUint32(16, 1, true); // para.algo = RSA
  v.setUint32(20, params.keyType, true);
  v.setUint32(24, keyLength, true);
  v.setUint32(28, params.padding, true);
  v.setUint32(32, params.hash, true);
}

export function encodeDestroySession(target: Uint8Array, sessionId: bigint): void {
  const v = header(target);
  v.setUint32(0, Opcode.destroySession, true);
  v.setUint32(4, 1, true);
  v.setBigUint64(16, sessionId, true);
}

/** virtio_crypto_op_data_req header for an akcipher operation in session mode. */
export function encodeDataHeader(
  target: Uint8Array,
  opcode: number,
  sessionId: bigint,
  srcLength: number,
  dstLength: number,
): void {
  const v = header(target);
  v.setUint32(0, opcode, true);
  v.setUint32(4, 1, true);
  v.setBigUint64(8, sessionId, true);
  v.setUint32(24, srcLength, true);
  v.setUint32(28, dstLength, true);
}
