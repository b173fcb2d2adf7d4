/**
 * Recovery (issue 11 §2): a device that leaves service (it failed, went gone, or
 * collected `faultThreshold` faults) is reset, self-tested with the known-answer
 * vectors (core/selftest) and returned only if they pass, with backoff between
 * attempts; a card that keeps failing stays out; with every capable device out,
 * jobs fail with DeviceGoneError naming them, not UnsupportedError.
 */

import { describe, expect, it } from 'vitest';
import { bytesToBigint } from '../../core/driver/bytes.js';
import type { Device, DeviceEvent, DeviceState, QueuePair } from '../../core/driver/device.js';
import { DeviceGoneError, UnsupportedError } from '../../core/driver/errors.js';
import type { PrimitiveRequest } from '../../core/driver/primitives.js';
import { modPow } from '../../core/math/modular.js';
import { parseDeviceSpec } from '../../core/platform/pci.js';
import { JobQueue, type QueueEvent } from '../../core/queue/index.js';
import { selfTestDevice } from '../../core/selftest/index.js';
import { softwareDriver } from '../../drivers/software/index.js';
import { virtioCryptoDriver } from '../../drivers/virtio-crypto/index.js';
import { cachedRsaKey } from '../support/keys.js';
import { closeAfterEach, openRing, openSimCard } from '../support/sim.js';
import { passQueuePair, WrappedDevice } from '../support/wrapped-device.js';

const key = cachedRsaKey(2048).material;

/** An RSA private-key request whose correct answer we know (input = answer^e mod n). */
function signJob(i: number): { request: PrimitiveRequest; answer: bigint } {
  const answer = (BigInt(i + 2) * 0x1234_5678_9abc_def1n) % key.n;
  const input = modPow(answer, key.e, key.n);
  const bytes = Uint8Array.from(Buffer.from(input.toString(16).padStart(512, '0'), 'hex'));
  return { request: { op: 'rsa-private', key, input: bytes }, answer };
}

const asBig = (value: unknown): bigint => bytesToBigint(value as Uint8Array);

/** Submits `count` sign jobs at once: each is answered right, or fails typed (DeviceGoneError) when the card's trouble caught it. */
async function expectRightOrGone(q: JobQueue, count: number): Promise<void> {
  const jobs = Array.from({ length: count }, (_, i) => signJob(i));
  const outcomes = await Promise.allSettled(jobs.map((j) => q.submit(j.request)));
  for (const [i, o] of outcomes.entries()) {
    if (o.status === 'fulfilled') expect(asBig(o.value)).toBe(jobs[i]!.answer);
    else expect(o.reason).toBeInstanceOf(DeviceGoneError);
  }
}

