import { firstValueFrom, from, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { openAccelerator } from '../../core/api/index.js';
import type { Device, VirtualDriver } from '../../core/driver/index.js';
import { Registry } from '../../core/registry/registry.js';
import { expectedValue, FakeDevice, request } from '../support/fake-device.js';

function registryWith(devices: Record<string, () => Device>): Registry {
  const registry = new Registry();
  for (const [scheme, make] of Object.entries(devices)) {
    const driver: VirtualDriver = {
      kind: 'virtual',
      name: scheme,
      scheme,
      priority: 100,
      // The fallback is chosen by role (COORDINATION contract 5), not by the name.
      ...(scheme === 'software' ? { role: 'fallback' as const } : {}),
      open: async () => make(),
    };
    registry.registerDriver(driver);
  }
  return registry;
}

describe('the queue on the accelerator', () => {
  it('exposes queue.submit, queue.process, stats$ and events$, and passes queue options through', async () => {
    const card = new FakeDevice({ id: 'card', qp: { depth: 4, latencyMs: 1 } });
    const accel = await openAccelerator({
      devices: ['card'],
      registry: registryWith({ card: () => card }),
      queue: { maxBacklog: 2, onBacklogFull: 'reject', statsIntervalMs: 10 },
    });
    await expect(accel.queue.submit(request(1))).resolves.toEqual(expectedValue(request(1)));
    const stats = firstValueFrom(accel.stats$.pipe(take(1)));
    const reqs = Array.from({ length: 6 }, (_, i) => request(i));
    const out = await firstValueFrom(accel.queue.process(from(reqs), { concurrency: 2 }).pipe(toArray()));
    expect(out).toEqual(reqs.map(expectedValue));
    expect((await stats).devices[0]!.id).toBe('card');
    // Backlog bound 2, policy reject: with 4 in flight and 2 waiting, the 7th is refused.
    const burst = Array.from({ length: 7 }, (_, i) => accel.queue.submit(request(i)));
    const settled = await Promise.allSettled(burst);
    expect(
      settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason.code),
    ).toEqual(['queue-full']);
    await accel.close();
    expect(card.state).toBe('closed');
  });

  it('opens the software device as a fallback when asked, and fails over to it', async () => {
    const card = new FakeDevice({ id: 'card', priority: 500 });
    const soft = new FakeDevice({ id: 'software', driver: 'software', priority: 0 });
    const accel = await openAccelerator({
      devices: ['card'],
      registry: registryWith({ card: () => card, software: () => soft }),
      softwareFallback: true,
    });
    const events: string[] = [];
    accel.events$.subscribe((e) => events.push(`${e.type}:${e.device}`));
    expect(accel.devices.map((d) => d.id)).toEqual(['card', 'software']);
    await accel.queue.submit(request(1));
    expect(card.queuePairs[0]!.submitted).toBe(1);
    expect(soft.queuePairs[0]!.submitted).toBe(0);
    card.setState('failed', 'test');
    await expect(accel.queue.submit(request(2))).resolves.toEqual(expectedValue(request(2)));
    expect(soft.queuePairs[0]!.submitted).toBe(1);
    // Then recovery: reset and self-test, which the fake (its rsa-public is not RSA) fails.
    expect(events[0]).toBe('device-failed:card');
    expect(new Set(events)).toEqual(new Set(['device-failed:card']));
    expect(accel.queue.snapshot().devices.find((d) => d.id === 'software')!.fallback).toBe(true);
    await accel.close();
  });
});
