import {
  constants,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  publicEncrypt,
  sign,
  verify,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, DeviceGoneError, type Job } from '../../../core/driver/index.js';
import { ownedBuffer } from '../../../core/encoding/bytes.js';
import { completionPhase, readCompletion, writeDescriptor } from '../../../drivers/ring/requests.js';
import { bytesOf, card, ecKey, freshRsaKey, harvestAll, openCard, rsaKey, runOne } from './harness.js';

function rsaJwkPublic(n: bigint, e: bigint) {
  const b64 = (v: bigint) =>
    Buffer.from(v.toString(16).padStart(Math.ceil(v.toString(16).length / 2) * 2, '0'), 'hex').toString(
      'base64url',
    );
  return createPublicKey({ format: 'jwk', key: { kty: 'RSA', n: b64(n), e: b64(e) } });
}

describe('ring driver: codecs', () => {
  it('encodes a descriptor at the datasheet offsets, little-endian, reserved fields zero', () => {
    const bytes = new Uint8Array(128).fill(0xee);
    const view = new DataView(bytes.buffer);
    writeDescriptor(view, 64, {
      opcode: 0x02,
      flags: 1,
      keySlot: 0x0102,
      tag: 0xa1b2c3d4,
      srcAddr: 0x1_0000_1000n,
      srcLen: 256,
      dstAddr: 0x1_0000_2000n,
      dstLen: 256,
      keyAddr: 0n,
      keyLen: 0,
      param: 256,
    });
    const d = bytes.subarray(64);
    expect([...d.subarray(0, 8)]).toEqual([0x02, 0x01, 0x02, 0x01, 0xd4, 0xc3, 0xb2, 0xa1]);
    expect(view.getBigUint64(64 + 0x08, true)).toBe(0x1_0000_1000n);
    expect(view.getUint32(64 + 0x10, true)).toBe(256);
    expect(view.getBigUint64(64 + 0x18, true)).toBe(0x1_0000_2000n);
    expect(view.getUint16(64 + 0x34, true)).toBe(256);
    expect([...d.subarray(0x36)].every((b) => b === 0)).toBe(true);
    expect(view.getUint32(64 + 0x14, true)).toBe(0);
    expect(bytes[63]).toBe(0xee); // nothing written before the descriptor
  });

  it('decodes a completion and its phase bit', () => {
    const view = new DataView(new ArrayBuffer(16));
    view.setUint32(0, 0x1234, true);
    view.setUint16(4, 6, true);
    view.setUint16(6, 1, true);
    view.setUint32(8, 32, true);
    view.setUint32(12, 5, true);
    expect(readCompletion(view, 0)).toEqual({
      tag: 0x1234,
      status: 6,
      phase: 1,
      resultLength: 32,
      sqHead: 5,
    });
    expect(completionPhase(view, 0)).toBe(1);
  });
});

