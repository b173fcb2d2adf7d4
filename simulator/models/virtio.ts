/**
 * `sim:virtio`: a virtio-crypto device (akcipher service, RSA) over the
 * virtio-pci modern transport, written from docs/hardware/virtio-crypto.md (the
 * VIRTIO spec sections it cites). BAR 4 holds the structures QEMU places there:
 * common configuration at 0x0, ISR at 0x1000, device configuration at 0x2000,
 * notifications at 0x3000 (multiplier 4). Requests are served when the queue is
 * notified, as QEMU's builtin backend does.
 *
 * Options: `profile=spec` (default: every hash the spec names, RAW padding,
 * `queues=<n>` data queues, default 2) or `profile=qemu-7.2` (what QEMU 7.2 with
 * its nettle build does: one data queue, PKCS#1 hashes MD5/SHA-1/SHA-256/SHA-512
 * only, RAW sessions created but every RAW operation failing with ERR, verify
 * failure as KEY_REJECTED); `irq=msix|intx|none`; and the simulator's `faults=`.
 */

import type { DeviceModel, FaultKind, ModelDefinition, ModelHost, ModelLayout } from '../model.js';
import {
  importSessionKey,
  RsaKeyError,
  type RsaSessionKey,
  rsaRaw,
  rsaSign,
  rsaVerify,
  VerifyFailed,
} from './virtio-rsa.js';

const BAR = 4;
const BAR_SIZE = 0x4000;
const COMMON = 0x0;
const ISR = 0x1000;
const DEVICE = 0x2000;
const NOTIFY = 0x3000;
const NOTIFY_MULTIPLIER = 4;
const MAX_QUEUE_SIZE = 1024;
const NO_VECTOR = 0xffff;
/** A chain longer than this is a driver bug (loop); the device then needs a reset. */
const MAX_CHAIN = 16;

const VERSION_1 = 1n << 32n;
const STATUS = { ack: 1, driver: 2, driverOk: 4, featuresOk: 8, needsReset: 64, failed: 128 } as const;
const CRYPTO_STATUS = { ok: 0, err: 1, badmsg: 2, notsupp: 3, invsess: 4, nospc: 5, keyRejected: 6 } as const;
const OP = {
  encrypt: 0x400,
  decrypt: 0x401,
  sign: 0x402,
  verify: 0x403,
  create: 0x404,
  destroy: 0x405,
} as const;
const HEADER = 72;

interface Profile {
  readonly name: 'spec' | 'qemu-7.2';
  readonly dataQueues: number;
  /** PKCS#1 hash values a session may name. */
  readonly hashes: ReadonlySet<number>;
  /** Whether RAW operations work (sessions are always created, as QEMU does). */
  readonly raw: boolean;
  readonly maxSessions: number;
}

function profileOf(options: Readonly<Record<string, string>>): Profile {
  const name = options.profile ?? 'spec';
  if (name === 'qemu-7.2') {
    return { name, dataQueues: 1, hashes: new Set([4, 5, 6, 8]), raw: false, maxSessions: 256 };
  }
  if (name !== 'spec')
    throw new RangeError(`sim:virtio option profile=${name}: expected "spec" or "qemu-7.2"`);
  const queues = Number(options.queues ?? '2');
  if (!Number.isInteger(queues) || queues < 1 || queues > 8)
    throw new RangeError(`sim:virtio option queues=${options.queues}: expected 1 to 8`);
  return { name, dataQueues: queues, hashes: new Set([4, 5, 6, 7, 8, 9]), raw: true, maxSessions: 1024 };
}

/** One virtio_pci_cap (16 bytes; 20 for notify). */
function vendorCap(type: number, offset: number, length: number, multiplier?: number): Uint8Array {
  const cap = new Uint8Array(multiplier === undefined ? 16 : 20);
  const v = new DataView(cap.buffer);
  cap[0] = 0x09;
  cap[2] = cap.length;
  cap[3] = type;
  cap[4] = BAR;
  v.setUint32(8, offset, true);
  v.setUint32(12, length, true);
  if (multiplier !== undefined) v.setUint32(16, multiplier, true);
  return cap;
}

