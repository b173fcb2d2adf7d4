/** The ring card family (docs/hardware/ring-card.md): its declaration for the simulator's model list. */

import type { ProbeOptionSchema } from '../../../core/driver/probe-options.js';
import type { ModelFamily } from '../family.js';
import { MAX_DEPTH } from './registers.js';

/** The card's own spec options (the simulator's — mode, engine, faults, seed, reinsert, … — are beside them). */
export const RING_OPTIONS = {
  queues: {
    kind: 'int',
    min: 4,
    max: 16,
    default: 4,
    doc: 'queue pairs (NUM_QUEUES), one MSI-X vector each',
  },
  depth: {
    kind: 'int',
    min: 2,
    max: MAX_DEPTH,
    default: 256,
    doc: 'ring depth the DMA arena is sized for, a power of two (the driver reads it too)',
  },
  slots: { kind: 'int', min: 1, max: 65535, default: 64, doc: 'key slots (NUM_KEY_SLOTS)' },
  arena: {
    kind: 'int',
    min: 1,
    max: 4096,
    doc: 'DMA arena MiB (default: queues × depth × 2320 bytes + 1 MiB)',
  },
  engines: { kind: 'int', min: 1, max: 256, default: 4, doc: 'engines working in parallel (NUM_ENGINES)' },
} as const satisfies ProbeOptionSchema;

export const ringFamily = {
  name: 'ring',
  description: 'ring card: DMA descriptor rings, doorbells, on-card key slots, witnesses',
  offeredByDefault: true,
  options: RING_OPTIONS,
  module: 'ring/model',
} as const satisfies ModelFamily<typeof RING_OPTIONS>;

/** The declaration simulator/models/index.ts finds in this folder. */
export default ringFamily;
