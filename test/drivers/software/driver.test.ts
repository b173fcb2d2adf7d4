/**
 * The software driver object: its role, and its spec options read through
 * core/driver/probe-options (issue 12: `software?worker=2` and
 * `software?workers=0` are refused, with the valid options named).
 */

import { afterAll, describe, expect, it } from 'vitest';
import { type Device, InvalidInputError } from '../../../core/driver/index.js';
import { parseDeviceSpec } from '../../../core/platform/index.js';
import { SOFTWARE_OPTIONS, SoftwareDevice, softwareDriver } from '../../../drivers/software/index.js';
import { openAccelerator } from '../../../index.js';

const opened: Device[] = [];
afterAll(async () => {
  await Promise.all(opened.map((d) => d.close()));
});

async function open(text: string): Promise<Device> {
  const device = await softwareDriver.open(parseDeviceSpec(text));
  opened.push(device);
  return device;
}

describe('softwareDriver', () => {
  it('is the fallback provider, at the lowest priority, and declares its options', () => {
    expect(softwareDriver.role).toBe('fallback');
    expect(softwareDriver.kind).toBe('virtual');
    expect(softwareDriver.priority).toBe(0);
    expect(Object.keys(softwareDriver.options ?? {}).sort()).toEqual(
      ['depth', 'inline', 'pool', 'queues', 'workers'].sort(),
    );
    expect(softwareDriver.options).toBe(SOFTWARE_OPTIONS);
  });

  it('opens a started device with the options given', async () => {
    const device = await open('software?workers=2&queues=3&depth=8&inline=off&pool=uv');
    expect(device).toBeInstanceOf(SoftwareDevice);
    expect(device.queuePairs).toHaveLength(3);
    expect(device.queuePairs[0]!.depth).toBe(8);
    expect((device as SoftwareDevice).poolJobsPerWorker).toHaveLength(2);
    expect(device.state).toBe('ready');
  });

  it.each([
    ['software?worker=2', /unknown option "worker".*workers/],
    ['software?threads=4', /unknown option "threads".*depth, queues, inline, pool/],
  ])('refuses an unknown option: %s', async (text, message) => {
    const attempt = open(text);
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toThrow(message);
  });

  it.each([
    ['software?workers=0', /"workers".*from 1 to 256.*"0"/],
    ['software?workers=abc', /"workers".*"abc"/],
    ['software?depth=0', /"depth".*"0"/],
    ['software?queues=65', /"queues".*"65"/],
    ['software?inline=maybe', /"inline".*on, off.*"maybe"/],
    ['software?pool=threads', /"pool".*workers, uv.*"threads"/],
  ])('refuses a bad value: %s', async (text, message) => {
    const attempt = open(text);
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('refuses them through openAccelerator too', async () => {
    await expect(openAccelerator({ devices: ['software?worker=2'] })).rejects.toThrow(/worker/);
    await expect(openAccelerator({ devices: ['software?workers=0'] })).rejects.toThrow(/workers/);
  });

  it('honours an aborted signal before starting anything', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(softwareDriver.open(parseDeviceSpec('software'), controller.signal)).rejects.toThrow();
  });
});
