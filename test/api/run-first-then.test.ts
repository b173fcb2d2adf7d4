/**
 * PrimitiveExecutor.runFirstThen (core/driver/device.ts): the caller's last step applied where
 * the job settles, so `subtle`'s sign and verify make one promise per call. The job's promise
 * resolves with `finish.value(index, value, device)` and rejects with `finish.error(error)` on
 * every way a job can fail (refused at intake, no capable device, aborted, a value the step
 * refuses); core/algorithms' runFirstThen gives the same results on an executor without it.
 * Through `subtle`, a device value of the wrong shape is still an OperationError.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { nullRegistry } from '../../bench/lib/registries.js';
import { runFirstThen } from '../../core/algorithms/results.js';
import { type Accelerator, openAccelerator } from '../../core/api/index.js';
import type { Finish, PrimitiveExecutor, PrimitiveRequest, PrimitiveValue } from '../../core/driver/index.js';
import { DeviceError } from '../../core/driver/index.js';
import { JobQueue } from '../../core/queue/index.js';
import { GATE_OFF_OPTIONS, rejectionOf } from '../support/accel.js';
import { expectedValue, FakeDevice, nullDevice, request } from '../support/fake-device.js';
import { newEcKey } from '../support/keys.js';

/** A last step that records what it was given and marks what passes through it. */
class Marking implements Finish<{ index: number; value: PrimitiveValue; device: string }> {
  errors: unknown[] = [];
  value(index: number, value: PrimitiveValue, device: string) {
    return { index, value, device };
  }
  error(error: unknown): unknown {
    this.errors.push(error);
    return new Error('mapped', { cause: error });
  }
}

/** The same step, refusing every value. */
class Refusing extends Marking {
  override value(): never {
    throw new DeviceError('refused by the step');
  }
}

const queues: JobQueue[] = [];
afterEach(async () => {
  for (const q of queues.splice(0)) await q.close({ drain: false });
});

function queueWith(device?: FakeDevice): JobQueue {
  const queue = new JobQueue({ integrity: GATE_OFF_OPTIONS, retries: 0 });
  if (device !== undefined) queue.addDevice(device);
  queues.push(queue);
  return queue;
}

/** The queue as an executor without runFirstThen: the algorithms layer's fallback. */
function withoutThen(queue: JobQueue): PrimitiveExecutor {
  return {
    supports: (r) => queue.supports(r),
    run: (r, o) => queue.run(r, o),
    runFirst: (alternatives, o) => queue.runFirst(alternatives, o),
  };
}

const executors: [string, (q: JobQueue) => PrimitiveExecutor][] = [
  ['the job queue', (q) => q],
  ['an executor without runFirstThen (fallback)', withoutThen],
];

