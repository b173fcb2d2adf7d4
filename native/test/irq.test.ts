import { spawnSync } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, DeviceGoneError } from '../../core/driver/errors.js';
import { createEventFd, FdIrq } from '../lib/index.js';
import { requireAddon } from './helpers.js';

beforeAll(requireAddon);

const errors = {
  AbortedError,
  DeviceGoneError,
  UnsupportedError: Error,
  InvalidInputError: Error,
};

function fire(fd: number, count = 1): void {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(count));
  writeSync(fd, b);
}

/** Interrupts a test opened: closed after it (closing an irq twice is a no-op), with their eventfds. */
const opened: { irq: FdIrq; device: number }[] = [];
afterEach(() => {
  for (const { irq, device } of opened.splice(0)) {
    irq.close();
    closeSync(device);
  }
});

function eventIrq(): { irq: FdIrq; device: number } {
  // the test plays the device: it writes to the same eventfd, as VFIO's kernel side does
  const device = createEventFd();
  const irq = new FdIrq({ vector: 3, fd: device, kind: 'eventfd', errors, ownsFd: false });
  opened.push({ irq, device });
  return { irq, device };
}

describe('an interrupt on an eventfd standing in for the device', () => {
  it('resolves a pending wait when the device signals', async () => {
    const { irq, device } = eventIrq();
    const waiting = irq.wait();
    fire(device);
    await expect(waiting).resolves.toBe(1);
  });

  it('counts events that fire while nobody waits', async () => {
    const { irq, device } = eventIrq();
    fire(device, 2);
    fire(device, 3);
    await new Promise((r) => setTimeout(r, 20)); // let the loop read the fd
    await expect(irq.wait()).resolves.toBe(5);
    const next = irq.wait();
    fire(device);
    await expect(next).resolves.toBe(1);
  });

  it('keeps events while disabled and delivers them when enabled again', async () => {
    const { irq, device } = eventIrq();
    irq.disable();
    fire(device, 4);
    const waiting = irq.wait();
    let settled = false;
    void waiting.then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    irq.enable();
    await expect(waiting).resolves.toBe(4);
  });

  it('rejects with AbortedError when the signal aborts, and accepts a new wait afterwards', async () => {
    const { irq, device } = eventIrq();
    const controller = new AbortController();
    const waiting = irq.wait(controller.signal);
    controller.abort(new Error('enough'));
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await expect(irq.wait(AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    const next = irq.wait();
    fire(device);
    await expect(next).resolves.toBe(1);
  });

  it('allows one pending wait at a time', async () => {
    const { irq, device } = eventIrq();
    const first = irq.wait();
    await expect(irq.wait()).rejects.toThrow(/already has a pending wait/);
    fire(device);
    await expect(first).resolves.toBe(1);
  });

  it('rejects a pending wait with DeviceGoneError when closed; closing twice is a no-op', async () => {
    const { irq } = eventIrq();
    const waiting = irq.wait();
    irq.close();
    await expect(waiting).rejects.toBeInstanceOf(DeviceGoneError);
    irq.close();
    await expect(irq.wait()).rejects.toBeInstanceOf(DeviceGoneError);
    expect(() => irq.unmask()).toThrow(/after close/);
  });

  it('calls the mode control for enable, disable, unmask and close', () => {
    const calls: string[] = [];
    const fd = createEventFd();
    const irq = new FdIrq({
      vector: 0,
      fd,
      kind: 'eventfd',
      errors,
      control: {
        enable: () => calls.push('enable'),
        disable: () => calls.push('disable'),
        unmask: () => calls.push('unmask'),
        close: () => calls.push('close'),
      },
    });
    irq.disable();
    irq.enable();
    irq.unmask();
    irq.close();
    expect(calls).toEqual(['disable', 'enable', 'unmask', 'close']);
  });
});

describe('handles', () => {
  it('leave nothing behind: a process that opens, waits, closes and forgets an idle irq exits by itself', () => {
    const child = fileURLToPath(new URL('./irq-child.ts', import.meta.url));
    const result = spawnSync(process.execPath, ['--import', 'tsx', child], {
      encoding: 'utf8',
      timeout: 60_000, // a hang guard only: a clean child exits in well under a second of its own work
    });
    expect(result.error, result.stderr).toBeUndefined();
    expect(result.signal, result.stderr).toBeNull();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('irq-child: waited 1, closed, leaving one idle irq open');
  });
});
