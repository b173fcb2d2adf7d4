/**
 * The RPC codec against the byte layouts of p11-kit's encoding
 * (/work/shared/reference/p11-kit-rpc.md, p11-kit/rpc-message.c): each field
 * written by hand as the client writes it, decoded by the server's reader, and
 * the server's writer producing exactly the bytes a client reads.
 */

import { describe, expect, it } from 'vitest';
import { attributeValueType } from '../../server/pkcs11/attribute-types.js';
import { servedCall } from '../../server/pkcs11/calls.js';
import { type RpcAttribute, RpcFormatError, RpcReader, RpcWriter } from '../../server/pkcs11/codec.js';
import { errorReply, parseRequest, Reply } from '../../server/pkcs11/message.js';
import { encodeFrame, FrameSplitter, MAX_BODY } from '../../server/pkcs11/transport.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A request body as the client writes it: call id, signature as a byte array, fields. */
function body(callId: number, signature: string, fields: string): Uint8Array {
  const sig = Buffer.from(signature, 'latin1').toString('hex');
  return hex(
    `${callId.toString(16).padStart(8, '0')} ${signature.length.toString(16).padStart(8, '0')} ${sig} ${fields}`,
  );
}

describe('field encodings', () => {
  it('u: a CK_ULONG is a big-endian u64', () => {
    expect(toHex(new RpcWriter().u64(0x1234).bytes())).toBe('0000000000001234');
    expect(new RpcReader(hex('0000000000001234')).ulong()).toBe(0x1234);
    // "Unavailable" is all ones; too big for a handle, it reads as -1 (matches nothing).
    expect(new RpcReader(hex('ffffffffffffffff')).ulong()).toBe(-1);
  });

  it('byte arrays: u32 length + data; NULL is 0xFFFFFFFF', () => {
    expect(toHex(new RpcWriter().byteArray(hex('abcd')).bytes())).toBe('00000002abcd');
    expect(toHex(new RpcWriter().byteArray(null).bytes())).toBe('ffffffff');
    expect(new RpcReader(hex('ffffffff')).byteArray()).toBeNull();
    expect(toHex(new RpcReader(hex('00000002abcd')).byteArray()!)).toBe('abcd');
  });

  it('ay: present byte, u32 length, data only when present', () => {
    expect(toHex(new RpcWriter().presentBytes({ data: hex('0102') }).bytes())).toBe(
      '010000000201 02'.replace(' ', ''),
    );
    // A size-query answer: not present, the needed length.
    expect(toHex(new RpcWriter().presentBytes({ data: null, length: 256 }).bytes())).toBe('0000000100');
    expect(new RpcReader(hex('0000000100')).presentBytes()).toEqual({ data: null, length: 256 });
    expect(() => new RpcReader(hex('0200000000')).presentBytes()).toThrow(RpcFormatError);
  });

  it('au: present byte, u32 count, count u64s', () => {
    expect(toHex(new RpcWriter().ulongArray([1, 0x1041]).bytes())).toBe(
      '01 00000002 0000000000000001 0000000000001041'.replace(/ /g, ''),
    );
    expect(toHex(new RpcWriter().ulongArray({ length: 3, only: 'length' }).bytes())).toBe('0000000003');
  });

  it('s: a space-padded field of exactly the given length', () => {
    const w = new RpcWriter().paddedString('pkaccel', 16).bytes();
    expect(toHex(w)).toBe(`00000010${Buffer.from('pkaccel         ').toString('hex')}`);
    // Never longer than the field, and a multi-byte character is not cut in half.
    const long = new RpcWriter().paddedString('ééééééééé', 16).bytes();
    expect(long.length).toBe(4 + 16);
    expect(Buffer.from(long.subarray(4)).toString('utf8')).toBe('éééééééé');
  });

  it('v: CK_VERSION is two bytes', () => {
    expect(toHex(new RpcWriter().version(2, 40).bytes())).toBe('0228');
  });
});