function recorder(q: JobQueue): QueueEvent[] {
  const events: QueueEvent[] = [];
  q.events$.subscribe((e) => events.push(e));
  return events;
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('recovery of a device that left service', () => {
  it('the known-answer self-test passes on a healthy ring card and fails on one that corrupts results', async () => {
    const good = await selfTestDevice(await openRing(''));
    expect(good.ran).toBeGreaterThan(10);
    expect(good.failures).toEqual([]);
    expect(good.passed).toBe(true);
    const bad = await selfTestDevice(await openRing('faults=corrupt:1&seed=3'));
    expect(bad.passed).toBe(false);
    expect(bad.failures.length).toBeGreaterThan(0);
  });

  it('counts what a card refuses as refused, not failed, but fails a card that refuses every case', async () => {
    // QEMU 7.2's profile claims RAW RSA and SHA-384 sessions, then refuses them (nettle):
    // a fresh card learns that during its first self-test, which must not keep it out.
    const qemu = await openSimCard<Device>(virtioCryptoDriver, 'sim:virtio?mode=inline&profile=qemu-7.2');
    closeAfterEach(qemu.device);
    const first = await selfTestDevice(qemu.device);
    expect(first.refused).toBeGreaterThan(0);
    expect(first.failures).toEqual([]);
    expect(first.passed).toBe(true);
    const again = await selfTestDevice(qemu.device);
    expect(again.refused).toBe(0);
    expect(again.ran).toBe(first.ran - first.refused);
    expect(again.passed).toBe(true);

    // A card that refuses everything it claims proves nothing: it fails.
    const refusing = new (class extends WrappedDevice {
      override get queuePairs(): readonly QueuePair[] {
        return this.inner.queuePairs.map((qp) =>
          passQueuePair(qp, {
            harvest: (sink, max) =>
              qp.harvest(
                (c) =>
                  sink(
                    c.ok ? { tag: c.tag, ok: false, error: new UnsupportedError('refused by the test') } : c,
                  ),
                max,
              ),
          }),
        );
      }
    })(await openRing(''));
    const none = await selfTestDevice(refusing);
    expect(none.refused).toBe(none.ran);
    expect(none.passed).toBe(false);
    expect(none.failures[0]?.detail).toMatch(/refused every case/);
  });

  it('resets a failed card, self-tests it, and sends work to it again', async () => {
    // garbage@3: the third operation gets nonsense in its completion; the driver takes the card out of service.
    const ring = await openRing('faults=garbage@3');
    const q = new JobQueue({ timeoutMs: 20_000 });
    const events = recorder(q);
    q.addDevice(ring);
    // Jobs caught by the failure were retried; the card came back in time for them or they failed typed.
    await expectRightOrGone(q, 6);
    await until('the card back in service', () => q.devices[0]!.inService);
    const types = events.map((e) => e.type);
    expect(types).toContain('device-failed');
    const recovered = events.find((e) => e.type === 'device-recovered');
    expect(recovered).toMatchObject({ device: ring.info.id });
    expect((recovered as { selfTest?: number }).selfTest).toBeGreaterThan(10);
    expect(q.devices[0]!.recovery).toBe('none');
    // Work flows to it again.
    const again = signJob(40);
    expect(asBig(await q.submit(again.request, { device: ring.info.id }))).toBe(again.answer);
    await q.close();
  });

  it('keeps a card that fails its self-test out of service, with backoff, and says why', async () => {
    const ring = await openRing('faults=corrupt:1&seed=7');
    let selfTests = 0;
    const started: number[] = [];
    const q = new JobQueue({
      recoveryAttempts: 3,
      recoveryBackoffMs: 40,
      selfTest: (device, options) => {
        selfTests++;
        started.push(performance.now());
        return selfTestDevice(device, options);
      },
    });
    const events = recorder(q);
    q.addDevice(ring);
    // Every result is corrupt: the integrity gate withholds them and counts faults until the card leaves service.
    const jobs = Array.from({ length: 4 }, (_, i) => q.submit(signJob(i).request).catch((e: unknown) => e));
    for (const outcome of await Promise.all(jobs)) expect(outcome).toBeInstanceOf(Error);
    await until('recovery to give up', () => q.devices[0]!.recovery === 'given-up');
    expect(selfTests).toBe(3);
    // Exponential backoff: 40 ms, then 80 ms between attempts (at least).
    expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(35);
    expect(started[2]! - started[1]!).toBeGreaterThanOrEqual(75);
    expect(events.some((e) => e.type === 'device-recovered')).toBe(false);
    const failures = events
      .filter((e) => e.type === 'device-failed')
      .map((e) => (e as { reason: string }).reason);
    expect(failures.some((r) => /self-test failed/.test(r))).toBe(true);
    expect(q.devices[0]!.inService).toBe(false);
    expect(q.devices[0]!.faults.integrity).toBeGreaterThanOrEqual(3);
    // The only capable device is out: DeviceGoneError naming it and why, not UnsupportedError.
    const error = await q.submit(signJob(9).request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceGoneError);
    expect(error).toMatchObject({ code: 'device-gone', device: ring.info.id });
    expect((error as Error).message).toContain(ring.info.id);
    expect((error as Error).message).toMatch(/out of service/);
    expect((error as Error).message).toMatch(/self-test failed/);
    await q.close();
  });

  it('names every capable device out of service in the DeviceGoneError', async () => {
    const a = await openRing('faults=corrupt:1&seed=1');
    const b = await openRing('faults=corrupt:1&seed=2');
    const q = new JobQueue({ recoveryAttempts: 1 });
    q.addDevice(a);
    q.addDevice(b);
    await Promise.allSettled(Array.from({ length: 12 }, (_, i) => q.submit(signJob(i).request)));
    await until('both to give up', () => q.devices.every((d) => d.recovery === 'given-up'));
    const error = (await q.submit(signJob(1).request).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(DeviceGoneError);
    expect(error.message).toContain(a.info.id);
    expect(error.message).toContain(b.info.id);
    expect(error.message).toMatch(/every capable device is out of service/);
    await q.close();
  });
});

/**
 * A device that can be pulled out and put back, over the software provider (real
 * results, so the self-test means something): while removed its state is `gone`,
 * submit throws DeviceGoneError and reset fails, as a removed PCI card's would.
 */
class RemovableDevice extends WrappedDevice {
  readonly #listeners = new Set<(event: DeviceEvent) => void>();
  #present = true;
  resets = 0;

  override get info() {
    return { ...this.inner.info, id: 'removable' };
  }
  override get state(): DeviceState {
    return this.#present ? this.inner.state : 'gone';
  }
  override subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  override async reset(signal?: AbortSignal): Promise<void> {
    this.resets++;
    if (!this.#present) throw new DeviceGoneError('the card is not present');
    await this.inner.reset(signal);
  }
  remove(): void {
    this.#present = false;
    this.#emit({ type: 'state', state: 'gone', reason: 'surprise removal' });
  }
  insert(): void {
    this.#present = true;
    this.#emit({ type: 'state', state: 'ready' });
  }
  #emit(event: DeviceEvent): void {
    for (const l of this.#listeners) l(event);
  }
  protected override wrapQueuePair(qp: QueuePair): QueuePair {
    return passQueuePair(qp, {
      submit: (jobs) => {
        if (!this.#present) throw new DeviceGoneError('the card is not present');
        return qp.submit(jobs);
      },
    });
  }
}

describe('a surprise-removed card', () => {
  it('stays out while gone and returns after its self-test when present again; work flows to it again', async () => {
    const software = closeAfterEach(await softwareDriver.open(parseDeviceSpec('software')));
    const card = new RemovableDevice(software);
    let selfTests = 0;
    const q = new JobQueue({
      selfTest: (device, options) => {
        selfTests++;
        return selfTestDevice(device, options);
      },
    });
    const events = recorder(q);
    q.addDevice(card);
    const one = signJob(1);
    expect(asBig(await q.submit(one.request))).toBe(one.answer);

    card.remove();
    await until('the card out of service', () => !q.devices[0]!.inService);
    expect(q.devices[0]!.recovery).toBe('absent');
    const whileGone = (await q.submit(signJob(2).request).catch((e: unknown) => e)) as Error;
    expect(whileGone).toBeInstanceOf(DeviceGoneError);
    expect(whileGone.message).toMatch(/removable/);
    expect(whileGone.message).toMatch(/present again/);
    // Nothing is tried while it is absent.
    await new Promise((r) => setTimeout(r, 50));
    expect(selfTests).toBe(0);

    card.insert();
    await until('the card back in service', () => q.devices[0]!.inService);
    expect(card.resets).toBeGreaterThanOrEqual(1);
    expect(selfTests).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['device-added', 'device-removed', 'device-recovered']);
    const three = signJob(3);
    expect(asBig(await q.submit(three.request))).toBe(three.answer);
    await q.close();
  });
});

describe('a simulated ring card removed and re-inserted', () => {
  it('is gone while removed, then reset, self-tested and back in service; work flows to it again', async () => {
    // remove@3: the card vanishes at its third operation; reinsert=300: it is back 300 ms later.
    const ring = await openRing('faults=remove@3&reinsert=300');
    const q = new JobQueue({ timeoutMs: 20_000, recoveryBackoffMs: 50 });
    const events = recorder(q);
    q.addDevice(ring);
    await expectRightOrGone(q, 4);
    expect(events.map((e) => e.type)).toContain('device-removed');
    await until('the card back in service', () => q.devices[0]!.inService);
    expect(events.find((e) => e.type === 'device-recovered')).toMatchObject({ device: ring.info.id });
    const again = signJob(30);
    expect(asBig(await q.submit(again.request, { device: ring.info.id }))).toBe(again.answer);
    await q.close();
  });
});
