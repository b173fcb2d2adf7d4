/** The window card family (docs/hardware/window-card.md): its declaration for the simulator's model list. */

import type { ProbeOptionSchema } from '../../../core/driver/probe-options.js';
import type { ModelFamily } from '../family.js';
import { MAX_ENGINES } from './registers.js';

export const WINDOW_OPTIONS = {
  engines: {
    kind: 'int',
    min: 1,
    max: MAX_ENGINES,
    default: 2,
    doc: 'engines on the card (one operation in flight each)',
  },
  curves: {
    kind: 'string',
    default: 'P-256,P-384,P-521',
    doc: 'comma-separated curves ECMUL accepts (CAPS bits)',
  },
  irq: {
    kind: 'enum',
    values: ['msi', 'none'],
    default: 'msi',
    doc: 'none: a card without an interrupt line',
  },
} as const satisfies ProbeOptionSchema;

export const windowFamily = {
  name: 'window',
  description: 'window card: PKA engines, operands through register windows, no DMA',
  offeredByDefault: true,
  options: WINDOW_OPTIONS,
  module: 'window/model',
} as const satisfies ModelFamily<typeof WINDOW_OPTIONS>;

/** The declaration simulator/models/index.ts finds in this folder. */
export default windowFamily;
