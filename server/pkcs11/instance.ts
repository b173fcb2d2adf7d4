/**
 * One Cryptoki instance: the state of one client connection (p11-kit-client.so
 * opens one per process that loads it) — initialized or not, its sessions,
 * whether it is logged in, each session's find cursor and the operation in
 * progress. `handle(body)` answers one request body with one reply body; the
 * server calls it for one request at a time.
 *
 * Login state belongs to the instance (PKCS#11: to the application), is shared
 * by its sessions, and ends when its last session closes.
 */

import { createHash, type Hash, randomFillSync } from 'node:crypto';
import type { PeerCredentials } from 'pcie-mmio/system';
import { HASHES, type HashName } from '../../core/encoding/hashes.js';
import { PkaccelError } from '../../index.js';
import type { AttributeValue } from './codec.js';
import { CKA, CKF_MECH, CKF_SESSION, CKO, CKR, CKS, CKU, UNAVAILABLE } from './constants.js';
import { mechanismDef } from './mechanisms.js';
import { type Args, errorReply, parseRequest, Reply } from './message.js';
import { attributeMatches, cLength, type TokenObject } from './objects.js';
import {
  CkError,
  decrypt,
  type OperationParams,
  operationParams,
  type Purpose,
  returnValueOf,
  sign,
  signatureLength,
  verify,
} from './operations.js';
import type { PinCheck } from './pin.js';
import { type ObjectView, SLOT_ID, type Token } from './token.js';

/** The string p11-kit's client sends in C_Initialize (rpc.h, P11_RPC_HANDSHAKE). */
const HANDSHAKE = 'PRIVATE-GNOME-KEYRING-PKCS11-PROTOCOL-V-1';
/** Bounds per connection (memory, not policy). */
const MAX_SESSIONS = 1024;
const MAX_RANDOM = 1024 * 1024;
/** Bytes a multi-part raw (unhashed) sign may gather. */
const MAX_GATHERED = 64 * 1024;

interface Operation {
  readonly purpose: Purpose;
  readonly object: TokenObject;
  readonly params: OperationParams;
  /** Multi-part hash-and-sign: the running hash; single-part mechanisms gather into `parts`. */
  hash?: Hash;
  readonly parts: Uint8Array[];
  gathered: number;
  /** A decryption made for a size query, kept for the call that fetches it. */
  cached?: { readonly input: Uint8Array; readonly output: Uint8Array };
}

interface Session {
  readonly handle: number;
  readonly flags: number;
  find?: { readonly results: number[]; at: number };
  operation?: Operation;
}

/** A handled call's reply, or the CK_RV of an error reply. */
type Answer = Reply | number;

/** Wrong-PIN back-off per uid, shared by all connections: 100 ms doubling to 5 s, reset by a good PIN. */
const pinFailures = new Map<number, number>();

function hashOf(params: OperationParams): HashName | undefined {
  if (params.form === 'pss') return params.hashData ? params.hash : undefined;
  if (params.form === 'pkcs1' || params.form === 'ecdsa') return params.hash;
  return undefined;
}

export class Cryptoki {
  #initialized = false;
  #loggedIn = false;
  #nextSession = 1;
  readonly #sessions = new Map<number, Session>();
  readonly #abort = new AbortController();
  /** The objects this connection's peer may see (its ACL, decided once: peer and keys are fixed). */
  readonly #view: ObjectView;

  constructor(
    readonly token: Token,
    readonly peer: PeerCredentials,
    readonly pin: PinCheck | undefined,
    readonly log: (line: string) => void,
  ) {
    this.#view = token.view(peer);
  }

  /** The connection closed: operations in flight are abandoned. */
  close(): void {
    this.#abort.abort(new Error('the PKCS#11 client disconnected'));
    this.#reset();
  }

  /** Answer one request body (RpcFormatError: the message is malformed; close the connection). */
  async handle(body: Uint8Array): Promise<Uint8Array> {
    const request = parseRequest(body);
    if ('unserved' in request) return errorReply(CKR.FUNCTION_NOT_SUPPORTED);
    const { call, args } = request;
    let answer: Answer;
    try {
      answer = await this.#dispatch(call.id, args);
    } catch (error) {
      // Typed failures become the call's CK_RV; anything else (a malformed message) is the server's to handle.
      if (!(error instanceof CkError) && !(error instanceof PkaccelError)) throw error;
      answer = returnValueOf(error);
    }
    return typeof answer === 'number' ? errorReply(answer) : answer.body();
  }

