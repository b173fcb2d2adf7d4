/**
 * Stall detection through a broker (issue 15): a `broker:` device is a link to a queue
 * shared with other clients, so it may hold a client's jobs far longer than the latency
 * the client learned while the broker is alive and busy. The client's job queue must not
 * take it out of service for that (Device.lastHeard, kept fresh by keep-alives); a broker
 * that stops answering must still be judged stalled. Both brokers run in this process,
 * over a fake card whose every job takes SLOW_MS — several times the client's stall limit.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accelerator, openAccelerator } from '../../core/api/index.js';
import { Registry } from '../../core/registry/registry.js';
import { brokerDriver } from '../../drivers/broker/driver.js';
import {
  emptyFrame,
  encodeCapabilities,
  encodeFrames,
  FrameReader,
  FrameType,
  PROTOCOL_ID,
  textField,
} from '../../drivers/broker/protocol.js';
import { type Broker, serve } from '../../server/index.js';
import { expectedValue, fakeDriver, request } from '../support/fake-device.js';

/** A job on the broker's card takes this long: 3× the client's stall limit below. */
const SLOW_MS = 1500;
/**
 * The client's stall limit: a queue pair silent this long is stalled (the ceiling, which is
 * the limit before any latency was learned; the floor is the default 250 ms).
 */
const STALL_MS = 500;
const CLIENT_QUEUE = { stallCeilingMs: STALL_MS, stallFactor: 1 };

let dir: string;
let card: Accelerator;
let broker: Broker;

function clientRegistry(): Registry {
  const registry = new Registry();
  registry.registerDriver(brokerDriver);
  return registry;
}

/**
 * Whether the client's queue abandoned the broker device's queue pair (a stall): its jobs
 * were re-run, or the device left service.
 */
function judgedStalled(accel: Accelerator): boolean {
  const s = accel.queue.snapshot();
  return s.retried > 0 || s.devices.some((d) => !d.inService);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkaccel-broker-stall-'));
  const registry = new Registry();
  const { driver } = fakeDriver({
    name: 'slow',
    scheme: 'slow',
    priority: 10,
    capabilities: [{ op: 'rsa-public' }],
    compute: expectedValue,
    // One engine: the jobs queue on the card and answer one by one, SLOW_MS apart.
    qp: { depth: 64, latencyMs: SLOW_MS, engines: 1 },
  });
  registry.registerDriver(driver);
  card = await openAccelerator({ devices: ['slow'], registry });
  broker = await serve({ socketPath: join(dir, 'b.sock'), accelerator: card, nonDumpable: false });
});

afterAll(async () => {
  await broker?.close({ drainMs: 0 });
  await card?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('stall detection through a broker', () => {
  it('a broker that is slow because its card is busy is not judged stalled: every job completes, no re-run', async () => {
    const accel = await openAccelerator({
      devices: [`broker:${broker.path}?reconnect=off`],
      registry: clientRegistry(),
      queue: CLIENT_QUEUE,
    });
    try {
      const requests = [0, 1].map((i) => request(i));
      const values = await Promise.all(requests.map((r) => accel.queue.submit(r)));
      const hex = (v: unknown) => Buffer.from(v as Uint8Array).toString('hex');
      expect(values.map(hex)).toEqual(requests.map((r) => hex(expectedValue(r))));
      expect(judgedStalled(accel)).toBe(false);
    } finally {
      await accel.close();
    }
  });

  it('a broker that stops answering is still judged stalled', async () => {
    // Answers HELLO with the card's capabilities, then reads and answers nothing.
    const silent: Server = createServer((socket) => {
      const reader = new FrameReader();
      socket.on('data', (chunk: Buffer) => {
        for (const f of reader.push(chunk)) {
          if (f.type !== FrameType.hello) continue;
          const hello = emptyFrame(FrameType.hello);
          hello.fields[1] = textField(PROTOCOL_ID);
          hello.fields[2] = encodeCapabilities([{ op: 'rsa-public' }]);
          socket.write(encodeFrames([hello]));
        }
      });
      socket.on('error', () => {});
    });
    const path = join(dir, 'silent.sock');
    await new Promise<void>((resolve) => silent.listen(path, resolve));
    const accel = await openAccelerator({
      devices: [`broker:${path}?reconnect=off`],
      registry: clientRegistry(),
      queue: { ...CLIENT_QUEUE, timeoutMs: 60_000 },
    });
    try {
      expect(judgedStalled(accel)).toBe(false);
      const job = accel.queue.submit(request(0)).catch((error: unknown) => error);
      // No wall-clock bound on the detection itself: wait until the reset is seen (or the job ends).
      const deadline = Date.now() + 30_000;
      while (!judgedStalled(accel) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(judgedStalled(accel)).toBe(true);
      await accel.close({ drain: false });
      expect(await job).toBeInstanceOf(Error);
    } finally {
      await accel.close();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