describe('attributes', () => {
  it('follow the client value-type table', () => {
    expect(attributeValueType(0x0)).toBe('ulong'); // CLASS
    expect(attributeValueType(0x121)).toBe('ulong'); // MODULUS_BITS
    expect(attributeValueType(0x108)).toBe('byte'); // SIGN
    expect(attributeValueType(0x202)).toBe('byte'); // ALWAYS_AUTHENTICATE
    expect(attributeValueType(0x3)).toBe('bytes'); // LABEL
    expect(attributeValueType(0x181)).toBe('bytes'); // EC_POINT
    expect(attributeValueType(0x40000211)).toBe('attributes'); // WRAP_TEMPLATE
    expect(attributeValueType(0x40000600)).toBe('mechanisms'); // ALLOWED_MECHANISMS
    expect(attributeValueType(0x110)).toBe('date'); // START_DATE
    expect(attributeValueType(0x8000_1234)).toBe('bytes'); // vendor-defined: byte array
  });

  it('aA as the client writes a FindObjectsInit template decodes', () => {
    // [CLASS = CKO_PRIVATE_KEY (u64), SIGN = true (1 byte), LABEL = "ec" (byte array)]
    const bytes = hex(`00000003
      00000000 01 00000008 0000000000000003
      00000108 01 00000001 01
      00000003 01 00000002 00000002 6563`);
    const attrs = new RpcReader(bytes).attributeArray();
    expect(attrs).toEqual([
      { type: 0, length: 8, value: { kind: 'ulong', value: 3 } },
      { type: 0x108, length: 1, value: { kind: 'byte', value: 1 } },
      { type: 3, length: 2, value: { kind: 'bytes', value: hex('6563') } },
    ]);
    // The server writes the same bytes back.
    expect(toHex(new RpcWriter().attributeArray(attrs).bytes())).toBe(toHex(bytes));
  });

  it('an invalid attribute is type + 00; a size answer carries 0xFFFFFFFF for a byte array', () => {
    const list: RpcAttribute[] = [
      { type: 0x123, length: -1 },
      { type: 0x120, length: 256, value: { kind: 'bytes', value: null } },
      { type: 0x0, length: 8, value: { kind: 'ulong', value: 0 } },
    ];
    const bytes = new RpcWriter().attributeArray(list).bytes();
    expect(toHex(bytes)).toBe(
      '00000003 00000123 00 00000120 01 00000100 ffffffff 00000000 01 00000008 0000000000000000'.replace(
        / /g,
        '',
      ),
    );
    expect(new RpcReader(bytes).attributeArray()).toEqual(list);
  });

  it('nested templates, mechanism lists and dates round-trip', () => {
    const list: RpcAttribute[] = [
      {
        type: 0x40000211,
        length: 24,
        value: { kind: 'attributes', value: [{ type: 0x108, length: 1, value: { kind: 'byte', value: 1 } }] },
      },
      { type: 0x40000600, length: 16, value: { kind: 'mechanisms', value: [1, 0x1041] } },
      { type: 0x110, length: 8, value: { kind: 'bytes', value: Buffer.from('20261207') } },
    ];
    const bytes = new RpcWriter().attributeArray(list).bytes();
    expect(new RpcReader(bytes).attributeArray()).toEqual(
      list.map((a) =>
        a.type === 0x110
          ? { ...a, value: { kind: 'bytes', value: hex(Buffer.from('20261207').toString('hex')) } }
          : a,
      ),
    );
  });

  it('refuses counts the message cannot hold and dates of the wrong size', () => {
    expect(() => new RpcReader(hex('7fffffff 00000000')).attributeArray()).toThrow(RpcFormatError);
    expect(() =>
      new RpcReader(hex('00000001 00000110 01 00000003 00000003 010203')).attributeArray(),
    ).toThrow(RpcFormatError);
    expect(() => new RpcReader(hex('00000001 00000003 01 00000004 00000004 01')).attributeArray()).toThrow(
      /ends/,
    );
  });
});

/** The arguments of a served request body (its call id and signature checked). */
function served(callId: number, signature: string, fields: string) {
  const request = parseRequest(body(callId, signature, fields));
  if ('unserved' in request) throw new Error(`call ${callId} is served`);
  return request;
}

