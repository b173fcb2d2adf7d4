import { describe, expect, it } from 'vitest';
import { SharedIrq, Wakeup, waitForCompletion } from '../../core/driver/completion-wait.js';
import { AbortedError, DeviceGoneError } from '../../core/driver/errors.js';
import type { Irq } from '../../core/platform/irq.js';

/** An Irq the test fires by hand; it enforces the contract's one wait at a time. */
class ManualIrq implements Irq {
  readonly vector = 0;
  pending = 0;
  waits = 0;
  closed = false;
  unmasks = 0;
  #waiter: { resolve(n: number): void; reject(e: unknown): void } | undefined;

  wait(signal?: AbortSignal): Promise<number> {
    if (this.#waiter) throw new Error('two waits at once');
    if (this.closed) return Promise.reject(new DeviceGoneError('closed'));
    this.waits++;
    if (this.pending > 0) {
      const n = this.pending;
      this.pending = 0;
      return Promise.resolve(n);
    }
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        this.#waiter = undefined;
        reject(new AbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = {
        resolve: (n) => {
          signal?.removeEventListener('abort', onAbort);
          this.#waiter = undefined;
          resolve(n);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          this.#waiter = undefined;
          reject(e);
        },
      };
    });
  }
  fire(): void {
    if (this.#waiter) this.#waiter.resolve(1);
    else this.pending++;
  }
  enable(): void {}
  disable(): void {}
  unmask(): void {
    this.unmasks++;
  }
  close(): void {
    this.closed = true;
    this.#waiter?.reject(new DeviceGoneError('closed'));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('waitForCompletion', () => {
  it('resolves at once when the check says so, without sleeping', async () => {
    let looks = 0;
    await waitForCompletion({
      check: () => {
        looks++;
        return true;
      },
      pollMs: 1_000_000,
    });
    expect(looks).toBe(1);
  });

  it('polls without an interrupt until the check is true', async () => {
    let looks = 0;
    const causes: string[] = [];
    await waitForCompletion({
      check: () => ++looks >= 4,
      pollMs: 0,
      onWake: (c) => causes.push(c),
    });
    expect(looks).toBe(4);
    expect(causes).toEqual(['poll', 'poll', 'poll']);
  });

  it('wakes on the interrupt long before the poll period, and runs the service step once per event', async () => {
    const line = new ManualIrq();
    let serviced = 0;
    const irq = new SharedIrq(line, { service: () => serviced++ });
    let ready = false;
    const causes: string[] = [];
    const waits = [0, 1].map(() =>
      waitForCompletion({ check: () => ready, irq, pollMs: 60_000, onWake: (c) => causes.push(c) }),
    );
    await tick();
    expect(line.waits).toBe(1); // two waiters, one platform wait
    ready = true;
    line.fire();
    await Promise.all(waits);
    expect(serviced).toBe(1);
    expect(causes).toEqual(['irq', 'irq']);
    irq.close();
    expect(line.closed).toBe(true);
  });

  it('a Wakeup ends the sleep', async () => {
    const wakeup = new Wakeup();
    let ready = false;
    const causes: string[] = [];
    const wait = waitForCompletion({
      check: () => ready,
      pollMs: 60_000,
      wakeup,
      onWake: (c) => causes.push(c),
    });
    await tick();
    ready = true;
    wakeup.wake();
    await wait;
    expect(causes).toEqual(['wakeup']);
  });

  it('rejects with AbortedError on abort, and the shared interrupt wait is released', async () => {
    const line = new ManualIrq();
    const irq = new SharedIrq(line);
    const controller = new AbortController();
    const wait = waitForCompletion({ check: () => false, irq, pollMs: 60_000 }, controller.signal);
    await tick();
    controller.abort(new Error('caller gave up'));
    await expect(wait).rejects.toBeInstanceOf(AbortedError);
    await tick();
    // The platform wait was aborted too: a new one can start (ManualIrq throws on two at once).
    line.fire();
    await waitForCompletion({ check: () => line.waits > 1, irq, pollMs: 60_000 });
    await expect(
      waitForCompletion({ check: () => false, pollMs: 0 }, AbortSignal.abort()),
    ).rejects.toBeInstanceOf(AbortedError);
  });

  it('ends with what the check throws (device gone), also when the interrupt is lost', async () => {
    const line = new ManualIrq();
    const irq = new SharedIrq(line);
    let gone = false;
    const wait = waitForCompletion({
      check: () => {
        if (gone) throw new DeviceGoneError('card removed');
        return false;
      },
      irq,
      pollMs: 60_000,
    });
    await tick();
    gone = true;
    irq.fail(new DeviceGoneError('removed'));
    await expect(wait).rejects.toThrow('card removed');
  });

  it('falls back to polling when the interrupt is closed (no busy loop on a dead interrupt)', async () => {
    const line = new ManualIrq();
    const irq = new SharedIrq(line);
    irq.close();
    expect(irq.usable).toBe(false);
    let looks = 0;
    const causes: string[] = [];
    await waitForCompletion({ check: () => ++looks >= 3, irq, pollMs: 1, onWake: (c) => causes.push(c) });
    expect(causes).toEqual(['poll', 'poll']);
    await expect(irq.next()).rejects.toBeInstanceOf(DeviceGoneError);
  });
});

describe('SharedIrq, when its waiters leave', () => {
  it('keeps its one platform wait while a waiter polls: leaving and coming back within a turn stops nothing', async () => {
    const line = new ManualIrq();
    const irq = new SharedIrq(line);
    let looks = 0;
    const causes: string[] = [];
    await waitForCompletion({ check: () => ++looks >= 6, irq, pollMs: 0, onWake: (c) => causes.push(c) });
    expect(causes).toEqual(['poll', 'poll', 'poll', 'poll', 'poll']);
    expect(line.waits).toBe(1); // one platform wait for five sleeps (it was one per sleep)
    irq.close();
  });

  it('stops the platform wait when nobody is back by the next turn', async () => {
    const line = new ManualIrq();
    const irq = new SharedIrq(line);
    const waiter = { resolve: () => {}, reject: () => {} };
    irq.listen(waiter);
    await tick();
    expect(line.waits).toBe(1);
    irq.unlisten(waiter);
    await tick();
    await tick();
    line.fire(); // no wait pending: the platform counts it
    expect(line.pending).toBe(1);
    await irq.next(); // and the next wait gets it at once
    expect(line.waits).toBe(2);
    irq.close();
  });

  /** A waiter listens and leaves; the interrupt fires before the stop: the running wait catches it. */
  async function caughtWhileNobodyWaits() {
    const line = new ManualIrq();
    let serviced = 0;
    const irq = new SharedIrq(line, { service: () => serviced++ });
    const waiter = { resolve: () => {}, reject: () => {} };
    irq.listen(waiter);
    await tick();
    irq.unlisten(waiter);
    line.fire();
    await tick();
    expect(serviced).toBe(1);
    expect(line.pending).toBe(0);
    return { line, irq };
  }
  /** 'woken' if `wait` resolves within 200 ms, else 'asleep'. */
  const within = (wait: Promise<void>) =>
    Promise.race([wait.then(() => 'woken'), new Promise((r) => setTimeout(() => r('asleep'), 200))]);

  it('loses no interrupt caught while nobody waited: the next waiter wakes at once', async () => {
    const { irq } = await caughtWhileNobodyWaits();
    expect(await within(irq.next())).toBe('woken');
    let heard = 0;
    irq.listen({ resolve: () => heard++, reject: () => {} }); // taken once: this one sleeps
    await tick();
    expect(heard).toBe(0);
    irq.close();
  });

  it('wakes every waiter that comes within the turn for an interrupt caught while nobody waited', async () => {
    const { line, irq } = await caughtWhileNobodyWaits();
    // Two waiters of the device (two queue pairs), as the counted event of a stopped wait would wake both.
    expect(await Promise.all([within(irq.next()), within(irq.next())])).toEqual(['woken', 'woken']);
    await tick();
    await tick();
    line.fire(); // nobody waits: the platform wait the second one started was stopped again
    expect(line.pending).toBe(1);
    irq.close();
  });
});
