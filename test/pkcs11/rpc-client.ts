/**
 * A small p11-kit RPC client for protocol tests: the version byte, framed
 * requests with increasing codes, replies matched by code, and helpers for the
 * calls the tests make. It writes and reads fields with the server's codec,
 * whose byte layouts test/pkcs11/codec.test.ts checks against the reference.
 */

import { connect, type Socket } from 'node:net';
import { type PresentBytes, type RpcAttribute, RpcReader, RpcWriter } from '../../server/pkcs11/codec.js';
import { CKA, CKR } from '../../server/pkcs11/constants.js';
import { encodeFrame, FrameSplitter } from '../../server/pkcs11/transport.js';

export const HANDSHAKE = 'PRIVATE-GNOME-KEYRING-PKCS11-PROTOCOL-V-1';

/** A reply: its call id (0 = error) and a reader positioned after the signature. */
export interface RpcReply {
  readonly callId: number;
  readonly signature: string;
  readonly reader: RpcReader;
  /** The error reply's CK_RV; CKR_OK for a normal reply. */
  readonly rv: number;
}

/** Fields of a request, written in order by the test. */
export type Fields = (w: RpcWriter) => void;

export class RpcClient {
  readonly #splitter = new FrameSplitter();
  readonly #waiting = new Map<number, (reply: Uint8Array) => void>();
  #code = 0x10;
  #closed: Promise<void>;
  version: number | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      for (const frame of this.#splitter.push(chunk)) {
        const done = this.#waiting.get(frame.code);
        this.#waiting.delete(frame.code);
        done?.(frame.body);
      }
      this.version = this.#splitter.clientVersion;
    });
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
  }

  /** Connect and do the version handshake (this client offers `version`, default 0). */
  static async connect(path: string, version = 0): Promise<RpcClient> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RpcClient(socket);
    socket.write(Uint8Array.of(version));
    return client;
  }

  /** Resolves when the server has closed the connection. */
  closed(): Promise<void> {
    return this.#closed;
  }

  /** Send raw bytes (fuzzing). */
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** One request: call id, signature, fields; resolves with the reply. */
  call(callId: number, signature: string, fields: Fields = () => {}): Promise<RpcReply> {
    const w = new RpcWriter();
    w.u32(callId).byteArray(Buffer.from(signature, 'latin1'));
    fields(w);
    return this.send(w.bytes());
  }

  /** Send a request body as one frame; resolves with the parsed reply. */
  send(body: Uint8Array): Promise<RpcReply> {
    const code = this.#code++;
    return new Promise((resolve, reject) => {
      const onClose = () => reject(new Error('the server closed the connection'));
      this.socket.once('close', onClose);
      this.#waiting.set(code, (bytes) => {
        this.socket.off('close', onClose);
        const reader = new RpcReader(bytes);
        const callId = reader.u32();
        const signature = reader.string();
        const rv = callId === 0 ? reader.ulong() : CKR.OK;
        resolve({ callId, signature, reader, rv });
      });
      this.socket.write(encodeFrame(code, body));
    });
  }

  /** A call that must succeed: throws with the CK_RV otherwise. */
  async ok(callId: number, signature: string, fields?: Fields): Promise<RpcReader> {
    const reply = await this.call(callId, signature, fields);
    if (reply.callId === 0) throw new CkrError(reply.rv);
    return reply.reader;
  }

  initialize(): Promise<RpcReader> {
    return this.ok(1, 'ayyay', (w) =>
      w
        .presentBytes({ data: Buffer.from(HANDSHAKE) })
        .byte(0)
        .presentBytes({ data: null, length: 0 }),
    );
  }

  async openSession(flags = 4): Promise<number> {
    return (await this.ok(10, 'uu', (w) => w.u64(1).u64(flags))).ulong();
  }

  login(session: number, pin: string): Promise<RpcReader> {
    return this.ok(18, 'uuay', (w) =>
      w
        .u64(session)
        .u64(1)
        .presentBytes({ data: Buffer.from(pin) }),
    );
  }

  /** FindObjectsInit + FindObjects(max 100) + FindObjectsFinal. */
  async find(session: number, template: readonly RpcAttribute[]): Promise<number[]> {
    await this.ok(26, 'uaA', (w) => w.u64(session).attributeArray(template));
    const list = (await this.ok(27, 'ufu', (w) => w.u64(session).u32(100))).ulongArray();
    await this.ok(28, 'u', (w) => w.u64(session));
    if (!Array.isArray(list)) throw new Error('FindObjects answered without a list');
    return list;
  }

  /** C_GetAttributeValue: the attributes as the server sent them, and the CK_RV inside the reply. */
  async attributes(
    session: number,
    object: number,
    wanted: readonly { type: number; length: number }[],
  ): Promise<{ attributes: RpcAttribute[]; rv: number }> {
    const r = await this.ok(24, 'uufA', (w) => {
      w.u64(session).u64(object).u32(wanted.length);
      for (const a of wanted) w.u32(a.type).u32(a.length);
    });
    const attributes = r.attributeArray();
    return { attributes, rv: r.ulong() };
  }

  /** One attribute's bytes (size query, then value), as a consumer reads CKA_LABEL or CKA_MODULUS. */
  async bytesAttribute(session: number, object: number, type: number): Promise<Uint8Array> {
    const size = await this.attributes(session, object, [{ type, length: 0 }]);
    const length = size.attributes[0]?.length ?? -1;
    if (size.rv !== CKR.OK) throw new CkrError(size.rv);
    const got = await this.attributes(session, object, [{ type, length }]);
    const v = got.attributes[0]?.value;
    if (got.rv !== CKR.OK || v?.kind !== 'bytes' || v.value === null) throw new CkrError(got.rv);
    return v.value;
  }

  /** C_Sign with a buffer of `size` bytes (0: the size query). */
  async sign(session: number, data: Uint8Array, size: number): Promise<PresentBytes> {
    return (
      await this.ok(43, 'uayfy', (w) => w.u64(session).presentBytes({ data }).u32(size))
    ).presentBytes();
  }

  /** The private key object with this label. */
  async privateKey(session: number, label: string): Promise<number> {
    const found = await this.find(session, [
      { type: CKA.CLASS, length: 8, value: { kind: 'ulong', value: 3 } },
      { type: CKA.LABEL, length: label.length, value: { kind: 'bytes', value: Buffer.from(label) } },
    ]);
    if (found.length !== 1) throw new Error(`${found.length} private keys labelled ${label}`);
    return found[0]!;
  }

  async close(): Promise<void> {
    this.socket.end();
    await this.#closed;
  }
}

/** A failed call's CK_RV. */
export class CkrError extends Error {
  constructor(readonly rv: number) {
    super(`CK_RV 0x${rv.toString(16)}`);
  }
}

/** Write a mechanism (`M`) with no parameter: type, then a NULL byte array. */
export function plainMechanism(w: RpcWriter, type: number): RpcWriter {
  return w.u32(type).byteArray(null);
}

/** Write CKM_RSA_PKCS_PSS-family parameters: type, hashAlg, mgf, sLen. */
export function pssMechanism(
  w: RpcWriter,
  type: number,
  hashAlg: number,
  mgf: number,
  sLen: number,
): RpcWriter {
  return w.u32(type).u64(hashAlg).u64(mgf).u64(sLen);
}

/** Write CKM_RSA_PKCS_OAEP parameters: hashAlg, mgf, source, source data. */
export function oaepMechanism(
  w: RpcWriter,
  hashAlg: number,
  mgf: number,
  label: Uint8Array | null,
): RpcWriter {
  return w.u32(0x9).u64(hashAlg).u64(mgf).u64(1).byteArray(label);
}