describe('ring driver on the inline simulator', () => {
  it('probes: capabilities from CAPS, queue pairs, priority above software', async () => {
    const { device } = await card();
    expect(device.state).toBe('ready');
    expect(device.info.priority).toBeGreaterThan(0);
    expect(device.queuePairs.length).toBe(4);
    expect(device.queuePairs[0]!.depth).toBe(7);
    const ops = device.capabilities.map((c) => c.op).sort();
    expect(ops).toEqual(['ecdh', 'ecdsa-sign', 'ecdsa-verify', 'rsa-private', 'rsa-public', 'rsa-verify']);
    expect(device.capabilities.find((c) => c.op === 'rsa-verify')).toMatchObject({
      paddings: ['pkcs1-v1_5', 'pss'],
      hashes: ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'],
    });
    const sign = device.capabilities.find((c) => c.op === 'ecdsa-sign')!;
    expect(sign.curves).toEqual(['P-256', 'P-384']);
    expect(device.keySlots.capacity).toBe(64);
  });

  it('RSA-2048 private (CRT, key slot) and public give the right results', async () => {
    const { device } = await card();
    const qp = device.queuePairs[0]!;
    const key = rsaKey(2048);
    const x = bytesOf(0x1234567890abcdefn ** 8n, 256);
    const signed = await runOne(qp, { op: 'rsa-private', key, input: x });
    expect(signed.ok).toBe(true);
    const s = (signed as { value: Uint8Array }).value;
    // A plain array (queue.submit's callers keep what they get; nothing marks it): a taker copies.
    expect(Object.getPrototypeOf(s)).toBe(Uint8Array.prototype);
    expect(ownedBuffer(s)).not.toBe(s.buffer);
    // The caller takes the buffer (RSA signing for subtle): handed over — a fresh copy out of the
    // operand area, nothing of the driver's — its own buffer is what subtle returns, once; a
    // second taker gets a copy.
    const taken = await runOne(qp, { op: 'rsa-private', key, input: x, takesBuffer: true });
    const t = (taken as { value: Uint8Array }).value;
    expect(Buffer.from(t).equals(Buffer.from(s))).toBe(true);
    const buffer = ownedBuffer(t);
    expect(buffer).toBe(t.buffer);
    expect(buffer.byteLength).toBe(256);
    expect(ownedBuffer(t)).not.toBe(t.buffer);
    const nodePub = rsaJwkPublic(key.n, key.e);
    expect(
      Buffer.from(publicEncrypt({ key: nodePub, padding: constants.RSA_NO_PADDING }, s)).equals(
        Buffer.from(x),
      ),
    ).toBe(true);
    const back = await runOne(qp, { op: 'rsa-public', key: key.publicKey, input: s });
    expect(Buffer.from((back as { value: Uint8Array }).value).equals(Buffer.from(x))).toBe(true);
    expect(device.keySlots.holds(key)).toBe(true);
  });

  it('input not below the modulus completes with invalid-input', async () => {
    const { device } = await card();
    const key = rsaKey(2048);
    const c = await runOne(device.queuePairs[0]!, {
      op: 'rsa-public',
      key: key.publicKey,
      input: new Uint8Array(256).fill(0xff),
    });
    expect(c.ok).toBe(false);
    expect(c.ok ? undefined : c.error.code).toBe('invalid-input');
  });

  for (const engine of ['real', 'null'] as const) {
    it(`${engine} engine: an RSA private input of n or above is refused, n − 1 is taken`, async () => {
      const { device } = await card(`mode=inline&depth=8&engine=${engine}`);
      const qp = device.queuePairs[0]!;
      const key = rsaKey(2048);
      const run = (value: bigint) => runOne(qp, { op: 'rsa-private', key, input: bytesOf(value, 256) });
      for (const input of [key.n, key.n + 1n]) {
        const c = await run(input);
        expect(c.ok ? undefined : c.error.code).toBe('invalid-input');
      }
      expect((await run(key.n - 1n)).ok).toBe(true);
    });
  }

  for (const engine of ['real', 'null'] as const) {
    it(`${engine} engine: an ECDSA verify under a public key off the curve is refused, before and after a valid one`, async () => {
      const { device } = await card(`mode=inline&depth=8&engine=${engine}`);
      const qp = device.queuePairs[0]!;
      const good = ecKey('P-256').publicKey;
      const bad = { ...good, y: good.y ^ 1n };
      const verify = (key: typeof good) =>
        runOne(qp, {
          op: 'ecdsa-verify',
          key,
          digest: new Uint8Array(32).fill(7),
          signature: new Uint8Array(64).fill(1),
        });
      for (const key of [bad, good, bad]) {
        const c = await verify(key);
        if (key === good) expect(c.ok).toBe(true);
        else expect(c.ok ? undefined : c.error.code).toBe('invalid-input');
      }
    });
  }

  for (const curve of ['P-256', 'P-384'] as const) {
    it(`ECDSA ${curve} sign verifies with node, verify agrees with node, ECDH matches node`, async () => {
      const { device } = await card();
      const qp = device.queuePairs[1]!;
      const key = ecKey(curve);
      const hash = curve === 'P-256' ? 'sha256' : 'sha384';
      const message = Buffer.from('pkaccel ring card');
      const digest = createHash(hash).update(message).digest();
      const signed = await runOne(qp, { op: 'ecdsa-sign', key, digest });
      expect(signed.ok).toBe(true);
      const signature = (signed as { value: Uint8Array }).value;
      const L = curve === 'P-256' ? 32 : 48;
      const b64 = (v: bigint) => Buffer.from(bytesOf(v, L)).toString('base64url');
      const jwk = { kty: 'EC', crv: curve, x: b64(key.publicKey.x), y: b64(key.publicKey.y), d: b64(key.d) };
      const nodePub = createPublicKey({ format: 'jwk', key: { ...jwk, d: undefined } });
      expect(verify(hash, message, { key: nodePub, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);

      const nodeSig = sign(hash, message, {
        key: createPrivateKey({ format: 'jwk', key: jwk }),
        dsaEncoding: 'ieee-p1363',
      });
      const good = await runOne(qp, { op: 'ecdsa-verify', key: key.publicKey, digest, signature: nodeSig });
      expect(good).toMatchObject({ ok: true, value: true });
      const tampered = Uint8Array.from(nodeSig);
      tampered[5]! ^= 1;
      const bad = await runOne(qp, { op: 'ecdsa-verify', key: key.publicKey, digest, signature: tampered });
      expect(bad).toMatchObject({ ok: true, value: false });
      const short = await runOne(qp, {
        op: 'ecdsa-verify',
        key: key.publicKey,
        digest,
        signature: nodeSig.subarray(1),
      });
      expect(short).toMatchObject({ ok: true, value: false });

      const peer = ecKey(curve);
      const shared = await runOne(qp, { op: 'ecdh', key, peer: peer.publicKey });
      const nodeEcdh = createECDH(curve === 'P-256' ? 'prime256v1' : 'secp384r1');
      nodeEcdh.setPrivateKey(bytesOf(peer.d, L));
      const point = Buffer.concat([Buffer.of(4), bytesOf(key.publicKey.x, L), bytesOf(key.publicKey.y, L)]);
      expect(Buffer.from((shared as { value: Uint8Array }).value).equals(nodeEcdh.computeSecret(point))).toBe(
        true,
      );
    });
  }

  it('requests the card lacks (P-521, Ed25519, multi-prime) are accepted and complete unsupported, without a descriptor', async () => {
    const { device } = await card();
    const qp = device.queuePairs[0]!;
    const before = (qp as unknown as { submitted: number }).submitted;
    const p521 = ecKey('P-521');
    const c = await runOne(qp, { op: 'ecdsa-sign', key: p521, digest: new Uint8Array(64) });
    expect(c.ok ? undefined : c.error.code).toBe('unsupported');
    const m = await runOne(qp, { op: 'ec-mul', curve: 'P-256', scalar: 5n });
    expect(m.ok ? undefined : m.error.code).toBe('unsupported');
    expect((qp as unknown as { submitted: number }).submitted).toBe(before);
  });

  it('ring wrap-around: many batches through a depth-4 ring, phase bits flip, one doorbell per batch', async () => {
    const { device } = await card('mode=inline&depth=4');
    const qp = device.queuePairs[2]!;
    expect(qp.depth).toBe(3);
    const key = rsaKey(2048).publicKey;
    const nodePub = rsaJwkPublic(key.n, key.e);
    const inputs = Array.from({ length: 25 }, (_, i) => bytesOf(BigInt(i + 2) ** 100n, 256));
    const pending = [...inputs.keys()];
    const results = new Map<number, Uint8Array>();
    let batches = 0;
    const signal = AbortSignal.timeout(10_000);
    while (results.size < inputs.length) {
      if (pending.length > 0) {
        const jobs: Job[] = pending
          .slice(0, 5)
          .map((i) => ({ tag: 1000 + i, request: { op: 'rsa-public', key, input: inputs[i]! } }));
        const taken = qp.submit(jobs);
        expect(taken).toBeLessThanOrEqual(3);
        if (taken > 0) batches++;
        pending.splice(0, taken);
      }
      await qp.waitForCompletions(signal);
      qp.harvest((c) => {
        expect(c.ok).toBe(true);
        results.set(c.tag - 1000, (c as { value: Uint8Array }).value);
      });
    }
    for (const [i, value] of results) {
      const expected = publicEncrypt({ key: nodePub, padding: constants.RSA_NO_PADDING }, inputs[i]!);
      expect(Buffer.from(value).equals(expected)).toBe(true);
    }
    expect((qp as unknown as { doorbells: number }).doorbells).toBe(batches);
    expect(qp.inFlight).toBe(0);
  });

  it('submit accepts only what fits (depth − inFlight)', async () => {
    const { device } = await card('mode=inline&depth=4');
    const qp = device.queuePairs[0]!;
    const key = rsaKey(2048).publicKey;
    const jobs: Job[] = Array.from({ length: 6 }, (_, i) => ({
      tag: i,
      request: { op: 'rsa-public', key, input: bytesOf(7n, 256) },
    }));
    expect(qp.submit(jobs)).toBe(3);
    expect(qp.inFlight).toBe(3);
    expect(qp.submit(jobs.slice(3))).toBe(0);
    const done = await harvestAll(qp, 3);
    expect(done.map((c) => c.tag).sort()).toEqual([0, 1, 2]);
    expect(qp.submit(jobs.slice(3))).toBe(3);
    await harvestAll(qp, 3);
  });

  it('interrupts wake waitForCompletions (polling fallback set to 10 s, so only the interrupt can)', async () => {
    const { device, fn } = await card('mode=inline&depth=8&poll=10000');
    const qp = device.queuePairs[3]!;
    const started = Date.now();
    const c = await runOne(qp, { op: 'rsa-public', key: rsaKey(2048).publicKey, input: bytesOf(3n, 256) });
    expect(c.ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fn.irqSupport.kind).toBe('msix');
  });

  it('polling mode (irq=poll) completes without interrupts', async () => {
    const { device } = await card('mode=inline&depth=8&irq=poll');
    const c = await runOne(device.queuePairs[0]!, {
      op: 'rsa-public',
      key: rsaKey(2048).publicKey,
      input: bytesOf(3n, 256),
    });
    expect(c.ok).toBe(true);
  });

  it('reset: jobs abandoned, key slots emptied on the card, keys reloaded transparently on next use', async () => {
    const { device } = await card();
    const qp = device.queuePairs[0]!;
    const key = rsaKey(2048);
    const x = bytesOf(99n, 256);
    const first = await runOne(qp, { op: 'rsa-private', key, input: x });
    expect(device.keySlots.loads).toBe(1);
    const states: string[] = [];
    device.subscribe((e) => {
      if (e.type === 'state') states.push(e.state);
    });
    await device.reset();
    expect(states).toEqual(['resetting', 'ready']);
    expect(device.keySlots.holds(key)).toBe(false);
    const again = await runOne(qp, { op: 'rsa-private', key, input: x });
    expect(device.keySlots.loads).toBe(2);
    expect(
      again.ok && first.ok && Buffer.from(again.value as Uint8Array).equals(first.value as Uint8Array),
    ).toBe(true);
  });

  it('key slots: loaded once, least recently used evicted when full, reloaded when needed again', async () => {
    const { device } = await card('mode=inline&depth=8&slots=2');
    const qp = device.queuePairs[0]!;
    const [a, b, c] = [freshRsaKey(), freshRsaKey(), freshRsaKey()];
    const input = bytesOf(5n, 64);
    for (const key of [a, b, a, b])
      expect((await runOne(qp, { op: 'rsa-private', key, input })).ok).toBe(true);
    expect(device.keySlots.loads).toBe(2);
    await runOne(qp, { op: 'rsa-private', key: a, input }); // a is now most recently used
    await runOne(qp, { op: 'rsa-private', key: c, input }); // evicts b
    expect(device.keySlots.loads).toBe(3);
    expect([device.keySlots.holds(a), device.keySlots.holds(b), device.keySlots.holds(c)]).toEqual([
      true,
      false,
      true,
    ]);
    const rb = await runOne(qp, { op: 'rsa-private', key: b, input });
    expect(rb.ok).toBe(true);
    expect(device.keySlots.loads).toBe(4);
  });

  it('abandon: in-flight jobs are given back by tag, the queue works afterwards', async () => {
    const { device } = await card('mode=inline&depth=8&faults=hang@1');
    const qp = device.queuePairs[0]!;
    const key = rsaKey(2048).publicKey;
    expect(qp.submit([{ tag: 41, request: { op: 'rsa-public', key, input: bytesOf(2n, 256) } }])).toBe(1);
    await expect(qp.waitForCompletions(AbortSignal.timeout(100))).rejects.toMatchObject({ code: 'aborted' });
    expect(await qp.abandon()).toEqual([41]);
    expect(qp.inFlight).toBe(0);
    const c = await runOne(qp, { op: 'rsa-public', key, input: bytesOf(2n, 256) });
    expect(c.ok).toBe(true);
  });

  it('close: the device is closed, submit throws DeviceGoneError', async () => {
    const { device } = await openCard();
    await device.close();
    expect(device.state).toBe('closed');
    expect(() => device.queuePairs[0]!.submit([])).toThrow(DeviceGoneError);
    await device.close(); // idempotent
  });

  it('bigint helper sanity', () => {
    expect(bigintToBytes(258n, 2)).toEqual(Uint8Array.of(1, 2));
  });
});

describe('ring driver probe options', () => {
  it('reads its options by schema: bad values and names nobody knows are refused, naming them', async () => {
    await expect(openCard('mode=inline&depth=8&poll=soon')).rejects.toThrow(
      /option "poll" must be an integer/,
    );
    await expect(openCard('mode=inline&depth=8&irq=maybe')).rejects.toThrow(
      /option "irq" must be one of msix, poll/,
    );
    await expect(openCard('mode=inline&depth=8&coalesce_us=5')).rejects.toThrow(
      /unknown option "coalesce_us"/,
    );
    await expect(openCard('mode=inline&depth=12')).rejects.toThrow(/depth=12/);
    // `queues` and `depth` are read by both the card (how many it has, what the arena is sized for)
    // and the driver (how many it uses): one value for both.
    const { device } = await openCard('mode=inline&depth=8&queues=5&coalesce=4&coalesceUs=100');
    try {
      expect(device.queuePairs.length).toBe(5);
      expect(device.queuePairs[0]!.depth).toBe(7);
    } finally {
      await device.close();
    }
  });
});