  #reset(): void {
    this.#sessions.clear();
    this.#loggedIn = false;
  }

  #session(handle: number): Session {
    const s = this.#sessions.get(handle);
    if (s === undefined) throw new CkError(CKR.SESSION_HANDLE_INVALID, `no session ${handle}`);
    return s;
  }

  #visible(): readonly TokenObject[] {
    return this.#view.visible(this.#loggedIn);
  }

  #object(handle: number, rv: number = CKR.OBJECT_HANDLE_INVALID): TokenObject {
    const o = this.#view.object(handle, this.#loggedIn);
    if (o === undefined) throw new CkError(rv, `no object ${handle}`);
    return o;
  }

  async #dispatch(id: number, a: Args): Promise<Answer> {
    if (id === 1) return this.#initialize(a, new Reply(a.call));
    if (!this.#initialized) {
      return CKR.CRYPTOKI_NOT_INITIALIZED;
    }
    switch (id) {
      case 2: // C_Finalize
        a.end();
        this.#initialized = false;
        this.#reset();
        return new Reply(a.call);
      case 3: // C_GetInfo
        a.end();
        return new Reply(a.call)
          .put('v', 2, 40)
          .put('s', 'pkaccel', 32)
          .put('u', 0)
          .put('s', 'pkaccel PKCS#11 token (p11-kit RPC)', 32)
          .put('v', this.token.version.major, this.token.version.minor);
      case 4: {
        // C_GetSlotList: the one slot, whether or not the caller asked for present tokens.
        a.read('y');
        const size = a.read('fu');
        a.end();
        return new Reply(a.call).put('au', size === 0 ? { length: 1, only: 'length' } : [SLOT_ID]);
      }
      case 5:
        this.#slot(a);
        return new Reply(a.call)
          .put('s', this.token.slotDescription(), 64)
          .put('s', 'pkaccel', 32)
          .put('u', this.token.slotFlags())
          .put('v', this.token.version.major, this.token.version.minor)
          .put('v', this.token.version.major, this.token.version.minor);
      case 6:
        this.#slot(a);
        return this.#tokenInfo(new Reply(a.call));
      case 7: {
        const slot = a.read('u');
        const size = a.read('fu');
        a.end();
        if (slot !== SLOT_ID) return CKR.SLOT_ID_INVALID;
        const list = this.token.mechanisms().map((d) => d.type);
        return new Reply(a.call).put(
          'au',
          size < list.length ? { length: list.length, only: 'length' } : list,
        );
      }
      case 8: {
        const slot = a.read('u');
        const type = a.read('u');
        a.end();
        if (slot !== SLOT_ID) return CKR.SLOT_ID_INVALID;
        const def = mechanismDef(type);
        const info = def === undefined ? undefined : this.token.mechanismInfo(def);
        if (info === undefined) return CKR.MECHANISM_INVALID;
        return new Reply(a.call).put('u', info.minKeySize).put('u', info.maxKeySize).put('u', info.flags);
      }
      case 10:
        return this.#openSession(a, new Reply(a.call));
      case 11: {
        const handle = a.read('u');
        a.end();
        this.#session(handle);
        this.#sessions.delete(handle);
        if (this.#sessions.size === 0) this.#loggedIn = false;
        return new Reply(a.call);
      }
      case 12:
        this.#slot(a);
        this.#reset();
        return new Reply(a.call);
      case 13: {
        const s = this.#session(a.read('u'));
        a.end();
        const rw = (s.flags & CKF_SESSION.RW) !== 0;
        const state = this.#loggedIn ? (rw ? CKS.RW_USER : CKS.RO_USER) : rw ? CKS.RW_PUBLIC : CKS.RO_PUBLIC;
        return new Reply(a.call).put('u', SLOT_ID).put('u', state).put('u', s.flags).put('u', 0);
      }
      case 18:
        return this.#login(a, new Reply(a.call));
      case 19: {
        this.#session(a.read('u'));
        a.end();
        if (!this.#loggedIn) return CKR.USER_NOT_LOGGED_IN;
        this.#loggedIn = false;
        // Operations on private keys end with the login that allowed them.
        for (const s of this.#sessions.values()) {
          if (s.operation?.object.isPrivate) s.operation = undefined;
          s.find = undefined;
        }
        return new Reply(a.call);
      }
      case 24:
        return this.#getAttributes(a, new Reply(a.call));
      case 26: {
        const s = this.#session(a.read('u'));
        const template = a.read('aA');
        a.end();
        if (s.find !== undefined) return CKR.OPERATION_ACTIVE;
        const results = this.#visible()
          .filter((o) => template.every((t) => attributeMatches(o.attributes.get(t.type), t.value)))
          .map((o) => o.handle);
        s.find = { results, at: 0 };
        return new Reply(a.call);
      }
      case 27: {
        const s = this.#session(a.read('u'));
        const max = a.read('fu');
        a.end();
        if (s.find === undefined) return CKR.OPERATION_NOT_INITIALIZED;
        const out = s.find.results.slice(s.find.at, s.find.at + max);
        s.find.at += out.length;
        return new Reply(a.call).put('au', out);
      }
      case 28: {
        const s = this.#session(a.read('u'));
        a.end();
        if (s.find === undefined) return CKR.OPERATION_NOT_INITIALIZED;
        s.find = undefined;
        return new Reply(a.call);
      }
      case 33:
        return this.#init(a, new Reply(a.call), 'decrypt');
      case 42:
        return this.#init(a, new Reply(a.call), 'sign');
      case 48:
        return this.#init(a, new Reply(a.call), 'verify');
      case 34:
        return this.#decrypt(a, new Reply(a.call));
      case 43:
        return this.#sign(a, new Reply(a.call));
      case 44:
        return this.#signUpdate(a, new Reply(a.call));
      case 45:
        return this.#signFinal(a, new Reply(a.call));
      case 49:
        return this.#verify(a, new Reply(a.call));
      case 63:
        this.#session(a.read('u'));
        a.read('ay');
        a.end();
        return CKR.RANDOM_SEED_NOT_SUPPORTED;
      case 64: {
        this.#session(a.read('u'));
        const size = a.read('fy');
        a.end();
        if (size > MAX_RANDOM) return CKR.DATA_LEN_RANGE;
        // The host's CSPRNG (no device primitive generates random bytes).
        return new Reply(a.call).put('ay', { data: randomFillSync(new Uint8Array(size)) });
      }
      default:
        return CKR.FUNCTION_NOT_SUPPORTED;
    }
  }

  #slot(a: Args): void {
    const slot = a.read('u');
    a.end();
    if (slot !== SLOT_ID) throw new CkError(CKR.SLOT_ID_INVALID, `no slot ${slot}`);
  }

  #initialize(a: Args, reply: Reply): Answer {
    const handshake = a.read('ay');
    a.read('y');
    a.read('ay');
    a.end();
    const text = handshake.data === null ? '' : Buffer.from(handshake.data).toString('latin1');
    // p11-kit's own server answers a wrong handshake string with CKR_GENERAL_ERROR.
    if (text !== HANDSHAKE) return CKR.GENERAL_ERROR;
    this.#initialized = true;
    return reply;
  }

  #tokenInfo(reply: Reply): Reply {
    const t = this.token;
    let rw = 0;
    for (const s of this.#sessions.values()) if (s.flags & CKF_SESSION.RW) rw++;
    return reply
      .put('s', t.config.label, 32)
      .put('s', 'pkaccel', 32)
      .put('s', 'pkaccel', 16)
      .put('s', t.serial, 16)
      .put('u', t.tokenFlags())
      .put('u', 0) // ulMaxSessionCount: CK_EFFECTIVELY_INFINITE
      .put('u', this.#sessions.size)
      .put('u', 0) // ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE
      .put('u', rw)
      .put('u', 256) // ulMaxPinLen (pin.ts MAX_PIN_LENGTH)
      .put('u', t.config.loginRequired ? 1 : 0)
      .put('u', UNAVAILABLE)
      .put('u', UNAVAILABLE)
      .put('u', UNAVAILABLE)
      .put('u', UNAVAILABLE)
      .put('v', t.version.major, t.version.minor)
      .put('v', t.version.major, t.version.minor)
      .put('s', '', 16); // utcTime: no clock on the token (CKF_CLOCK_ON_TOKEN unset)
  }

  #openSession(a: Args, reply: Reply): Answer {
    const slot = a.read('u');
    const flags = a.read('u');
    a.end();
    if (slot !== SLOT_ID) return CKR.SLOT_ID_INVALID;
    if ((flags & CKF_SESSION.SERIAL) === 0) return CKR.SESSION_PARALLEL_NOT_SUPPORTED;
    if (this.#sessions.size >= MAX_SESSIONS) return CKR.SESSION_COUNT;
    const handle = this.#nextSession++;
    this.#sessions.set(handle, { handle, flags: flags & (CKF_SESSION.RW | CKF_SESSION.SERIAL) });
    return reply.put('u', handle);
  }

  async #login(a: Args, reply: Reply): Promise<Answer> {
    this.#session(a.read('u'));
    const user = a.read('u');
    const pin = a.read('ay');
    a.end();
    if (user === CKU.SO) return CKR.USER_TYPE_INVALID;
    if (user !== CKU.USER && user !== CKU.CONTEXT_SPECIFIC) return CKR.USER_TYPE_INVALID;
    if (this.#loggedIn && user === CKU.USER) return CKR.USER_ALREADY_LOGGED_IN;
    if (pin.data === null) return CKR.ARGUMENTS_BAD;
    if (this.pin !== undefined) {
      const ok = this.pin.matches(pin.data);
      pin.data.fill(0);
      if (!ok) {
        const failures = (pinFailures.get(this.peer.uid) ?? 0) + 1;
        pinFailures.set(this.peer.uid, failures);
        this.log(`wrong PIN (${failures} in a row for uid ${this.peer.uid})`);
        // Slow guessing down for this uid, whichever connection it comes from.
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(5000, 100 * 2 ** Math.min(failures - 1, 6))),
        );
        return CKR.PIN_INCORRECT;
      }
      pinFailures.delete(this.peer.uid);
    }
    this.#loggedIn = true;
    return reply;
  }

  #getAttributes(a: Args, reply: Reply): Answer {
    this.#session(a.read('u'));
    const object = this.#object(a.read('u'));
    const wanted = a.read('fA');
    a.end();
    let sensitive = false;
    let invalid = false;
    let small = false;
    const out = wanted.map(({ type, length }) => {
      const have = object.attributes.get(type);
      if (have === undefined) {
        invalid = true;
        return { type, length: -1 };
      }
      if (have === 'sensitive') {
        sensitive = true;
        return { type, length: -1 };
      }
      const needed = cLength(have);
      // A size query (no buffer): the length, with the value's NULL form.
      if (length === 0) return { type, length: needed, value: emptyOf(have) };
      if (length < needed) {
        small = true;
        return { type, length: -1 };
      }
      return { type, length: needed, value: have };
    });
    const rv = sensitive
      ? CKR.ATTRIBUTE_SENSITIVE
      : invalid
        ? CKR.ATTRIBUTE_TYPE_INVALID
        : small
          ? CKR.BUFFER_TOO_SMALL
          : CKR.OK;
    return reply.put('aA', out).put('u', rv);
  }

  #init(a: Args, reply: Reply, purpose: Purpose): Answer {
    const s = this.#session(a.read('u'));
    const mechanism = a.mechanism(8);
    const keyHandle = a.read('u');
    a.end();
    if (s.operation !== undefined) return CKR.OPERATION_ACTIVE;
    const object = this.#object(keyHandle, CKR.KEY_HANDLE_INVALID);
    const wantClass = purpose === 'verify' ? undefined : CKO.PRIVATE_KEY;
    const cls = object.attributes.get(CKA.CLASS);
    if (wantClass !== undefined && (cls === undefined || cls === 'sensitive' || cls.value !== wantClass))
      return CKR.KEY_FUNCTION_NOT_PERMITTED;
    const def = mechanismDef(mechanism.type);
    const info = def === undefined ? undefined : this.token.mechanismInfo(def);
    if (def === undefined || info === undefined) return CKR.MECHANISM_INVALID;
    // The devices and keys in service decide what the mechanism does now (CKM_RSA_PKCS decrypts
    // only over raw RSA, with a key's rejection secret): the info's flags say it.
    if ((info.flags & PURPOSE_FLAG[purpose]) === 0) return CKR.MECHANISM_INVALID;
    const params = operationParams(def, mechanism, object.material, purpose, object.key.rejectionSecret);
    const bits =
      object.material.kind === 'rsa-private' ? object.material.bits : curveBits(object.material.curve);
    if (bits < info.minKeySize || bits > info.maxKeySize) return CKR.KEY_SIZE_RANGE;
    s.operation = { purpose, object, params, parts: [], gathered: 0 };
    return reply;
  }

  #operation(s: Session, purpose: Purpose): Operation {
    const op = s.operation;
    if (op === undefined || op.purpose !== purpose)
      throw new CkError(CKR.OPERATION_NOT_INITIALIZED, `no ${purpose} operation`);
    return op;
  }

  /** Run an operation's final step; any outcome but "buffer too small" ends the operation. */
  async #finish<T>(s: Session, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } finally {
      s.operation = undefined;
    }
  }

  /**
   * The operands of an operation call: its session and operation in progress, `arrays`
   * byte arrays (a NULL one ends the operation: CKR_ARGUMENTS_BAD), the buffer size when `sized`.
   */
  #operands(a: Args, purpose: Purpose, arrays: number, sized: boolean) {
    const s = this.#session(a.read('u'));
    const given = Array.from({ length: arrays }, () => a.read('ay'));
    const size = sized ? a.read('fy') : 0;
    a.end();
    const op = this.#operation(s, purpose);
    const data = given.map((b) => b.data);
    if (data.some((d) => d === null)) {
      s.operation = undefined;
      throw new CkError(CKR.ARGUMENTS_BAD, 'a NULL buffer');
    }
    return { s, op, data: data as Uint8Array[], size };
  }

  get #exec() {
    return this.token.accelerator.queue.executor;
  }

  async #sign(a: Args, reply: Reply): Promise<Answer> {
    const { s, op, data, size } = this.#operands(a, 'sign', 1, true);
    const length = signatureLength(op.object.material);
    if (size < length) return reply.put('ay', { data: null, length });
    const signature = await this.#finish(s, () =>
      sign(this.#exec, op.object.material, op.params, data[0]!, this.#abort.signal),
    );
    return reply.put('ay', { data: signature });
  }

  async #signUpdate(a: Args, reply: Reply): Promise<Answer> {
    const { s, op, data } = this.#operands(a, 'sign', 1, false);
    const part = data[0]!;
    const hash = hashOf(op.params);
    if (hash !== undefined) {
      op.hash ??= createHash(HASHES[hash].node);
      op.hash.update(part);
      return reply;
    }
    // Single-part mechanisms given in parts: gathered (bounded) and signed whole at SignFinal.
    op.gathered += part.length;
    if (op.gathered > MAX_GATHERED) {
      s.operation = undefined;
      return CKR.DATA_LEN_RANGE;
    }
    op.parts.push(Uint8Array.from(part));
    return reply;
  }

  async #signFinal(a: Args, reply: Reply): Promise<Answer> {
    const { s, op, size } = this.#operands(a, 'sign', 0, true);
    const length = signatureLength(op.object.material);
    if (size < length) return reply.put('ay', { data: null, length });
    const hash = hashOf(op.params);
    // A hash-and-sign mechanism signs the hash (of empty data if no part came); the others what was gathered.
    const input =
      hash === undefined ? Buffer.concat(op.parts) : (op.hash ?? createHash(HASHES[hash].node)).digest();
    const signature = await this.#finish(s, () =>
      sign(this.#exec, op.object.material, op.params, input, this.#abort.signal, hash !== undefined),
    );
    return reply.put('ay', { data: signature });
  }

  async #verify(a: Args, reply: Reply): Promise<Answer> {
    const { s, op, data } = this.#operands(a, 'verify', 2, false);
    const valid = await this.#finish(s, () =>
      verify(this.#exec, op.object.material, op.params, data[0]!, data[1]!, this.#abort.signal),
    );
    return valid ? reply : CKR.SIGNATURE_INVALID;
  }

  async #decrypt(a: Args, reply: Reply): Promise<Answer> {
    const { s, op, data, size } = this.#operands(a, 'decrypt', 1, true);
    const input = data[0]!;
    // The plaintext's length is known only after decrypting: a size query decrypts and keeps
    // the result for the call that fetches it (with the same ciphertext).
    let output: Uint8Array;
    if (op.cached !== undefined && Buffer.from(op.cached.input).equals(input)) output = op.cached.output;
    else {
      try {
        output = await decrypt(this.#exec, op.object.material, op.params, input, this.#abort.signal);
      } catch (error) {
        s.operation = undefined;
        throw error;
      }
    }
    if (size < output.length) {
      op.cached = { input: Uint8Array.from(input), output };
      return reply.put('ay', { data: null, length: output.length });
    }
    s.operation = undefined;
    const answer = reply.put('ay', { data: output });
    output.fill(0);
    return answer;
  }
}

/** The mechanism flag each purpose needs. */
const PURPOSE_FLAG: Readonly<Record<Purpose, number>> = {
  sign: CKF_MECH.SIGN,
  verify: CKF_MECH.VERIFY,
  decrypt: CKF_MECH.DECRYPT,
};

function curveBits(curve: 'P-256' | 'P-384' | 'P-521'): number {
  return curve === 'P-256' ? 256 : curve === 'P-384' ? 384 : 521;
}

/** The NULL form of a value, as a size-query answer carries it. */
function emptyOf(v: AttributeValue): AttributeValue {
  switch (v.kind) {
    case 'byte':
      return { kind: 'byte', value: 0 } as const;
    case 'ulong':
      return { kind: 'ulong', value: 0 } as const;
    case 'bytes':
      return { kind: 'bytes', value: null } as const;
    case 'attributes':
      return { kind: 'attributes', value: [] } as const;
    case 'mechanisms':
      return { kind: 'mechanisms', value: null } as const;
  }
}
