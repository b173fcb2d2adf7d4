/**
 * The frame codec (drivers/broker/protocol.ts): every primitive request and its
 * completion survive encode → bytes → FrameReader → decode; the reader splits
 * frames at any chunk boundary; bad magic, unknown types, a reserved byte and an
 * oversized payload are protocol errors.
 */

import * as nc from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeOk,
  decodeRequest,
  encodeFrames,
  encodeOk,
  encodeRequest,
  FrameReader,
  HEADER_BYTES,
  MAX_PAYLOAD,
  ProtocolError,
} from '../../drivers/broker/protocol.js';
import {
  EcPrivateKeyMaterial,
  OkpPrivateKeyMaterial,
  type PrimitiveRequest,
  RsaPrivateKeyMaterial,
} from '../../index.js';

const big = (s: unknown) => BigInt(`0x${Buffer.from(s as string, 'base64url').toString('hex')}`);

function keys() {
  const r = nc.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
  const rsa = new RsaPrivateKeyMaterial(
    big(r.n),
    big(r.e),
    big(r.d),
    big(r.p),
    big(r.q),
    big(r.dp),
    big(r.dq),
    big(r.qi),
  );
  const e = nc.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
  const ec = new EcPrivateKeyMaterial('P-384', big(e.d), {
    kind: 'ec-public',
    curve: 'P-384',
    x: big(e.x),
    y: big(e.y),
  });
  const o = nc.generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const okp = new OkpPrivateKeyMaterial('Ed25519', Buffer.from(o.d!, 'base64url'), {
    kind: 'okp-public',
    curve: 'Ed25519',
    x: Buffer.from(o.x!, 'base64url'),
  });
  return { rsa, ec, okp };
}

