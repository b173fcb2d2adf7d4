/**
 * A minimal third-party style VirtualDriver for tests: a device whose
 * capabilities and computation the test chooses, counting the jobs it runs.
 */

import type { Capability } from '../../core/driver/capabilities.js';
import type {
  Completion,
  Device,
  DeviceEvent,
  DeviceState,
  Job,
  QueuePair,
  VirtualDriver,
} from '../../core/driver/device.js';
import { DeviceError, PkaccelError } from '../../core/driver/errors.js';
import type { PrimitiveRequest, PrimitiveValue } from '../../core/driver/primitives.js';
import type { DeviceSpec } from '../../core/platform/pci.js';

export interface FakeDriverOptions {
  readonly name: string;
  readonly scheme: string;
  readonly priority: number;
  readonly capabilities: readonly Capability[];
  readonly compute: (request: PrimitiveRequest) => PrimitiveValue;
  /** While `open` is false the device holds its jobs (to test jobs in flight). */
  readonly gate?: { open: boolean };
}

/** Jobs each device of the driver has run, by op. */
export interface JobLog {
  readonly ops: string[];
}

class FakeQueuePair implements QueuePair {
  readonly index = 0;
  readonly depth = 8;
  readonly #pending: Job[] = [];
  constructor(
    private readonly compute: (r: PrimitiveRequest) => PrimitiveValue,
    private readonly log: JobLog,
    private readonly gate: { open: boolean } = { open: true },
  ) {}
  get inFlight(): number {
    return this.#pending.length;
  }
  submit(jobs: readonly Job[]): number {
    const n = Math.min(jobs.length, this.depth - this.#pending.length);
    this.#pending.push(...jobs.slice(0, n));
    return n;
  }
  harvest(sink: (c: Completion) => void, max = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (this.gate.open && this.#pending.length > 0 && n < max) {
      const job = this.#pending.shift()!;
      this.log.ops.push(job.request.op);
      try {
        sink({ tag: job.tag, ok: true, value: this.compute(job.request) });
      } catch (error) {
        const e =
          error instanceof PkaccelError ? error : new DeviceError('fake device failed', { cause: error });
        sink({ tag: job.tag, ok: false, error: e });
      }
      n++;
    }
    return n;
  }
  waitForCompletions(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
  async abandon(): Promise<readonly number[]> {
    return this.#pending.splice(0).map((j) => j.tag);
  }
}

export function fakeDriver(options: FakeDriverOptions): { driver: VirtualDriver; log: JobLog } {
  const log: JobLog = { ops: [] };
  const driver: VirtualDriver = {
    kind: 'virtual',
    name: options.name,
    scheme: options.scheme,
    priority: options.priority,
    async open(spec: DeviceSpec): Promise<Device> {
      let state: DeviceState = 'ready';
      return {
        info: {
          id: spec.text,
          driver: options.name,
          model: `${options.name} test card`,
          priority: options.priority,
        },
        get state() {
          return state;
        },
        capabilities: options.capabilities,
        queuePairs: [new FakeQueuePair(options.compute, log, options.gate)],
        subscribe: (_listener: (event: DeviceEvent) => void) => () => {},
        reset: async () => {},
        close: async () => {
          state = 'closed';
        },
      };
    },
  };
  return { driver, log };
}
