/**
 * The ACME X1's simulated card, declared in its own folder: a SimulatorPlatform
 * given test/cli/family/models/ finds it there, as the built-in families are
 * found in simulator/models/ — no list names it.
 */

import type { ModelFamily } from '../../../../../simulator/models/family.js';

export const acmeFamily = {
  name: 'acme',
  description: 'ACME X1 (test family): identity and an ID register, no engines of its own',
  offeredByDefault: false,
  module: 'acme/model',
} as const satisfies ModelFamily;

export default acmeFamily;
