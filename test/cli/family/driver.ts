/**
 * A throwaway card family, registered from the test tree only: the proof that
 * adding a family needs no change to core, the CLI or the package entry.
 *
 * - `acmeDriver`: a PCI driver (match table + probe, the folder convention's
 *   driver.ts) for the "ACME X1" card, reading its spec options through
 *   core/driver/probe-options;
 * - `acmePlatform`: stands in for the machine: one PCI function the driver claims
 *   (a real family would be found by the native platform, or made by its model
 *   folder in simulator/models/);
 * - `referenceDriver`: a fallback provider that is not named `software`, to show
 *   that core picks the fallback by role.
 */

import type { Capability } from '../../../core/driver/capabilities.js';
import type {
  Completion,
  Device,
  DeviceEvent,
  DeviceState,
  Job,
  PciDriver,
  QueuePair,
  VirtualDriver,
} from '../../../core/driver/device.js';
import { DeviceError, PkaccelError, UnsupportedError } from '../../../core/driver/errors.js';
import type { PrimitiveRequest, PrimitiveValue } from '../../../core/driver/primitives.js';
import { type ProbeOptionSchema, parseProbeOptions } from '../../../core/driver/probe-options.js';
import type { DeviceSpec, PciFunction, PciFunctionInfo, Platform } from '../../../core/platform/pci.js';
import { x25519ByNode } from '../../support/keys.js';

export const ACME_IDS = { vendorId: 0xacae, deviceId: 0x0001 } as const;
export const ACME_ADDRESS = '0000:00:0a.0';

/** The spec options of the ACME card. */
export const ACME_OPTIONS = {
  engines: { kind: 'int', min: 1, max: 8, default: 2, doc: 'engines to use' },
  irq: { kind: 'enum', values: ['msix', 'poll'], default: 'msix' },
} as const satisfies ProbeOptionSchema;

function x25519(request: PrimitiveRequest): PrimitiveValue {
  if (request.op !== 'x25519') throw new UnsupportedError(`the ACME card cannot do ${request.op}`);
  return x25519ByNode(request.key, request.peer);
}

/** Jobs run, by device id. */
export const ranOn: string[] = [];

class InstantQueuePair implements QueuePair {
  readonly index = 0;
  readonly depth = 16;
  readonly #pending: Job[] = [];
  constructor(
    private readonly device: string,
    private readonly compute: (r: PrimitiveRequest) => PrimitiveValue,
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
    while (this.#pending.length > 0 && n < max) {
      const job = this.#pending.shift()!;
      ranOn.push(this.device);
      try {
        sink({ tag: job.tag, ok: true, value: this.compute(job.request) });
      } catch (error) {
        sink({
          tag: job.tag,
          ok: false,
          error: error instanceof PkaccelError ? error : new DeviceError('failed', { cause: error }),
        });
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

function simpleDevice(
  id: string,
  driver: string,
  model: string,
  capabilities: readonly Capability[],
  compute: (r: PrimitiveRequest) => PrimitiveValue,
  onClose: () => Promise<void> = async () => {},
): Device {
  let state: DeviceState = 'ready';
  return {
    info: { id, driver, model, priority: driver === 'acme' ? 500 : 0 },
    get state() {
      return state;
    },
    capabilities,
    queuePairs: [new InstantQueuePair(id, compute)],
    subscribe: (_listener: (event: DeviceEvent) => void) => () => {},
    reset: async () => {},
    close: async () => {
      state = 'closed';
      await onClose();
    },
  };
}

export const acmeDriver: PciDriver = {
  kind: 'pci',
  name: 'acme',
  priority: 500,
  description: 'ACME X1 X25519 card (test family)',
  matches: [ACME_IDS],
  options: ACME_OPTIONS,
  async probe(fn: PciFunction, options) {
    const { engines } = parseProbeOptions(options, ACME_OPTIONS, 'acme driver');
    return simpleDevice(
      `acme:${fn.info.address}`,
      'acme',
      `ACME X1 (${engines} engines)`,
      [{ op: 'x25519', okpCurves: ['X25519'] } as Capability],
      x25519,
      () => fn.close(),
    );
  },
};

/** The machine as the test sees it: one ACME card. */
export const acmePlatform: Platform = {
  name: 'acme-bus',
  schemes: ['acmebus'],
  async enumerate(): Promise<readonly PciFunctionInfo[]> {
    return [info()];
  },
  async open(spec: DeviceSpec): Promise<PciFunction> {
    if (spec.target !== ACME_ADDRESS) throw new DeviceError(`no card at ${spec.target}`);
    const unsupported = () => {
      throw new UnsupportedError('not used by the test family');
    };
    return {
      info: info(),
      config: {
        size: 0,
        read8: unsupported,
        read16: unsupported,
        read32: unsupported,
        write16: unsupported,
        write32: unsupported,
      },
      bar: unsupported,
      dma: {} as PciFunction['dma'],
      irqSupport: { kind: 'none', vectors: 0 },
      openIrq: unsupported,
      removed: new Promise<void>(() => {}),
      close: async () => {},
    };
  },
};

function info(): PciFunctionInfo {
  return {
    ...ACME_IDS,
    subsystemVendorId: 0,
    subsystemDeviceId: 0,
    classCode: 0x108000,
    revision: 1,
    address: ACME_ADDRESS,
  };
}

/** A fallback provider named `reference` (not `software`): X25519 and Ed25519 by node:crypto. */
export const referenceDriver: VirtualDriver = {
  kind: 'virtual',
  name: 'reference',
  priority: 0,
  role: 'fallback',
  scheme: 'reference',
  async open(spec: DeviceSpec) {
    parseProbeOptions(spec.options, {}, 'reference driver');
    return simpleDevice(
      spec.text,
      'reference',
      'reference (node:crypto)',
      [{ op: 'x25519', okpCurves: ['X25519'] } as Capability],
      x25519,
    );
  },
};