/** Structural comparison that ignores key-object identity and class (material compared field by field). */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return `0x${value.toString(16)}`;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort())
      if (k !== 'id') out[k] = plain((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

function roundTrip(request: PrimitiveRequest): PrimitiveRequest {
  const bytes = encodeFrames([encodeRequest(77, request, () => undefined)]);
  const reader = new FrameReader();
  const frames = [];
  // Feed in odd-sized chunks: frames are reassembled across any boundary.
  for (let at = 0; at < bytes.length; at += 7) frames.push(...reader.push(bytes.subarray(at, at + 7)));
  expect(frames).toHaveLength(1);
  expect(frames[0]!.tag).toBe(77);
  return decodeRequest(frames[0]!, () => {
    throw new Error('no held keys here');
  });
}

describe('broker protocol', () => {
  const { rsa, ec, okp } = keys();
  const pss = { scheme: 'pss', hash: 'SHA-256', mgfHash: 'SHA-256', saltLength: 32 } as const;
  const oaep = { scheme: 'oaep', hash: 'SHA-384', mgfHash: 'SHA-1', label: new Uint8Array([1, 2]) } as const;
  const d32 = new Uint8Array(32).fill(3);
  const requests: PrimitiveRequest[] = [
    { op: 'rsa-public', key: rsa.publicKey, input: new Uint8Array(128).fill(1) },
    { op: 'rsa-private', key: rsa, input: new Uint8Array(128).fill(2) },
    {
      op: 'rsa-sign',
      key: rsa,
      padding: pss,
      digest: d32,
      message: { hash: 'SHA-256', data: new Uint8Array([9]) },
    },
    {
      op: 'rsa-verify',
      key: rsa.publicKey,
      padding: { scheme: 'pkcs1-v1_5', hash: 'SHA-512' },
      digest: d32,
      signature: new Uint8Array(128),
    },
    { op: 'rsa-encrypt', key: rsa.publicKey, padding: oaep, input: d32 },
    { op: 'rsa-decrypt', key: rsa, padding: oaep, input: new Uint8Array(128).fill(4) },
    { op: 'ecdsa-sign', key: ec, digest: new Uint8Array(48).fill(5) },
    { op: 'ecdsa-verify', key: ec.publicKey, digest: d32, signature: new Uint8Array(96).fill(6) },
    { op: 'ec-mul', curve: 'P-384', scalar: 12345n },
    { op: 'ec-mul', curve: 'P-384', scalar: ec, point: { x: ec.publicKey.x, y: ec.publicKey.y } },
    { op: 'ecdh', key: ec, peer: ec.publicKey },
    { op: 'eddsa-sign', key: okp, message: new Uint8Array([1, 2, 3]) },
    { op: 'eddsa-verify', key: okp.publicKey, message: new Uint8Array([1]), signature: new Uint8Array(64) },
    { op: 'keygen', spec: { kind: 'rsa', bits: 2048, publicExponent: 65537n } },
    { op: 'keygen', spec: { kind: 'ec', curve: 'P-521' } },
  ];
  for (const request of requests)
    it(`carries ${request.op}${request.op === 'keygen' ? ` ${request.spec.kind}` : ''} unchanged`, () => {
      expect(plain(roundTrip(request))).toEqual(plain(request));
    });

  it('carries values and witnesses in completions', () => {
    const cases = [
      { op: 'rsa-private', value: new Uint8Array([1, 2, 3]), witness: undefined },
      { op: 'ecdsa-verify', value: true, witness: { kind: 'ecdsa-verify', x: new Uint8Array(32).fill(99) } },
      { op: 'ecdsa-verify', value: false, witness: { kind: 'ecdsa-verify', x: null } },
      { op: 'rsa-verify', value: true, witness: { kind: 'rsa-verify', opened: new Uint8Array([7, 7]) } },
      { op: 'ecdh', value: new Uint8Array(32).fill(1), witness: { kind: 'ecdh-point', y: 5n } },
      { op: 'ec-mul', value: { x: 1n, y: 2n }, witness: undefined },
      { op: 'keygen', value: { kind: 'ec', privateKey: ec }, witness: undefined },
    ] as const;
    for (const c of cases) {
      const bytes = encodeFrames([encodeOk(5, c.op, c.value as never, c.witness as never, 48)]);
      const [frame] = new FrameReader().push(bytes);
      const out = decodeOk(frame!, c.op);
      expect(plain(out.value)).toEqual(plain(c.value));
      expect(plain(out.witness)).toEqual(plain(c.witness));
    }
  });

  it('gives a completion its own copy of the value and the opened witness, not views into the read buffer', () => {
    const value = new Uint8Array(256).fill(3);
    const opened = new Uint8Array(256).fill(4);
    const chunk = Buffer.from(encodeFrames([encodeOk(5, 'rsa-private', value, undefined, 48)]));
    const [frame] = new FrameReader().push(chunk);
    const out = decodeOk(frame!, 'rsa-private').value as Uint8Array;
    chunk.fill(0);
    expect(out).toEqual(value);
    expect(out.byteLength).toBe(out.buffer.byteLength);
    const verdict = Buffer.from(
      encodeFrames([encodeOk(6, 'rsa-verify', true, { kind: 'rsa-verify', opened }, 48)]),
    );
    const [vf] = new FrameReader().push(verdict);
    const witness = decodeOk(vf!, 'rsa-verify').witness as { opened: Uint8Array };
    verdict.fill(0);
    expect(witness.opened).toEqual(opened);
  });

  it('refuses bad magic, unknown types, a reserved byte and an oversized payload', () => {
    const good = encodeFrames([encodeRequest(1, requests[0]!, () => undefined)]);
    const mutate = (at: number, value: number) => {
      const b = Uint8Array.from(good);
      b[at] = value;
      return b;
    };
    expect(() => new FrameReader().push(mutate(0, 0))).toThrow(ProtocolError);
    expect(() => new FrameReader().push(mutate(4, 9))).toThrow(ProtocolError);
    expect(() => new FrameReader().push(mutate(35, 1))).toThrow(ProtocolError);
    const big = Uint8Array.from(good);
    new DataView(big.buffer).setUint32(44, MAX_PAYLOAD + 1);
    expect(() => new FrameReader().push(big.subarray(0, HEADER_BYTES))).toThrow(/over/);
    // A field of the wrong length for its key layout is refused when decoded.
    const short = encodeRequest(1, requests[6]!, () => undefined);
    short.fields[0] = short.fields[0].subarray(0, 10);
    const [frame] = new FrameReader().push(encodeFrames([short]));
    expect(() => decodeRequest(frame!, () => ec)).toThrow(ProtocolError);
  });
});