describe('messages', () => {
  it('a request is call id, signature byte array, fields — checked against the call table', () => {
    const request = served(
      42,
      'uMu',
      '0000000000000001 0000000d 0000000000000250 0000000000000002 0000000000000020 0000000000000005',
    );
    expect(request.call.name).toBe('C_SignInit');
    expect(request.args.read('u')).toBe(1);
    expect(request.args.mechanism(8)).toEqual({ type: 0xd, kind: 'pss', hashAlg: 0x250, mgf: 2, sLen: 32 });
    expect(request.args.read('u')).toBe(5);
    request.args.end();
  });

  it('OAEP parameters, a parameterless mechanism and one this server does not decode', () => {
    const oaep = served(
      33,
      'uMu',
      '0000000000000001 00000009 0000000000000250 0000000000000002 0000000000000001 00000003 616263 0000000000000007',
    );
    oaep.args.read('u');
    expect(oaep.args.mechanism(8)).toEqual({
      type: 9,
      kind: 'oaep',
      hashAlg: 0x250,
      mgf: 2,
      source: 1,
      sourceData: hex('616263'),
    });
    const plain = served(42, 'uMu', '0000000000000001 00000001 ffffffff 0000000000000007');
    plain.args.read('u');
    expect(plain.args.mechanism(8)).toEqual({ type: 1, kind: 'bytes', param: null });
    // CKM_AES_GCM's parameter (byte array, u64, byte array, u64) is skipped up to the key handle.
    const gcm = served(
      42,
      'uMu',
      '0000000000000001 00001087 0000000c 000000000000000000000000 0000000000000060 ffffffff 0000000000000080 0000000000000007',
    );
    gcm.args.read('u');
    expect(gcm.args.mechanism(8)).toEqual({ type: 0x1087, kind: 'other' });
    expect(gcm.args.read('u')).toBe(7);
    gcm.args.end();
  });

  it('a wrong signature or bytes after the last field are format errors; unserved calls are recognised', () => {
    expect(() => parseRequest(body(43, 'uay', '0000000000000001 00 00000000'))).toThrow(/signature "uay"/);
    const extra = served(11, 'u', '0000000000000001 ff');
    extra.args.read('u');
    expect(() => extra.args.end()).toThrow(/1 bytes after/);
    expect(parseRequest(body(59, 'uMaAaA', ''))).toEqual({ unserved: 59 });
    expect(parseRequest(body(200, '', ''))).toEqual({ unserved: 200 });
  });

  it('replies: call id, reply signature, fields; an error reply is id 0, "u", the CK_RV', () => {
    expect(toHex(errorReply(0xa0))).toBe('00000000 00000001 75 00000000000000a0'.replace(/ /g, ''));
    const sign = new Reply(servedCall(43)!).put('ay', { data: null, length: 256 }).body();
    expect(toHex(sign)).toBe('0000002b 00000002 6179 00 00000100'.replace(/ /g, ''));
    // A handler that writes out of its signature's order is caught, not sent.
    expect(() => new Reply(servedCall(43)!).put('u', 1)).toThrow(/"ay", not "u"/);
    expect(() => new Reply(servedCall(5)!).put('s', 'x', 64).body()).toThrow(/incomplete/);
  });
});

describe('transport', () => {
  it('version byte first, then frames split across any chunking', () => {
    const frame = Buffer.concat([encodeFrame(0x10, hex('01020304')), encodeFrame(0x11, hex(''))]);
    expect(toHex(frame.subarray(0, 12))).toBe('000000100000000000000004');
    const stream = Buffer.concat([Uint8Array.of(0), frame]);
    const splitter = new FrameSplitter();
    const got = [];
    for (let i = 0; i < stream.length; i += 5) got.push(...splitter.push(stream.subarray(i, i + 5)));
    expect(splitter.clientVersion).toBe(0);
    expect(got.map((f) => [f.code, toHex(f.body)])).toEqual([
      [0x10, '01020304'],
      [0x11, ''],
    ]);
  });

  it('a 1 MiB body arriving in 1 KiB chunks is one frame, byte for byte', () => {
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const stream = Buffer.concat([Uint8Array.of(0), encodeFrame(0x42, body), encodeFrame(0x43, hex('ff'))]);
    const splitter = new FrameSplitter();
    const got = [];
    for (let i = 0; i < stream.length; i += 1024) got.push(...splitter.push(stream.subarray(i, i + 1024)));
    expect(got.map((f) => f.code)).toEqual([0x42, 0x43]);
    expect(Buffer.from(got[0]!.body).equals(body)).toBe(true);
  });

  it('client options (the 6 bytes "client") are skipped; oversized frames are refused before buffering', () => {
    const withOptions = hex(
      `00 00000010 00000006 00000004 ${Buffer.from('client').toString('hex')} aabbccdd`,
    );
    const [f] = new FrameSplitter().push(withOptions);
    expect(Buffer.from(f!.options).toString()).toBe('client');
    expect(toHex(f!.body)).toBe('aabbccdd');
    const big = hex(`00 00000010 00000000 ${(MAX_BODY + 1).toString(16).padStart(8, '0')}`);
    expect(() => new FrameSplitter().push(big)).toThrow(RpcFormatError);
  });
});
