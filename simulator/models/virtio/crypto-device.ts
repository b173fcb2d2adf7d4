/**
 * The virtio-crypto device behind the transport (VIRTIO crypto device, akcipher
 * service, RSA), as QEMU's virtio-crypto.c is behind virtio-pci.c: the device
 * configuration, the control queue (session create/destroy), the data queues
 * (sign, verify, RAW encrypt/decrypt), the profiles (the spec's device, or QEMU
 * 7.2 with its nettle build), and the simulator's faults on data requests.
 */

import { FaultChoices } from '../../faults.js';
import type { FaultKind, ModelHost } from '../../model.js';
import { familyOptions } from '../family.js';
import { virtioFamily } from './family.js';
import {
  AkcipherAlgo,
  CREATE_SESSION_INPUT_SIZE,
  CryptoCfg,
  CryptoStatus,
  KeyType,
  Opcode,
  REQUEST_HEADER_SIZE,
  RsaHash,
  RsaPadding,
  Service,
  VIRTIO_CRYPTO_S_HW_READY,
} from './registers.js';
import {
  importSessionKey,
  RsaKeyError,
  type RsaSessionKey,
  rsaRaw,
  rsaSign,
  rsaVerify,
  VerifyFailed,
} from './rsa.js';
import {
  type Chain,
  DmaError,
  type Queue,
  type VirtioDeviceFunction,
  type VirtioPciTransport,
} from './transport.js';

export interface Profile {
  readonly name: 'spec' | 'qemu-7.2';
  readonly dataQueues: number;
  /** PKCS#1 hash values a session may name. */
  readonly hashes: ReadonlySet<number>;
  /** Whether RAW operations work (sessions are always created, as QEMU does). */
  readonly raw: boolean;
  readonly maxSessions: number;
}

export function profileOf(options: Readonly<Record<string, string>>): Profile {
  const { profile, queues } = familyOptions(virtioFamily, options);
  if (profile === 'qemu-7.2') {
    return {
      name: profile,
      dataQueues: 1,
      hashes: new Set([RsaHash.md5, RsaHash.sha1, RsaHash.sha256, RsaHash.sha512]),
      raw: false,
      maxSessions: 256,
    };
  }
  return {
    name: profile,
    dataQueues: queues,
    hashes: new Set([
      RsaHash.md5,
      RsaHash.sha1,
      RsaHash.sha256,
      RsaHash.sha384,
      RsaHash.sha512,
      RsaHash.sha224,
    ]),
    raw: true,
    maxSessions: 1024,
  };
}

interface Session {
  readonly key: RsaSessionKey;
  readonly padding: number;
  readonly hash: number;
}

export class VirtioCryptoFunction implements VirtioDeviceFunction {
  readonly #host: ModelHost;
  readonly #transport: VirtioPciTransport;
  readonly #profile: Profile;
  #sessions = new Map<bigint, Session>();
  #nextSession = 0n;
  #removed = false;
  /** Which bit a corrupt fault flips: drawn from the spec's seed. */
  readonly #choices: FaultChoices;

  constructor(host: ModelHost, transport: VirtioPciTransport, profile: Profile) {
    this.#host = host;
    this.#choices = FaultChoices.fromOptions(host.options);
    this.#transport = transport;
    this.#profile = profile;
  }

  /** The data queues, then the control queue. */
  get queueCount(): number {
    return this.#profile.dataQueues + 1;
  }

  get removed(): boolean {
    return this.#removed;
  }

  reset(): void {
    this.#sessions.clear();
    this.#nextSession = 0n;
  }

