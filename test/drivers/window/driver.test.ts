/**
 * The window driver against the inline model: bring-up, capabilities, operand
 * layout, opcode/start/busy/done, results against independent references,
 * scheduling over engines, interrupts and masking, polling, resets, scrubbing.
 */

import { createPublicKey, privateDecrypt, publicEncrypt, constants as sslConstants } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bigintToBytes,
  bytesToBigint,
  CURVES,
  type EcPoint,
  RsaPrivateKeyMaterial,
} from '../../../core/driver/index.js';
import { modPow } from '../../../core/math/index.js';
import { ENGINE, engineReg, REG, SLOT, slotOffset } from '../../../drivers/window/registers.js';
import { closeAfterEach } from '../../support/sim.js';
import {
  collect,
  contains,
  ecKey,
  leBytes,
  type OpenedCard,
  openCard,
  referenceMul,
  rsaKey,
  runOne,
} from './helpers.js';

async function open(query = ''): Promise<OpenedCard> {
  return closeAfterEach(await openCard(query));
}

function word(bar: Uint8Array, offset: number): number {
  return new DataView(bar.buffer, bar.byteOffset).getUint32(offset, true);
}

describe('window driver: bring-up', () => {
  it('identifies the card, advertises its primitives and unmasks one interrupt per engine', async () => {
    const card = await open('engines=3');
    expect(card.device.info).toMatchObject({
      driver: 'window',
      model: 'window card (3 engines)',
      priority: 300,
    });
    expect(card.device.state).toBe('ready');
    expect(card.device.capabilities).toEqual([
      { op: 'rsa-public', modulusBits: { min: 512, max: 4096 } },
      { op: 'rsa-private', modulusBits: { min: 512, max: 4096 }, multiPrime: false, keyStorage: ['inline'] },
      { op: 'ec-mul', curves: ['P-256', 'P-384', 'P-521'], keyStorage: ['inline'] },
    ]);
    expect(card.qp.depth).toBe(3);
    expect(card.fn.bar(0).read32(REG.IRQ_MASK)).toBe(~0b111 >>> 0);
  });

  it('narrows ec-mul to the curves in CAPS, and keeps interrupts masked without a line', async () => {
    const card = await open('curves=P-384&irq=none');
    expect(card.device.capabilities.find((c) => c.op === 'ec-mul')?.curves).toEqual(['P-384']);
    expect(card.fn.bar(0).read32(REG.IRQ_MASK)).toBe(0xffffffff);
  });
});

