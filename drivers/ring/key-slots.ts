/**
 * The card's key slots (docs/hardware/ring-card.md §6) as the driver manages
 * them: a private key is loaded once per device and then referenced by slot;
 * the least recently used unpinned slot is reused when the card is full; a key
 * used by a descriptor in flight is pinned. After a card reset every slot is
 * empty, so keys are reloaded on their next use. The DMA blob that carried a
 * key is zeroed as soon as the card has read it.
 */

import {
  bigintToBytes,
  byteLength,
  CURVES,
  DeviceError,
  type EcPrivateKeyMaterial,
  InvalidKeyError,
  type KeySlots,
  type PrivateKeyMaterial,
  type RsaPrivateKeyMaterial,
  UnsupportedError,
} from '../../core/driver/index.js';
import type { DmaBuffer } from '../../core/platform/dma.js';
import type { Mmio } from '../../core/platform/mmio.js';
import { CURVE_ID, KCMD, REG, STATUS } from './registers.js';

/** Largest key blob: six 512-byte fields (4096-bit RSA with an e as long as n). */
export const KEY_STAGING_BYTES = 6 * 512;

/** How many KCMD_STATUS reads to wait for a command before calling the card broken. */
const KCMD_POLL_LIMIT = 100_000;

interface SlotEntry {
  readonly key: PrivateKeyMaterial;
  readonly slot: number;
  pins: number;
  /** When it was last acquired (a use counter): the least recently used unpinned slot is evicted. */
  lastUse: number;
}

export type SlotKey = RsaPrivateKeyMaterial | EcPrivateKeyMaterial;

export class KeySlotManager implements KeySlots {
  readonly capacity: number;
  readonly #bar: Mmio;
  readonly #staging: DmaBuffer;
  readonly #onBroken: (reason: string) => void;
  /** Loaded keys. Recency is a counter per entry, not Map order: re-inserting on every use costs a hash-table churn per job. */
  readonly #byKey = new Map<PrivateKeyMaterial, SlotEntry>();
  #uses = 0;
  readonly #bySlot: (SlotEntry | undefined)[];
  /** Counts of loads, for tests and statistics. */
  loads = 0;

  constructor(bar: Mmio, capacity: number, staging: DmaBuffer, onBroken: (reason: string) => void) {
    this.capacity = capacity;
    this.#bar = bar;
    this.#staging = staging;
    this.#onBroken = onBroken;
    this.#bySlot = new Array<SlotEntry | undefined>(capacity);
  }

  holds(key: PrivateKeyMaterial): boolean {
    return this.#byKey.has(key);
  }

