/**
 * A card that returns nonsense is taken out of service, without the host ever
 * reading or writing outside its own buffers: garbage from the model's fault
 * injection (a tag never issued, a length past the buffer) and entries forged
 * straight into the completion ring (impossible status, a completion nobody
 * asked for, a verdict that is neither 0 nor 1).
 */
import { describe, expect, it } from 'vitest';
import { type Completion, DeviceGoneError } from '../../../core/driver/index.js';
import { bytesOf, type Card, card, ecKey, harvestAll, rsaKey } from './harness.js';

const key = rsaKey(2048);
const job = (tag: number) => ({
  tag,
  request: { op: 'rsa-private' as const, key, input: bytesOf(12345n, 256) },
});

/** Write a completion entry into queue 0's CQ at `index`, as a malicious card would. */
function forgeCompletion(
  c: Card,
  index: number,
  fields: { tag: number; status: number; length: number },
): void {
  const bar = c.fn.bar(0);
  const cqBase = bar.read64(0x1008);
  const at = Number(cqBase - c.fn.sim.arenaBusBase) + index * 16;
  const view = new DataView(c.fn.sim.arena.buffer, at, 16);
  view.setUint32(0, fields.tag, true);
  view.setUint16(4, fields.status, true);
  view.setUint32(8, fields.length, true);
  view.setUint16(6, 1, true); // phase of the first pass: "new"
}

async function expectOutOfService(c: Card, tags: number[]): Promise<Completion[]> {
  const qp = c.device.queuePairs[0]!;
  const got = await harvestAll(qp, tags.length, 3000);
  expect(got.map((x) => x.tag).sort()).toEqual([...tags].sort());
  for (const x of got) expect(x.ok ? 'ok' : x.error.code).toBe('device-gone');
  expect(c.device.state).toBe('failed');
  expect(() => qp.submit([job(99)])).toThrow(DeviceGoneError);
  expect(c.fn.sim.dmaFaults).toBe(0);
  return got;
}

describe('malicious ring card', () => {
  it('a completion tag the driver never issued: out of service, the job fails with device-gone', async () => {
    const c = await card('mode=inline&depth=8&faults=garbage@1');
    const states: string[] = [];
    c.device.subscribe((e) => {
      if (e.type === 'state') states.push(`${e.state}:${e.reason ?? ''}`);
    });
    c.device.queuePairs[0]!.submit([job(1)]);
    await expectOutOfService(c, [1]);
    expect(states.length).toBe(1);
    expect(states[0]).toMatch(/^failed:.*did not issue/);
  });

  it('a result length past the buffer: out of service without reading it', async () => {
    const c = await card('mode=inline&depth=8&faults=garbage@2');
    const qp = c.device.queuePairs[0]!;
    qp.submit([job(1)]);
    const [first] = await harvestAll(qp, 1);
    expect(first!.ok).toBe(true);
    qp.submit([job(2), job(3)]);
    await expectOutOfService(c, [2, 3]);
  });

  it('an impossible status value: out of service', async () => {
    const c = await card('mode=inline&depth=8&faults=hang@1');
    const qp = c.device.queuePairs[0]!;
    qp.submit([job(5)]); // hangs on the card: the forged entry below is the only completion
    // The driver's tag for its first descriptor is (use 1 << 12) | area; forge exactly that with a bad status.
    const area = 0;
    forgeCompletion(c, 0, { tag: (1 << 12) | area, status: 0x99, length: 0 });
    await expectOutOfService(c, [5]);
  });

  it('a completion when nothing is in flight: out of service', async () => {
    const c = await card('mode=inline&depth=8');
    forgeCompletion(c, 0, { tag: 0x1000, status: 0, length: 256 });
    const qp = c.device.queuePairs[0]!;
    expect(qp.harvest(() => {})).toBe(0);
    expect(c.device.state).toBe('failed');
  });

  it('a verify verdict other than 0 or 1: out of service', async () => {
    const c = await card('mode=inline&depth=8&faults=hang@1');
    const qp = c.device.queuePairs[0]!;
    const ec = ecKey('P-256');
    qp.submit([
      {
        tag: 9,
        request: {
          op: 'ecdsa-verify',
          key: ec.publicKey,
          digest: new Uint8Array(32),
          signature: new Uint8Array(64).fill(1),
        },
      },
    ]);
    // Write a verdict of 7 into the job's result area and complete it "OK".
    const bar = c.fn.bar(0);
    const sqBase = bar.read64(0x1000);
    const desc = new DataView(c.fn.sim.arena.buffer, Number(sqBase - c.fn.sim.arenaBusBase), 64);
    const dst = desc.getBigUint64(0x18, true);
    c.fn.sim.arena[Number(dst - c.fn.sim.arenaBusBase)] = 7;
    forgeCompletion(c, 0, { tag: desc.getUint32(4, true), status: 0, length: 1 });
    await expectOutOfService(c, [9]);
  });
});