describe('window driver: operations', () => {
  it('rsa-public: operands in slots 0–2 as little-endian words, opcode and lengths latched, result right', async () => {
    const card = await open();
    const { material, key } = rsaKey(2048);
    const input = bigintToBytes(0x1234567890abcdefn ** 9n % material.n, 256);
    expect(card.qp.submit([{ tag: 1, request: { op: 'rsa-public', key: material.publicKey, input } }])).toBe(
      1,
    );
    // Inline mode: the model computes on the next tick, so the window still shows what the driver wrote.
    const bar = card.bar;
    expect(word(bar, engineReg(0, ENGINE.OPCODE))).toBe(0x01);
    expect(word(bar, engineReg(0, ENGINE.LEN_A))).toBe(64);
    expect(word(bar, engineReg(0, ENGINE.LEN_B))).toBe(1);
    expect(word(bar, engineReg(0, ENGINE.STATUS))).toBe(1);
    expect(bar.subarray(slotOffset(0, SLOT.X), slotOffset(0, SLOT.X) + 256)).toEqual(
      leBytes(bytesToBigint(input), 256),
    );
    expect(word(bar, slotOffset(0, SLOT.EXPONENT))).toBe(65537);
    expect(bar.subarray(slotOffset(0, SLOT.MODULUS), slotOffset(0, SLOT.MODULUS) + 256)).toEqual(
      leBytes(material.n, 256),
    );
    const [done] = await collect(card.qp, 1);
    expect(done).toMatchObject({ tag: 1, ok: true });
    // Independent reference: OpenSSL's raw RSA decryption of the card's output gives the input back.
    const out = (done as { value: Uint8Array }).value;
    expect(new Uint8Array(privateDecrypt({ key, padding: sslConstants.RSA_NO_PADDING }, out))).toEqual(input);
    expect(card.device.engineOpCounts()).toEqual([1, 0]);
  });

  it('rsa-private (CRT) matches OpenSSL and leaves no key material in the BAR', async () => {
    const card = await open();
    const { material, key } = rsaKey(2048);
    const message = bigintToBytes(0xabcdefn ** 40n % material.n, 256);
    const c = await runOne(card.qp, { op: 'rsa-private', key: material, input: message });
    expect(c.ok).toBe(true);
    const expected = publicEncrypt(
      { key: createPublicKey(key), padding: sslConstants.RSA_NO_PADDING },
      // publicEncrypt raw is m^e; use it to check s^e = m instead.
      (c as { value: Uint8Array }).value,
    );
    expect(new Uint8Array(expected)).toEqual(message);
    const bar = card.bar;
    for (const secret of [material.p, material.q, material.dp, material.dq, material.qi, material.d]) {
      expect(contains(bar, leBytes(secret, 128).subarray(0, 16))).toBe(false);
      expect(contains(bar, bigintToBytes(secret, 256).subarray(-16))).toBe(false);
    }
    // The result of a private operation is scrubbed too.
    expect(
      contains(bar, leBytes(bytesToBigint((c as { value: Uint8Array }).value), 256).subarray(0, 16)),
    ).toBe(false);
  });

  it('rsa-private at 4096 bits (the card limit) and rsa-public at 1024', async () => {
    const card = await open();
    const big = rsaKey(4096).material;
    const x = 0x77n ** 300n % big.n;
    const s = await runOne(card.qp, { op: 'rsa-private', key: big, input: bigintToBytes(x, 512) });
    expect(s.ok && bytesToBigint(s.value as Uint8Array)).toBe(modPow(x, big.d, big.n));
    const small = rsaKey(1024).material;
    const v = await runOne(card.qp, {
      op: 'rsa-public',
      key: small.publicKey,
      input: bigintToBytes(3n, 128),
    });
    expect(v.ok && bytesToBigint(v.value as Uint8Array)).toBe(modPow(3n, small.e, small.n));
  });

  it('ec-mul on P-256, P-384 and P-521: d·G equals the public key node made, d·Q matches core/math', async () => {
    const card = await open();
    for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
      const key = ecKey(curve);
      const pub = await runOne(card.qp, { op: 'ec-mul', curve, scalar: key });
      expect(pub).toMatchObject({ ok: true, value: { x: key.publicKey.x, y: key.publicKey.y } });
      const peer = ecKey(curve).publicKey;
      const k = 0x1234567n;
      const shared = await runOne(card.qp, { op: 'ec-mul', curve, scalar: k, point: peer });
      expect(shared.ok && (shared.value as EcPoint)).toEqual(referenceMul(curve, k, peer));
      // Scalar and result scrubbed; curve parameters (public) may stay.
      const words = Math.ceil(CURVES[curve].bytes / 4);
      const bar = card.bar;
      expect(contains(bar, leBytes(key.d, words * 4))).toBe(false);
      expect(contains(bar, leBytes(referenceMul(curve, k, peer)!.x, words * 4))).toBe(false);
    }
  });

  it('spreads a batch over the engines, takes no more than the depth, completes each tag once', async () => {
    const card = await open('engines=3');
    const { material } = rsaKey(1024);
    const jobs = Array.from({ length: 5 }, (_, i) => ({
      tag: 100 + i,
      request: {
        op: 'rsa-public' as const,
        key: material.publicKey,
        input: bigintToBytes(BigInt(i + 2), 128),
      },
    }));
    expect(card.qp.submit(jobs)).toBe(3);
    expect(card.qp.inFlight).toBe(3);
    expect(card.qp.submit(jobs.slice(3))).toBe(0);
    const first = await collect(card.qp, 3);
    expect(card.qp.inFlight).toBe(0);
    expect(card.qp.submit(jobs.slice(3))).toBe(2);
    const rest = await collect(card.qp, 2);
    const all = [...first, ...rest];
    expect(all.map((c) => c.tag).sort()).toEqual([100, 101, 102, 103, 104]);
    for (const c of all) {
      expect(c.ok && bytesToBigint(c.value as Uint8Array)).toBe(
        modPow(BigInt(c.tag - 98), material.e, material.n),
      );
    }
    expect(card.device.engineOpCounts()).toEqual([2, 2, 1]);
  });

  it('completes what the card cannot do with a typed error, without touching an engine', async () => {
    const card = await open('curves=P-256');
    const ec = ecKey('P-256');
    const { material } = rsaKey(1024);
    const multi = new RsaPrivateKeyMaterial(
      material.n,
      material.e,
      material.d,
      material.p,
      material.q,
      1n,
      1n,
      1n,
      [{ r: 7n, d: 1n, t: 1n }],
    );
    const cases = [
      { op: 'ecdsa-sign', key: ec, digest: new Uint8Array(32) },
      { op: 'ec-mul', curve: 'P-384', scalar: 5n },
      { op: 'rsa-private', key: multi, input: new Uint8Array(128) },
    ] as const;
    for (const request of cases) {
      const c = await runOne(card.qp, request);
      expect(c.ok ? undefined : c.error.code).toBe('unsupported');
    }
    const bad = [
      { op: 'rsa-public', key: material.publicKey, input: bigintToBytes(material.n, 128) },
      { op: 'rsa-public', key: material.publicKey, input: new Uint8Array(64) },
      { op: 'ec-mul', curve: 'P-256', scalar: 0n },
      { op: 'ec-mul', curve: 'P-256', scalar: CURVES['P-256'].n },
    ] as const;
    for (const request of bad) {
      const c = await runOne(card.qp, request);
      expect(c.ok ? undefined : c.error.code).toBe('invalid-input');
    }
    // A point that is not on the curve is refused by the card (NOT_ON_CURVE) as invalid input.
    const off = await runOne(card.qp, { op: 'ec-mul', curve: 'P-256', scalar: 3n, point: { x: 1n, y: 1n } });
    expect(off.ok ? undefined : off.error.code).toBe('invalid-input');
    expect(card.device.engineOpCounts()).toEqual([0, 0]);
    expect(card.device.state).toBe('ready');
  });
});