  /** struct virtio_crypto_config (§5.9.4). */
  resetConfig(c: DataView): void {
    c.setUint32(CryptoCfg.status, VIRTIO_CRYPTO_S_HW_READY, true);
    c.setUint32(CryptoCfg.maxDataQueues, this.#profile.dataQueues, true);
    // As QEMU: cipher, hash, mac, akcipher.
    c.setUint32(
      CryptoCfg.cryptoServices,
      (1 << Service.cipher) | (1 << Service.hash) | (1 << Service.mac) | (1 << Service.akcipher),
      true,
    );
    c.setUint32(CryptoCfg.akcipherAlgo, 1 << AkcipherAlgo.rsa, true);
    c.setBigUint64(CryptoCfg.maxSize, 1n << 32n, true);
  }

  process(q: Queue, head: number): void {
    if (q.index === this.#profile.dataQueues) this.#control(q, head);
    else this.#data(q, head);
  }

  // ---- control queue ----

  #control(q: Queue, head: number): void {
    const t = this.#transport;
    const chain = t.chain(q, head);
    const r = chain.readable;
    if (r.length < REQUEST_HEADER_SIZE) throw new DmaError('control request shorter than its header');
    const v = new DataView(r.buffer, r.byteOffset, r.length);
    const opcode = v.getUint32(0, true);
    if (opcode === Opcode.createSession) {
      const result = this.#createSession(v, r);
      const out = new Uint8Array(CREATE_SESSION_INPUT_SIZE);
      const o = new DataView(out.buffer);
      o.setBigUint64(0, result.id, true);
      o.setUint32(8, result.status, true);
      const written = t.scatter(chain, out, CREATE_SESSION_INPUT_SIZE);
      t.pushUsed(q, head, written);
    } else if (opcode === Opcode.destroySession) {
      const id = v.getBigUint64(16, true);
      const status = this.#sessions.delete(id) ? CryptoStatus.ok : CryptoStatus.err;
      t.writeStatusByte(chain, status);
      t.pushUsed(q, head, 1);
    } else {
      t.writeStatusByte(chain, CryptoStatus.notsupp);
      t.pushUsed(q, head, 1);
    }
  }

  #createSession(v: DataView, r: Uint8Array): { id: bigint; status: number } {
    const fail = (status: number) => ({ id: 0n, status });
    const algo = v.getUint32(16, true);
    const keyType = v.getUint32(20, true);
    const keyLength = v.getUint32(24, true);
    const padding = v.getUint32(28, true);
    const hash = v.getUint32(32, true);
    if (keyType !== KeyType.public && keyType !== KeyType.private) return fail(CryptoStatus.notsupp);
    // QEMU answers ERR for every refusal of a session (unknown algorithm, hash, padding, bad key).
    const refuse = this.#profile.name === 'qemu-7.2' ? CryptoStatus.err : CryptoStatus.notsupp;
    if (algo !== AkcipherAlgo.rsa) return fail(refuse);
    if (padding !== RsaPadding.raw && padding !== RsaPadding.pkcs1) return fail(refuse);
    if (padding === RsaPadding.pkcs1 && !this.#profile.hashes.has(hash)) return fail(refuse);
    if (REQUEST_HEADER_SIZE + keyLength > r.length) return fail(CryptoStatus.err);
    if (this.#sessions.size >= this.#profile.maxSessions) return fail(CryptoStatus.nospc);
    let key: RsaSessionKey;
    try {
      key = importSessionKey(r.subarray(REQUEST_HEADER_SIZE, REQUEST_HEADER_SIZE + keyLength), keyType);
    } catch (error) {
      if (error instanceof RsaKeyError) return fail(CryptoStatus.err);
      throw error;
    }
    const id = this.#allocateSessionId();
    this.#sessions.set(id, { key, padding, hash });
    return { id, status: CryptoStatus.ok };
  }

  /** QEMU's ids are the lowest free slot of its session array; the spec model counts up. */
  #allocateSessionId(): bigint {
    if (this.#profile.name === 'qemu-7.2') {
      let id = 0n;
      while (this.#sessions.has(id)) id++;
      return id;
    }
    return this.#nextSession++;
  }

  // ---- data queues ----

  #data(q: Queue, head: number): void {
    const t = this.#transport;
    const chain = t.chain(q, head);
    const fault = this.#host.nextFault();
    if (fault === 'surprise-removal') {
      this.#removed = true;
      this.#host.remove();
      return;
    }
    if (fault === 'hang') {
      q.hung = true;
      return;
    }
    const { status, output } = this.#operate(chain.readable, chain.writable);
    let finalStatus: number = status;
    let result = output;
    if (fault === 'error-status') {
      finalStatus = CryptoStatus.err;
      result = new Uint8Array(0);
    }
    // Which bit is flipped comes from the spec's seed, so a run replays.
    if (fault === 'corrupt-result' && result.length > 0) {
      result = Uint8Array.from(result);
      const bit = this.#choices.below(result.length * 8);
      result[bit >> 3]! ^= 1 << (bit & 7);
    }
    const outputSpace = chain.writable.reduce((s, w) => s + w.length, 0) - 1;
    const written = finalStatus === CryptoStatus.ok ? t.scatter(chain, result, Math.max(0, outputSpace)) : 0;
    if (!t.writeStatusByte(chain, finalStatus)) throw new DmaError('no room for the status byte');
    this.#complete(q, head, written + 1, fault);
  }

  #complete(q: Queue, head: number, length: number, fault: FaultKind | undefined): void {
    const t = this.#transport;
    switch (fault) {
      case 'drop-completion':
        return;
      case 'duplicate-completion':
        t.pushUsed(q, head, length);
        t.pushUsed(q, head, length);
        return;
      case 'garbage-completion':
        t.pushUsed(q, 0xfff0_0000 + head, 0x7fff_ffff);
        return;
      case 'delay-completion': {
        const epoch = t.epoch;
        const delay = Number(this.#host.options.delayms ?? '20');
        this.#host.schedule(delay, () => {
          if (epoch === t.epoch) t.pushUsed(q, head, length);
        });
        return;
      }
      default:
        t.pushUsed(q, head, length);
    }
  }

  /**
   * The bytes of a k-byte result the device writes. A value with leading zero
   * bytes is reported with its minimal length m, as the spec allows; the profiles
   * differ in which m bytes. The spec device writes the minimal encoding. QEMU 7.2
   * (nettle) writes s right-aligned into its k-byte buffer and returns m, and
   * virtio-crypto.c copies the first m bytes of that buffer: the guest gets the
   * leading zeros and loses the last k − m bytes (the wrong 1-in-256 signature of
   * the issue 11 follow-up; drivers/virtio-crypto/short-output.ts).
   */
  #handedBack(value: Uint8Array): Uint8Array {
    let zeros = 0;
    while (zeros < value.length - 1 && value[zeros] === 0) zeros++;
    if (zeros === 0) return value;
    return this.#profile.name === 'qemu-7.2'
      ? value.subarray(0, value.length - zeros)
      : value.subarray(zeros);
  }

  #operate(r: Uint8Array, writable: Chain['writable']): { status: number; output: Uint8Array } {
    const none = new Uint8Array(0);
    if (r.length < REQUEST_HEADER_SIZE) return { status: CryptoStatus.err, output: none };
    const v = new DataView(r.buffer, r.byteOffset, r.length);
    const opcode = v.getUint32(0, true);
    const session = this.#sessions.get(v.getBigUint64(8, true));
    const srcLength = v.getUint32(24, true);
    const dstLength = v.getUint32(28, true);
    if (opcode < Opcode.encrypt || opcode > Opcode.verify)
      return { status: CryptoStatus.notsupp, output: none };
    if (session === undefined) return { status: CryptoStatus.invsess, output: none };
    const readableNeeded = REQUEST_HEADER_SIZE + srcLength + (opcode === Opcode.verify ? dstLength : 0);
    if (r.length < readableNeeded) return { status: CryptoStatus.err, output: none };
    const src = r.subarray(REQUEST_HEADER_SIZE, REQUEST_HEADER_SIZE + srcLength);
    const room = writable.reduce((s, w) => s + w.length, 0) - 1;
    const { key } = session;
    try {
      switch (opcode) {
        case Opcode.sign: {
          if (!key.private) return { status: CryptoStatus.err, output: none };
          if (session.padding !== RsaPadding.pkcs1) return { status: CryptoStatus.err, output: none };
          if (dstLength < key.modulusBytes || room < key.modulusBytes)
            return { status: CryptoStatus.err, output: none };
          return { status: CryptoStatus.ok, output: this.#handedBack(rsaSign(key, session.hash, src)) };
        }
        case Opcode.verify: {
          if (session.padding !== RsaPadding.pkcs1) return { status: CryptoStatus.err, output: none };
          try {
            const digest = r.subarray(
              REQUEST_HEADER_SIZE + srcLength,
              REQUEST_HEADER_SIZE + srcLength + dstLength,
            );
            rsaVerify(key, session.hash, src, digest);
            return { status: CryptoStatus.ok, output: none };
          } catch (error) {
            if (error instanceof VerifyFailed) return { status: CryptoStatus.keyRejected, output: none };
            throw error;
          }
        }
        case Opcode.encrypt:
        case Opcode.decrypt: {
          // PKCS#1 v1.5 encryption is not a primitive pkaccel uses; RAW only.
          if (session.padding !== RsaPadding.raw || !this.#profile.raw)
            return { status: CryptoStatus.err, output: none };
          if ((opcode === Opcode.decrypt) !== key.private) return { status: CryptoStatus.err, output: none };
          if (srcLength !== key.modulusBytes || room < key.modulusBytes)
            return { status: CryptoStatus.err, output: none };
          return { status: CryptoStatus.ok, output: this.#handedBack(rsaRaw(key, src)) };
        }
      }
    } catch {
      return { status: CryptoStatus.err, output: none };
    }
    return { status: CryptoStatus.notsupp, output: none };
  }
}