export function virtioLayout(options: Readonly<Record<string, string>>): ModelLayout {
  const profile = profileOf(options);
  // `irq=poll` is the driver's option (poll although the card has interrupts): the card keeps MSI-X.
  const irq = options.irq === undefined || options.irq === 'poll' ? 'msix' : options.irq;
  if (irq !== 'msix' && irq !== 'intx' && irq !== 'none')
    throw new RangeError(`sim:virtio option irq=${irq}: expected msix, intx or none`);
  return {
    identity: {
      vendorId: 0x1af4,
      deviceId: 0x1054,
      subsystemVendorId: 0x1af4,
      subsystemDeviceId: 0x1100,
      classCode: 0x00ff00,
      revision: 1,
    },
    bars: { [BAR]: { size: BAR_SIZE } },
    irq:
      irq === 'msix'
        ? { kind: 'msix', vectors: profile.dataQueues + 2 }
        : irq === 'intx'
          ? { kind: 'intx', vectors: 1 }
          : { kind: 'none', vectors: 0 },
    // Rings and per-job buffers for each data queue plus the control queue.
    dmaArenaBytes: (profile.dataQueues + 1) * 512 * 1024,
    configCapabilities: [
      vendorCap(1, COMMON, 0x38),
      vendorCap(3, ISR, 1),
      vendorCap(4, DEVICE, 56),
      vendorCap(2, NOTIFY, 0x1000, NOTIFY_MULTIPLIER),
    ],
  };
}

interface Queue {
  size: number;
  vector: number;
  enabled: boolean;
  desc: bigint;
  avail: bigint;
  used: bigint;
  lastAvail: number;
  usedIdx: number;
  hung: boolean;
}

interface Session {
  readonly key: RsaSessionKey;
  readonly padding: number;
  readonly hash: number;
}

interface Chain {
  readonly readable: Uint8Array;
  readonly writable: readonly { readonly address: bigint; readonly length: number }[];
}

class DmaError extends Error {}

class VirtioCryptoModel implements DeviceModel {
  readonly layout: ModelLayout;
  readonly #host: ModelHost;
  readonly #bar: DataView;
  readonly #profile: Profile;
  #queues: Queue[] = [];
  #sessions = new Map<bigint, Session>();
  #nextSession = 0n;
  #deviceFeatureSelect = 0;
  #driverFeatureSelect = 0;
  #driverFeatures = 0n;
  #queueSelect = 0;
  #epoch = 0;
  #removed = false;

  constructor(host: ModelHost) {
    this.#host = host;
    this.layout = virtioLayout(host.options);
    this.#profile = profileOf(host.options);
    this.#bar = host.bar(BAR);
  }

