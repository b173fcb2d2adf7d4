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
  /** Bytes received and not yet parsed, kept as chunks until a whole frame (or header) is there. */
  #chunks: Buffer[] = [];
  #length = 0;
  /** How many bytes must be pending before parsing can make progress (a large body arrives in many chunks). */
  #need = 1;
  #version: number | undefined;
  /** The client's version byte, once it has arrived. */
  get clientVersion(): number | undefined {
    return this.#version;
  }
  /** Feed bytes; returns the complete frames now available (the version byte is not one). */
  push(chunk: Uint8Array): RpcFrame[] {
    // Nothing kept and whole frames here (a request per read, the usual case): parse the chunk
    // where it is. Kept input is our own copy, cleared once consumed.
    const inPlace = this.#chunks.length === 0 && chunk.length >= this.#need;
    if (!inPlace) {
      this.#chunks.push(Buffer.from(chunk));
      this.#length += chunk.length;
      if (this.#length < this.#need) return [];
    }
    const pending = inPlace
      ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
      : this.#chunks.length === 1
        ? this.#chunks[0]!
        : Buffer.concat(this.#chunks);
    const frames: RpcFrame[] = [];
    let at = 0;
    if (this.#version === undefined) {
      this.#version = pending[0]!;
      at = 1;
    }
    this.#need = 12;
    while (pending.length - at >= 12) {
      const code = pending.readUInt32BE(at);
      const optionsLength = pending.readUInt32BE(at + 4);
      const bodyLength = pending.readUInt32BE(at + 8);
      if (optionsLength > MAX_OPTIONS)
        throw new RpcFormatError(`frame options of ${optionsLength} bytes (at most ${MAX_OPTIONS})`);
      if (bodyLength > MAX_BODY)
        throw new RpcFormatError(`frame body of ${bodyLength} bytes (at most ${MAX_BODY})`);
      const end = at + 12 + optionsLength + bodyLength;
      if (pending.length < end) {
        this.#need = end - at;
        break;
      }
      const options = pending.subarray(at + 12, at + 12 + optionsLength);
      const body = pending.subarray(at + 12 + optionsLength, end);
      // Copies: our input is cleared below, the caller's is its own (typed-array copies, not from()'s iteration).
      frames.push({ code, options: new Uint8Array(options), body: new Uint8Array(body) });
      at = end;
    }
    const rest = at === pending.length ? undefined : Buffer.from(pending.subarray(at));
    // Consumed bytes may hold a PIN or data to sign: clear our copy of them (a chunk parsed in
    // place is the caller's, which it holds and drops as before).
    if (!inPlace) pending.fill(0, 0, at);
    this.#chunks = rest === undefined ? [] : [rest];
    this.#length = rest?.length ?? 0;
    return frames;
  }
  /** Drop buffered input (the connection is closing). */
  clear(): void {
    for (const c of this.#chunks) c.fill(0);
    this.#chunks = [];
    this.#length = 0;
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