describe('window driver: completion paths', () => {
  it('is woken by the interrupt even when the safety poll is an hour away', async () => {
    const card = await open('poll=3600000');
    const { material } = rsaKey(1024);
    const c = await runOne(card.qp, {
      op: 'rsa-public',
      key: material.publicKey,
      input: bigintToBytes(9n, 128),
    });
    expect(c.ok).toBe(true);
    // The driver acknowledged the interrupt (§9 step 1).
    expect(card.fn.bar(0).read32(REG.IRQ_STATUS)).toBe(0);
  });

  it('polls without an interrupt line', async () => {
    const card = await open('irq=none');
    const k = ecKey('P-256');
    const c = await runOne(card.qp, { op: 'ec-mul', curve: 'P-256', scalar: k });
    expect(c).toMatchObject({ ok: true, value: { x: k.publicKey.x } });
  });

  it('waitForCompletions honours abort, and returns at once with nothing in flight', async () => {
    const card = await open('faults=hang@1');
    await card.qp.waitForCompletions(); // nothing in flight
    const { material } = rsaKey(1024);
    card.qp.submit([
      { tag: 1, request: { op: 'rsa-public', key: material.publicKey, input: bigintToBytes(2n, 128) } },
    ]);
    const controller = new AbortController();
    const waiting = card.qp.waitForCompletions(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    expect(await card.qp.abandon()).toEqual([1]);
    expect(card.qp.inFlight).toBe(0);
  });

  it('abandon resets the engines; the card serves again afterwards', async () => {
    const card = await open('faults=hang@1,hang@2');
    const { material } = rsaKey(1024);
    const req = (x: bigint) => ({
      op: 'rsa-public' as const,
      key: material.publicKey,
      input: bigintToBytes(x, 128),
    });
    card.qp.submit([
      { tag: 1, request: req(2n) },
      { tag: 2, request: req(3n) },
    ]);
    expect([...(await card.qp.abandon())].sort()).toEqual([1, 2]);
    const c = await runOne(card.qp, req(4n), 3);
    expect(c.ok && bytesToBigint(c.value as Uint8Array)).toBe(modPow(4n, material.e, material.n));
  });

  it('device reset abandons jobs in flight, zeroes operand RAM and comes back ready', async () => {
    const card = await open('faults=hang@1');
    const { material } = rsaKey(1024);
    const states: string[] = [];
    card.device.subscribe((e) => e.type === 'state' && states.push(e.state));
    card.qp.submit([
      { tag: 1, request: { op: 'rsa-private', key: material, input: bigintToBytes(2n, 128) } },
    ]);
    expect(contains(card.bar, leBytes(material.p, 64).subarray(0, 16))).toBe(true);
    await card.device.reset();
    expect(states).toEqual(['resetting', 'ready']);
    expect(card.qp.inFlight).toBe(0);
    expect(contains(card.bar, leBytes(material.p, 64).subarray(0, 16))).toBe(false);
    const c = await runOne(card.qp, { op: 'rsa-private', key: material, input: bigintToBytes(2n, 128) });
    expect(c.ok && bytesToBigint(c.value as Uint8Array)).toBe(modPow(2n, material.d, material.n));
  });

  it('close zeroes operand RAM, completes nothing twice, and refuses later submissions', async () => {
    const card = await openCard('faults=hang@1');
    const { material } = rsaKey(1024);
    card.qp.submit([
      { tag: 1, request: { op: 'rsa-private', key: material, input: bigintToBytes(2n, 128) } },
    ]);
    const mmio = card.fn.bar(0);
    await card.close();
    expect(card.device.state).toBe('closed');
    expect(() => card.qp.submit([])).toThrow(/closed/);
    const seen: number[] = [];
    card.qp.harvest((c) => seen.push(c.tag));
    card.qp.harvest((c) => seen.push(c.tag));
    expect(seen).toEqual([1]);
    void mmio;
  });
});

describe('window driver: worker-thread card', () => {
  it('runs RSA and EC jobs concurrently on a card whose model runs in a worker', async () => {
    const card = await open('mode=worker&engines=2');
    expect(card.fn.sim.mode).toBe('worker');
    const { material } = rsaKey(2048);
    const ec = ecKey('P-384');
    const x = 0xfeedn ** 30n % material.n;
    card.qp.submit([
      { tag: 1, request: { op: 'rsa-private', key: material, input: bigintToBytes(x, 256) } },
      { tag: 2, request: { op: 'ec-mul', curve: 'P-384', scalar: ec } },
    ]);
    const byTag = new Map((await collect(card.qp, 2)).map((c) => [c.tag, c]));
    const s = byTag.get(1)!;
    expect(s.ok && bytesToBigint(s.value as Uint8Array)).toBe(modPow(x, material.d, material.n));
    expect(byTag.get(2)).toMatchObject({ ok: true, value: { x: ec.publicKey.x, y: ec.publicKey.y } });
    const bar = card.bar;
    expect(contains(bar, leBytes(material.p, 128).subarray(0, 16))).toBe(false);
    expect(contains(bar, leBytes(ec.d, 48))).toBe(false);
    expect(card.device.engineOpCounts()).toEqual([1, 1]);
  });
});