  get #queueCount(): number {
    return this.#profile.dataQueues + 1;
  }

  reset(): void {
    this.#epoch++;
    const b = this.#bar;
    for (let off = 0; off < BAR_SIZE; off += 4) b.setUint32(off, 0, true);
    this.#queues = Array.from({ length: this.#queueCount }, () => ({
      size: MAX_QUEUE_SIZE,
      vector: NO_VECTOR,
      enabled: false,
      desc: 0n,
      avail: 0n,
      used: 0n,
      lastAvail: 0,
      usedIdx: 0,
      hung: false,
    }));
    this.#sessions.clear();
    this.#nextSession = 0n;
    this.#deviceFeatureSelect = 0;
    this.#driverFeatureSelect = 0;
    this.#driverFeatures = 0n;
    this.#queueSelect = 0;
    b.setUint16(COMMON + 16, NO_VECTOR, true);
    b.setUint16(COMMON + 18, this.#queueCount, true);
    this.#showFeatures();
    this.#showQueue();
    // struct virtio_crypto_config
    b.setUint32(DEVICE + 0, 1, true); // HW_READY
    b.setUint32(DEVICE + 4, this.#profile.dataQueues, true);
    b.setUint32(DEVICE + 8, (1 << 0) | (1 << 1) | (1 << 2) | (1 << 4), true); // as QEMU: cipher, hash, mac, akcipher
    b.setUint32(DEVICE + 44, 1 << 1, true); // RSA
    b.setBigUint64(DEVICE + 48, 1n << 32n, true);
  }

  #offeredFeatures(): bigint {
    return VERSION_1;
  }

  #showFeatures(): void {
    const word =
      this.#deviceFeatureSelect < 2
        ? (this.#offeredFeatures() >> BigInt(32 * this.#deviceFeatureSelect)) & 0xffffffffn
        : 0n;
    this.#bar.setUint32(COMMON + 4, Number(word), true);
  }

  #showQueue(): void {
    const b = this.#bar;
    const q = this.#queues[this.#queueSelect];
    b.setUint16(COMMON + 22, this.#queueSelect, true);
    b.setUint16(COMMON + 24, q ? q.size : 0, true);
    b.setUint16(COMMON + 26, q ? q.vector : NO_VECTOR, true);
    b.setUint16(COMMON + 28, q?.enabled ? 1 : 0, true);
    b.setUint16(COMMON + 30, q ? this.#queueSelect : 0, true);
    b.setBigUint64(COMMON + 32, q?.desc ?? 0n, true);
    b.setBigUint64(COMMON + 40, q?.avail ?? 0n, true);
    b.setBigUint64(COMMON + 48, q?.used ?? 0n, true);
  }

  #vectorOk(vector: number): number {
    return this.layout.irq.kind === 'msix' && vector < this.layout.irq.vectors ? vector : NO_VECTOR;
  }

  onWrite(bar: number, offset: number, width: 1 | 2 | 4 | 8, value: bigint): void {
    if (bar !== BAR) return;
    if (offset >= NOTIFY && offset < NOTIFY + 0x1000) {
      this.#notify((offset - NOTIFY) / NOTIFY_MULTIPLIER);
      return;
    }
    if (offset >= COMMON + 0x38) return; // ISR and device config are read-only
    this.#writeCommon(offset - COMMON, width, value);
  }

  #writeCommon(offset: number, width: number, value: bigint): void {
    const v = Number(value & 0xffffffffn);
    const b = this.#bar;
    const q = this.#queues[this.#queueSelect];
    // 64-bit ring addresses may come as one 8-byte write or two 4-byte halves.
    const setHalf = (field: 'desc' | 'avail' | 'used', base: number): void => {
      if (q === undefined) return;
      if (width === 8) q[field] = value;
      else if (offset === base) q[field] = (q[field] & ~0xffffffffn) | BigInt(v >>> 0);
      else q[field] = (q[field] & 0xffffffffn) | (BigInt(v >>> 0) << 32n);
    };
    switch (offset) {
      case 0:
        this.#deviceFeatureSelect = v;
        this.#showFeatures();
        b.setUint32(COMMON, v, true);
        return;
      case 8:
        this.#driverFeatureSelect = v;
        b.setUint32(COMMON + 8, v, true);
        return;
      case 12:
        if (this.#driverFeatureSelect < 2) {
          const shift = BigInt(32 * this.#driverFeatureSelect);
          this.#driverFeatures =
            (this.#driverFeatures & ~(0xffffffffn << shift)) | (BigInt(v >>> 0) << shift);
        }
        b.setUint32(COMMON + 12, v, true);
        return;
      case 16:
        b.setUint16(COMMON + 16, this.#vectorOk(v & 0xffff), true);
        return;
      case 20:
        this.#writeStatus(v & 0xff);
        return;
      case 22:
        this.#queueSelect = v & 0xffff;
        this.#showQueue();
        return;
      case 24:
        if (q && !q.enabled) {
          const size = v & 0xffff;
          // Split rings: a power of two no larger than the maximum.
          if (size > 0 && size <= MAX_QUEUE_SIZE && (size & (size - 1)) === 0) q.size = size;
        }
        this.#showQueue();
        return;
      case 26:
        if (q) q.vector = this.#vectorOk(v & 0xffff);
        this.#showQueue();
        return;
      case 28:
        if (q && (v & 0xffff) === 1) q.enabled = true;
        this.#showQueue();
        return;
      case 32:
      case 36:
        setHalf('desc', 32);
        this.#showQueue();
        return;
      case 40:
      case 44:
        setHalf('avail', 40);
        this.#showQueue();
        return;
      case 48:
      case 52:
        setHalf('used', 48);
        this.#showQueue();
        return;
    }
  }

  #writeStatus(status: number): void {
    if (status === 0) {
      this.reset();
      return;
    }
    let next = status;
    if (status & STATUS.featuresOk) {
      const offered = this.#offeredFeatures();
      // FEATURES_OK stays clear if the driver asked for something not offered, or not VERSION_1 (§3.1.1).
      if ((this.#driverFeatures & ~offered) !== 0n || (this.#driverFeatures & VERSION_1) === 0n)
        next &= ~STATUS.featuresOk;
    }
    this.#bar.setUint8(COMMON + 20, next | (this.#bar.getUint8(COMMON + 20) & STATUS.needsReset));
  }

  #status(): number {
    return this.#bar.getUint8(COMMON + 20);
  }

  #needsReset(): void {
    this.#bar.setUint8(COMMON + 20, this.#status() | STATUS.needsReset);
    this.#bar.setUint8(ISR, this.#bar.getUint8(ISR) | 2);
    const vector = this.#bar.getUint16(COMMON + 16, true);
    if (this.layout.irq.kind === 'msix' && vector !== NO_VECTOR) this.#host.raiseIrq(vector);
    else if (this.layout.irq.kind === 'intx') this.#host.raiseIrq(0);
  }

  #notify(index: number): void {
    const q = this.#queues[index];
    if (q === undefined || !q.enabled || (this.#status() & STATUS.driverOk) === 0 || q.hung) return;
    if (this.#status() & STATUS.needsReset) return;
    try {
      const availIdx = this.#read16(q.avail + 2n);
      while (q.lastAvail !== availIdx && !q.hung) {
        const head = this.#read16(q.avail + 4n + 2n * BigInt(q.lastAvail % q.size));
        q.lastAvail = (q.lastAvail + 1) & 0xffff;
        if (index === this.#profile.dataQueues) this.#control(q, head);
        else this.#data(q, head);
        if (this.#removed) return;
      }
    } catch (error) {
      if (!(error instanceof DmaError)) throw error;
      this.#needsReset();
    }
  }

  #read16(address: bigint): number {
    const bytes = this.#dmaRead(address, 2);
    return bytes[0]! | (bytes[1]! << 8);
  }

  #dmaRead(address: bigint, length: number): Uint8Array {
    try {
      return this.#host.dma.read(address, length);
    } catch (error) {
      throw new DmaError('DMA read outside the arena', { cause: error });
    }
  }

  #dmaWrite(address: bigint, data: Uint8Array): void {
    try {
      this.#host.dma.write(address, data);
    } catch (error) {
      throw new DmaError('DMA write outside the arena', { cause: error });
    }
  }

  /** Walk a descriptor chain: device-readable buffers first, then device-writable ones (§2.7.4.2). */
  #chain(q: Queue, head: number): Chain {
    const parts: Uint8Array[] = [];
    const writable: { address: bigint; length: number }[] = [];
    let index = head;
    for (let n = 0; ; n++) {
      if (index >= q.size || n >= MAX_CHAIN) throw new DmaError(`bad descriptor chain from ${head}`);
      const d = new DataView(this.#dmaRead(q.desc + 16n * BigInt(index), 16).buffer);
      const address = d.getBigUint64(0, true);
      const length = d.getUint32(8, true);
      const flags = d.getUint16(12, true);
      if (flags & 2) writable.push({ address, length });
      else if (writable.length > 0) throw new DmaError('a readable descriptor after a writable one');
      else parts.push(this.#dmaRead(address, length));
      if ((flags & 1) === 0) break;
      index = d.getUint16(14, true);
    }
    const total = parts.reduce((s, p) => s + p.length, 0);
    const readable = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      readable.set(p, at);
      at += p.length;
    }
    return { readable, writable };
  }

  /** Scatter `data` over the writable buffers from their start; returns bytes written. */
  #scatter(chain: Chain, data: Uint8Array, limit: number): number {
    let at = 0;
    for (const w of chain.writable) {
      if (at >= data.length || at >= limit) break;
      const n = Math.min(w.length, data.length - at, limit - at);
      this.#dmaWrite(w.address, data.subarray(at, at + n));
      at += n;
    }
    return at;
  }

  /** Write the 1-byte status into the last byte of the last writable buffer (QEMU's rule). */
  #writeStatusByte(chain: Chain, status: number): boolean {
    const last = chain.writable.at(-1);
    if (last === undefined || last.length === 0) return false;
    this.#dmaWrite(last.address + BigInt(last.length - 1), Uint8Array.of(status));
    return true;
  }

  #pushUsed(q: Queue, id: number, length: number): void {
    const at = q.used + 4n + 8n * BigInt(q.usedIdx % q.size);
    const element = new Uint8Array(8);
    const v = new DataView(element.buffer);
    v.setUint32(0, id, true);
    v.setUint32(4, length, true);
    this.#dmaWrite(at, element);
    q.usedIdx = (q.usedIdx + 1) & 0xffff;
    const idx = new Uint8Array(2);
    new DataView(idx.buffer).setUint16(0, q.usedIdx, true);
    this.#dmaWrite(q.used + 2n, idx);
    this.#bar.setUint8(ISR, this.#bar.getUint8(ISR) | 1);
    if (this.layout.irq.kind === 'msix' && q.vector !== NO_VECTOR) this.#host.raiseIrq(q.vector);
    else if (this.layout.irq.kind === 'intx') this.#host.raiseIrq(0);
  }

  // ---- control queue ----

  #control(q: Queue, head: number): void {
    const chain = this.#chain(q, head);
    const r = chain.readable;
    if (r.length < HEADER) throw new DmaError('control request shorter than its header');
    const v = new DataView(r.buffer, r.byteOffset, r.length);
    const opcode = v.getUint32(0, true);
    if (opcode === OP.create) {
      const result = this.#createSession(v, r);
      const out = new Uint8Array(16);
      const o = new DataView(out.buffer);
      o.setBigUint64(0, result.id, true);
      o.setUint32(8, result.status, true);
      const written = this.#scatter(chain, out, 16);
      this.#pushUsed(q, head, written);
    } else if (opcode === OP.destroy) {
      const id = v.getBigUint64(16, true);
      const status = this.#sessions.delete(id) ? CRYPTO_STATUS.ok : CRYPTO_STATUS.err;
      this.#writeStatusByte(chain, status);
      this.#pushUsed(q, head, 1);
    } else {
      this.#writeStatusByte(chain, CRYPTO_STATUS.notsupp);
      this.#pushUsed(q, head, 1);
    }
  }

  #createSession(v: DataView, r: Uint8Array): { id: bigint; status: number } {
    const fail = (status: number) => ({ id: 0n, status });
    const algo = v.getUint32(16, true);
    const keyType = v.getUint32(20, true);
    const keyLength = v.getUint32(24, true);
    const padding = v.getUint32(28, true);
    const hash = v.getUint32(32, true);
    if (keyType !== 1 && keyType !== 2) return fail(CRYPTO_STATUS.notsupp);
    // QEMU answers ERR for every refusal of a session (unknown algorithm, hash, padding, bad key).
    const refuse = this.#profile.name === 'qemu-7.2' ? CRYPTO_STATUS.err : CRYPTO_STATUS.notsupp;
    if (algo !== 1) return fail(refuse);
    if (padding !== 0 && padding !== 1) return fail(refuse);
    if (padding === 1 && !this.#profile.hashes.has(hash)) return fail(refuse);
    if (HEADER + keyLength > r.length) return fail(CRYPTO_STATUS.err);
    if (this.#sessions.size >= this.#profile.maxSessions) return fail(CRYPTO_STATUS.nospc);
    let key: RsaSessionKey;
    try {
      key = importSessionKey(r.subarray(HEADER, HEADER + keyLength), keyType);
    } catch (error) {
      if (error instanceof RsaKeyError) return fail(CRYPTO_STATUS.err);
      throw error;
    }
    const id = this.#allocateSessionId();
    this.#sessions.set(id, { key, padding, hash });
    return { id, status: CRYPTO_STATUS.ok };
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

  // ---- data queue ----

  #data(q: Queue, head: number): void {
    const chain = this.#chain(q, head);
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
      finalStatus = CRYPTO_STATUS.err;
      result = new Uint8Array(0);
    }
    if (fault === 'corrupt-result' && result.length > 0) {
      result = Uint8Array.from(result);
      result[result.length - 1]! ^= 1;
    }
    const outputSpace = chain.writable.reduce((s, w) => s + w.length, 0) - 1;
    const written =
      finalStatus === CRYPTO_STATUS.ok ? this.#scatter(chain, result, Math.max(0, outputSpace)) : 0;
    if (!this.#writeStatusByte(chain, finalStatus)) throw new DmaError('no room for the status byte');
    this.#complete(q, head, written + 1, fault);
  }

  #complete(q: Queue, head: number, length: number, fault: FaultKind | undefined): void {
    switch (fault) {
      case 'drop-completion':
        return;
      case 'duplicate-completion':
        this.#pushUsed(q, head, length);
        this.#pushUsed(q, head, length);
        return;
      case 'garbage-completion':
        this.#pushUsed(q, 0xfff0_0000 + head, 0x7fff_ffff);
        return;
      case 'delay-completion': {
        const epoch = this.#epoch;
        const delay = Number(this.#host.options.delayms ?? '20');
        this.#host.schedule(delay, () => {
          if (epoch === this.#epoch) this.#pushUsed(q, head, length);
        });
        return;
      }
      default:
        this.#pushUsed(q, head, length);
    }
  }

  #operate(r: Uint8Array, writable: Chain['writable']): { status: number; output: Uint8Array } {
    const none = new Uint8Array(0);
    if (r.length < HEADER) return { status: CRYPTO_STATUS.err, output: none };
    const v = new DataView(r.buffer, r.byteOffset, r.length);
    const opcode = v.getUint32(0, true);
    const session = this.#sessions.get(v.getBigUint64(8, true));
    const srcLength = v.getUint32(24, true);
    const dstLength = v.getUint32(28, true);
    if (opcode < OP.encrypt || opcode > OP.verify) return { status: CRYPTO_STATUS.notsupp, output: none };
    if (session === undefined) return { status: CRYPTO_STATUS.invsess, output: none };
    const readableNeeded = HEADER + srcLength + (opcode === OP.verify ? dstLength : 0);
    if (r.length < readableNeeded) return { status: CRYPTO_STATUS.err, output: none };
    const src = r.subarray(HEADER, HEADER + srcLength);
    const room = writable.reduce((s, w) => s + w.length, 0) - 1;
    const { key } = session;
    try {
      switch (opcode) {
        case OP.sign: {
          if (!key.private) return { status: CRYPTO_STATUS.err, output: none };
          if (session.padding !== 1) return { status: CRYPTO_STATUS.err, output: none };
          if (dstLength < key.modulusBytes || room < key.modulusBytes)
            return { status: CRYPTO_STATUS.err, output: none };
          return { status: CRYPTO_STATUS.ok, output: rsaSign(key, session.hash, src) };
        }
        case OP.verify: {
          if (session.padding !== 1) return { status: CRYPTO_STATUS.err, output: none };
          try {
            rsaVerify(key, session.hash, src, r.subarray(HEADER + srcLength, HEADER + srcLength + dstLength));
            return { status: CRYPTO_STATUS.ok, output: none };
          } catch (error) {
            if (error instanceof VerifyFailed) return { status: CRYPTO_STATUS.keyRejected, output: none };
            throw error;
          }
        }
        case OP.encrypt:
        case OP.decrypt: {
          // PKCS#1 v1.5 encryption is not a primitive pkaccel uses; RAW only.
          if (session.padding !== 0 || !this.#profile.raw) return { status: CRYPTO_STATUS.err, output: none };
          if ((opcode === OP.decrypt) !== key.private) return { status: CRYPTO_STATUS.err, output: none };
          if (srcLength !== key.modulusBytes || room < key.modulusBytes)
            return { status: CRYPTO_STATUS.err, output: none };
          return { status: CRYPTO_STATUS.ok, output: rsaRaw(key, src) };
        }
      }
    } catch {
      return { status: CRYPTO_STATUS.err, output: none };
    }
    return { status: CRYPTO_STATUS.notsupp, output: none };
  }
}

const definition: ModelDefinition = {
  name: 'virtio',
  layout: virtioLayout,
  create: (host) => new VirtioCryptoModel(host),
};

export default definition;
