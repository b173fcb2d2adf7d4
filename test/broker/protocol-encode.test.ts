/**
 * encodeFrames' buffers (drivers/broker/protocol.ts): writeFrame stores every byte of
 * every frame, so a buffer that was not zeroed (node's pooled Buffer.allocUnsafe) carries
 * nothing but the frames; a batch with a private key gets an ArrayBuffer of its own
 * (the writer zeroes it once the socket has taken it, and no other buffer shares it).
 */

import { describe, expect, it } from 'vitest';
import {
  encodeFrames,
  encodeOk,
  encodeRequest,
  type Frame,
  FrameReader,
  frameBytes,
  writeFrame,
} from '../../drivers/broker/protocol.js';
import { newEcKey, newRsaKey } from '../support/keys.js';

const ec = newEcKey('P-256');
const rsa = newRsaKey(2048);

function frames(): Frame[] {
  const digest = new Uint8Array(32).fill(9);
  return [
    encodeRequest(1, { op: 'ecdsa-sign', key: ec.material, digest }, () => undefined),
    encodeRequest(
      2,
      { op: 'ecdsa-verify', key: ec.material.publicKey, digest, signature: new Uint8Array(64).fill(1) },
      () => new Uint8Array(16).fill(0xaa),
    ),
    encodeRequest(3, { op: 'rsa-private', key: rsa.material, input: new Uint8Array(256).fill(2) }, () =>
      new Uint8Array(16).fill(0x5c),
    ),
    encodeOk(
      4,
      'ecdsa-verify',
      true,
      { kind: 'ecdsa-verify', x: new Uint8Array(32).fill(0x5b) },
      undefined,
      true,
    ),
    encodeOk(5, 'ecdsa-sign', new Uint8Array(64).fill(7), undefined),
  ];
}

describe('encodeFrames buffers', () => {
  it('writeFrame stores every byte: over a buffer of 0xff the same bytes as over zeros', () => {
    for (const f of frames()) {
      const zeros = new Uint8Array(frameBytes(f));
      const dirty = new Uint8Array(frameBytes(f)).fill(0xff);
      expect(writeFrame(f, zeros, 0)).toBe(zeros.length);
      expect(writeFrame(f, dirty, 0)).toBe(dirty.length);
      expect(Buffer.from(dirty).equals(Buffer.from(zeros))).toBe(true);
    }
  });

  it('a batch with a private key has an ArrayBuffer of its own; others may be pooled; both decode', () => {
    const all = frames();
    const secret = encodeFrames(all);
    expect(secret.byteOffset).toBe(0);
    expect(secret.buffer.byteLength).toBe(secret.length);
    const publicOnly = all.filter((f) => f.keyKind !== 4);
    expect(publicOnly.length).toBe(all.length - 1);
    const plain = encodeFrames(publicOnly);
    // The handle of a held key is not key material: frame 3 names its key by handle.
    const parsed = new FrameReader().push(plain);
    expect(parsed.map((f) => f.tag)).toEqual([2, 3, 4, 5]);
    expect(parsed.map((f) => f.flags)).toEqual(publicOnly.map((f) => f.flags));
    expect(Buffer.from(parsed[1]!.handle).equals(Buffer.alloc(16, 0x5c))).toBe(true);
    expect(new FrameReader().push(secret).map((f) => f.tag)).toEqual([1, 2, 3, 4, 5]);
  });
});