  /**
   * The slot holding `key`, loading it if needed, pinned until `release`.
   * Undefined when every slot is pinned by work in flight. Throws InvalidKeyError
   * or UnsupportedError when the card refuses the key, DeviceError when it fails.
   */
  acquire(key: SlotKey): number | undefined {
    const held = this.#byKey.get(key);
    if (held) {
      held.lastUse = ++this.#uses;
      held.pins++;
      return held.slot;
    }
    const slot = this.#freeSlot();
    if (slot === undefined) return undefined;
    this.#load(key, slot);
    const entry: SlotEntry = { key, slot, pins: 1, lastUse: ++this.#uses };
    this.#bySlot[slot] = entry;
    this.#byKey.set(key, entry);
    return slot;
  }

  release(slot: number): void {
    const entry = this.#bySlot[slot];
    if (entry && entry.pins > 0) entry.pins--;
  }

  /** The card says the slot is empty: forget it, so the next use reloads the key. */
  forget(slot: number): void {
    const entry = this.#bySlot[slot];
    if (!entry) return;
    this.#bySlot[slot] = undefined;
    this.#byKey.delete(entry.key);
  }

  /** The card was reset (its slots are empty) or the queue pairs abandoned their work. */
  clear(): void {
    this.#byKey.clear();
    this.#bySlot.fill(undefined);
  }

  /** Unpin everything (after the jobs that pinned slots were abandoned). */
  unpinAll(): void {
    for (const entry of this.#byKey.values()) entry.pins = 0;
  }

  #freeSlot(): number | undefined {
    for (let slot = 0; slot < this.capacity; slot++) if (this.#bySlot[slot] === undefined) return slot;
    let victim: SlotEntry | undefined;
    for (const entry of this.#byKey.values()) {
      if (entry.pins === 0 && (victim === undefined || entry.lastUse < victim.lastUse)) victim = entry;
    }
    if (victim === undefined) return undefined;
    this.forget(victim.slot);
    return victim.slot;
  }

  #load(key: SlotKey, slot: number): void {
    const blob = key.kind === 'rsa-private' ? rsaBlob(key) : ecBlob(key);
    try {
      if (blob.length > this.#staging.size)
        throw new UnsupportedError(`${key} is too large for the card's key slots`);
      this.#staging.bytes.set(blob);
      this.#bar.barrier();
      const before = this.#bar.read32(REG.KCMD_STATUS) >>> 16;
      this.#bar.write32(REG.KCMD_ADDR_LO, Number(this.#staging.busAddress & 0xffffffffn));
      this.#bar.write32(REG.KCMD_ADDR_HI, Number(this.#staging.busAddress >> 32n));
      this.#bar.write32(REG.KCMD_LEN, blob.length);
      this.#bar.write32(REG.KCMD_SLOT, slot);
      this.#bar.write32(REG.KCMD_OP, key.kind === 'rsa-private' ? KCMD.LOAD_RSA : KCMD.LOAD_EC);
      const status = this.#waitCommand(before);
      this.loads++;
      if (status === STATUS.OK) return;
      const what = `loading ${key} into key slot ${slot}`;
      if (status === STATUS.INVALID_OPERAND) throw new InvalidKeyError(`the card refused the key (${what})`);
      if (status === STATUS.UNSUPPORTED)
        throw new UnsupportedError(`the card does not support this key (${what})`);
      if (status === STATUS.DMA_FAULT) throw new DeviceError(`DMA fault while ${what}`);
      this.#onBroken(`key command returned status ${status} while ${what}`);
      throw new DeviceError(`the card returned status ${status} while ${what}`);
    } finally {
      blob.fill(0);
      this.#staging.zero();
    }
  }

  #waitCommand(before: number): number {
    for (let i = 0; i < KCMD_POLL_LIMIT; i++) {
      const value = this.#bar.read32(REG.KCMD_STATUS);
      if (value === 0xffffffff) throw new DeviceError('the card stopped answering during a key command');
      const status = value & 0xffff;
      if (status !== STATUS.BUSY && value >>> 16 !== before) return status;
    }
    this.#onBroken('a key command never finished');
    throw new DeviceError('a key command never finished');
  }
}

/** LOAD_RSA blob: p ‖ q ‖ dp ‖ dq ‖ qinv ‖ e, six fields of h bytes. */
function rsaBlob(key: RsaPrivateKeyMaterial): Uint8Array {
  const fields = [key.p, key.q, key.dp, key.dq, key.qi, key.e];
  const h = Math.max(...fields.map((f) => byteLength(f)));
  const blob = new Uint8Array(6 * h);
  fields.forEach((f, i) => {
    const bytes = bigintToBytes(f, h);
    blob.set(bytes, i * h);
    bytes.fill(0);
  });
  return blob;
}

/** LOAD_EC blob: curve ID ‖ d. */
function ecBlob(key: EcPrivateKeyMaterial): Uint8Array {
  if (key.curve !== 'P-256' && key.curve !== 'P-384')
    throw new UnsupportedError(`the card has no ${key.curve}`);
  const L = CURVES[key.curve].bytes;
  const blob = new Uint8Array(1 + L);
  blob[0] = CURVE_ID[key.curve];
  const d = bigintToBytes(key.d, L);
  blob.set(d, 1);
  d.fill(0);
  return blob;
}
