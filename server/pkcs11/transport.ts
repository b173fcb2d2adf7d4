/**
 * p11-kit's RPC transport (p11-kit/rpc-transport.c) on a stream socket: one
 * version byte each way, then frames of `u32 code, u32 options length, u32 body
 * length`, options, body (big-endian). The client numbers its requests (`code`)
 * and the reply echoes it. Oversized lengths are format errors: the connection
 * closes before the server buffers them.
 */

import { RpcFormatError } from './codec.js';

/** The protocol version this server speaks (p11-kit 0.24's only one; 0.26 falls back to it). */
export const PROTOCOL_VERSION = 0;
/** Bounds on what a client may send in one frame. */
export const MAX_OPTIONS = 4096;
export const MAX_BODY = 16 * 1024 * 1024;

export interface RpcFrame {
  readonly code: number;
  readonly options: Uint8Array;
  readonly body: Uint8Array;
}

/**
 * Splits the byte stream of one connection into the version byte and frames.
 * Keeps partial input between pushes; throws RpcFormatError on a bad header.
 */
export class FrameSplitter {
  #pending: Buffer = Buffer.alloc(0);
  #version: number | undefined;
  /** The client's version byte, once it has arrived. */
  get clientVersion(): number | undefined {
    return this.#version;
  }
  /** Feed bytes; returns the complete frames now available (the version byte is not one). */
  push(chunk: Uint8Array): RpcFrame[] {
    this.#pending = this.#pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk]);
    const frames: RpcFrame[] = [];
    let at = 0;
    if (this.#version === undefined && this.#pending.length > 0) {
      this.#version = this.#pending[0]!;
      at = 1;
    }
    while (this.#pending.length - at >= 12) {
      const code = this.#pending.readUInt32BE(at);
      const optionsLength = this.#pending.readUInt32BE(at + 4);
      const bodyLength = this.#pending.readUInt32BE(at + 8);
      if (optionsLength > MAX_OPTIONS)
        throw new RpcFormatError(`frame options of ${optionsLength} bytes (at most ${MAX_OPTIONS})`);
      if (bodyLength > MAX_BODY)
        throw new RpcFormatError(`frame body of ${bodyLength} bytes (at most ${MAX_BODY})`);
      const end = at + 12 + optionsLength + bodyLength;
      if (this.#pending.length < end) break;
      const options = this.#pending.subarray(at + 12, at + 12 + optionsLength);
      const body = this.#pending.subarray(at + 12 + optionsLength, end);
      frames.push({ code, options: Uint8Array.from(options), body: Uint8Array.from(body) });
      at = end;
    }
    this.#pending = at === 0 ? this.#pending : Buffer.from(this.#pending.subarray(at));
    return frames;
  }
  /** Drop buffered input (the connection is closing). */
  clear(): void {
    this.#pending.fill(0);
    this.#pending = Buffer.alloc(0);
  }
}

/** A reply frame: header (no options) + body. */
export function encodeFrame(code: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + body.length);
  out.writeUInt32BE(code >>> 0, 0);
  out.writeUInt32BE(0, 4);
  out.writeUInt32BE(body.length, 8);
  out.set(body, 12);
  return out;
}