describe.each(executors)('runFirstThen through %s', (_name, executor) => {
  it('resolves with the step applied to the alternative that ran', async () => {
    const queue = queueWith(new FakeDevice({ id: 'dev' }));
    const job: PrimitiveRequest = request(1);
    const unsupported = { op: 'ecdh', key: undefined, peer: { x: 1n, y: 2n } } as never as PrimitiveRequest;
    const finish = new Marking();
    const out = await runFirstThen(executor(queue), [unsupported, job], undefined, finish);
    expect(out.index).toBe(1);
    expect(out.device).toBe('dev');
    expect(out.value).toEqual(expectedValue(job));
    expect(finish.errors).toEqual([]);
  });

  it('rejects with the step’s error when the step throws on the value', async () => {
    const queue = queueWith(new FakeDevice({ id: 'dev' }));
    const finish = new Refusing();
    const error = await rejectionOf(runFirstThen(executor(queue), [request(1)], undefined, finish));
    expect(error.message).toBe('mapped');
    expect(error.cause).toBeInstanceOf(DeviceError);
    expect(finish.errors).toHaveLength(1);
  });

  it('rejects through the step when the device fails the job', async () => {
    const queue = queueWith(new FakeDevice({ id: 'dev', qp: { behave: () => 'error' } }));
    const finish = new Marking();
    const error = await rejectionOf(runFirstThen(executor(queue), [request(1)], undefined, finish));
    expect(error.message).toBe('mapped');
    expect((error.cause as { code?: string }).code).toBe('device-error');
  });

  it('rejects through the step when no device can run it, or it is given nothing', async () => {
    const queue = queueWith(new FakeDevice({ id: 'dev', ops: ['rsa-private'] }));
    const finish = new Marking();
    const none = await rejectionOf(runFirstThen(executor(queue), [request(1)], undefined, finish));
    expect((none.cause as { code?: string }).code).toBe('unsupported');
    const empty = await rejectionOf(runFirstThen(executor(queue), [], undefined, finish));
    expect((empty.cause as { code?: string }).code).toBe('unsupported');
    expect(finish.errors).toHaveLength(2);
  });

  it('rejects through the step when its signal aborts, before or in flight', async () => {
    const queue = queueWith(new FakeDevice({ id: 'dev', qp: { behave: () => 'hang' } }));
    const finish = new Marking();
    const before = await rejectionOf(
      runFirstThen(executor(queue), [request(1)], { signal: AbortSignal.abort() }, finish),
    );
    expect((before.cause as { code?: string }).code).toBe('aborted');
    const controller = new AbortController();
    const pending = runFirstThen(executor(queue), [request(2)], { signal: controller.signal }, finish);
    controller.abort();
    const during = await rejectionOf(pending);
    expect((during.cause as { code?: string }).code).toBe('aborted');
    expect(finish.errors).toHaveLength(2);
  });
});

describe('subtle with the step applied by the queue', () => {
  let accel: Accelerator | undefined;
  afterEach(async () => {
    await accel?.close();
    accel = undefined;
  });

  async function open(value: PrimitiveValue, op: 'ecdsa-sign' | 'ecdsa-verify') {
    accel = await openAccelerator({
      devices: ['null'],
      registry: nullRegistry(() => nullDevice(value, { ops: [op] })),
      queue: { integrity: GATE_OFF_OPTIONS, retries: 0 },
    });
    const { jwk } = newEcKey('P-256');
    const { d: _d, ...pub } = jwk;
    const alg = { name: 'ECDSA', namedCurve: 'P-256' };
    const usage = op === 'ecdsa-sign' ? 'sign' : 'verify';
    return accel.subtle.importKey('jwk', usage === 'sign' ? jwk : pub, alg, false, [usage]);
  }

  const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };
  const data = new Uint8Array([1, 2, 3]);

  it('verify: a device verdict that is not a boolean is an OperationError, the DeviceError its cause', async () => {
    const key = await open(new Uint8Array(1), 'ecdsa-verify');
    const error = await rejectionOf(accel!.subtle.verify(ecdsa, key, new Uint8Array(64).fill(1), data));
    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe('OperationError');
    expect(error.cause).toBeInstanceOf(DeviceError);
  });

  it('sign: a signature of the wrong length is an OperationError; a right one an ArrayBuffer', async () => {
    const short = await open(new Uint8Array(63), 'ecdsa-sign');
    const error = await rejectionOf(accel!.subtle.sign(ecdsa, short, data));
    expect(error.name).toBe('OperationError');
    expect(error.cause).toBeInstanceOf(DeviceError);
    await accel!.close();
    const key = await open(new Uint8Array(64).fill(7), 'ecdsa-sign');
    const signature = await accel!.subtle.sign(ecdsa, key, data);
    expect(signature).toBeInstanceOf(ArrayBuffer);
    expect(new Uint8Array(signature)).toEqual(new Uint8Array(64).fill(7));
  });

  it('each call gets a promise of its own, also for a signature that cannot be valid', async () => {
    const key = await open(true, 'ecdsa-verify');
    const zero = new Uint8Array(64);
    const [a, b] = [
      accel!.subtle.verify(ecdsa, key, zero, data),
      accel!.subtle.verify(ecdsa, key, zero, data),
    ];
    expect(a).not.toBe(b);
    expect(await Promise.all([a, b])).toEqual([false, false]);
  });
});
