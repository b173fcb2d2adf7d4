/**
 * The PKR-1 ring card's PCI driver (docs/hardware/ring-card.md): the match
 * table, the probe options, and probe — identify the card (§7 step 1), make
 * the device, `start()` it.
 *
 * Probe options (from the device spec's query string, read with
 * core/driver/probe-options; the card model ignores them):
 *   queues      queue pairs to use, 1…NUM_QUEUES (default all)
 *   depth       ring depth, a power of two 2…MAX_DEPTH (default 256)
 *   irq         `msix` (default) or `poll`: do not use interrupts
 *   poll        polling period while waiting, ms (default 20; 1 with irq=poll)
 *   coalesce    interrupt after this many completions, 0…255 (default 1)
 *   coalesceUs  …or at most this many µs after the first one, 0…65535 (default 0)
 *               (the setting while not moderated: the job queue moderates a queue pair at run
 *               time while the card is the bound — RingQueuePair.moderate, core/queue/lane.ts)
 *   rate        the card's declared ops/s: the scheduler's starting estimate (core/driver/service-estimate)
 */

import {
  type PciDriver,
  type ProbeOptions,
  RATE_OPTION,
  throwIfAborted,
  UnsupportedError,
} from '../../core/driver/index.js';
import { type ProbeOptionSchema, parseProbeOptions } from '../../core/driver/probe-options.js';
import type { PciFunction } from '../../core/platform/pci.js';
import { identify, RingDevice, type RingDeviceOptions, type RingIdentity } from './device.js';
import { MAX_DEPTH, PKR1_DEVICE_ID, PKR1_VENDOR_ID } from './registers.js';

/** Above the software provider (0) and the window card (300): the ring card does whole operations. */
export const RING_DRIVER_PRIORITY = 400;

/** The options `probe` reads. */
export const RING_PROBE_OPTIONS = {
  queues: { kind: 'int', min: 1, max: 65535, doc: 'queue pairs to use (default: all the card has)' },
  depth: {
    kind: 'int',
    min: 2,
    max: MAX_DEPTH,
    default: 256,
    doc: 'ring depth, a power of two; depth − 1 jobs in flight per queue pair',
  },
  irq: { kind: 'enum', values: ['msix', 'poll'], default: 'msix', doc: 'poll: do not use interrupts' },
  poll: {
    kind: 'int',
    min: 0,
    max: 10_000,
    doc: 'ms between looks at the completion queue while waiting (default 20, 1 with irq=poll)',
  },
  coalesce: { kind: 'int', min: 0, max: 255, default: 1, doc: 'interrupt after this many completions' },
  coalesceUs: {
    kind: 'int',
    min: 0,
    max: 0xffff,
    default: 0,
    doc: 'interrupt at most this many µs after the first unsignalled completion',
  },
  rate: RATE_OPTION,
} as const satisfies ProbeOptionSchema;

/**
 * The spec options as probe reads them. Options the registry hands out carry its ledger (a
 * symbol property, see core/driver/probe-options): they are parsed as they are, so that a name
 * neither the card nor the driver knows is refused. A plain object (a test probing a card it
 * opened itself, with the simulator's options beside the driver's) is narrowed to the driver's
 * names first: their values are still checked.
 */
function readOptions(options: ProbeOptions) {
  if (Object.getOwnPropertySymbols(options).length > 0) {
    return parseProbeOptions(options, RING_PROBE_OPTIONS, 'ring driver');
  }
  const own: Record<string, string> = {};
  for (const name of Object.keys(RING_PROBE_OPTIONS)) {
    const value = Object.hasOwn(options, name) ? options[name] : undefined;
    if (value !== undefined) own[name] = value;
  }
  return parseProbeOptions(own, RING_PROBE_OPTIONS, 'ring driver');
}

/** The driver's options for this card (limits from its identity registers). */
export function ringOptions(options: ProbeOptions, id: RingIdentity, priority: number): RingDeviceOptions {
  const o = readOptions(options);
  const depth = o.depth;
  if ((depth & (depth - 1)) !== 0 || depth > id.maxDepth) {
    throw new UnsupportedError(`ring depth ${depth} is not a power of two up to ${id.maxDepth}`);
  }
  const queues = o.queues ?? id.queues;
  if (queues > id.queues)
    throw new UnsupportedError(`the ring card has ${id.queues} queue pairs, not ${queues}`);
  const poll = o.irq === 'poll';
  return {
    queues,
    depth,
    useIrq: !poll,
    pollMs: o.poll ?? (poll ? 1 : 20),
    irqCtrl: (o.coalesceUs << 16) | (o.coalesce << 8),
    priority,
    rate: o.rate,
  };
}

export const ringDriver: PciDriver = {
  kind: 'pci',
  name: 'ring',
  priority: RING_DRIVER_PRIORITY,
  description: 'ring card: DMA descriptor rings, on-card key slots, witnesses (docs/hardware/ring-card.md)',
  matches: [{ vendorId: PKR1_VENDOR_ID, deviceId: PKR1_DEVICE_ID }],
  options: RING_PROBE_OPTIONS,
  async probe(fn: PciFunction, options: ProbeOptions, signal?: AbortSignal): Promise<RingDevice> {
    throwIfAborted(signal);
    const id = identify(fn.bar(0));
    const device = new RingDevice(fn, id, ringOptions(options, id, RING_DRIVER_PRIORITY), 'ring');
    await device.start(signal);
    return device;
  },
};
