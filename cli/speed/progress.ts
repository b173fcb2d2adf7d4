/**
 * A one-line progress bar on stderr, redrawn in place; only on a terminal (in a
 * pipe or a CI log it would be noise, so it is silent there).
 */

import type { Io } from '../io.js';

export interface Progress {
  /** Show `label` with `fraction` (0..1) of the whole run done. */
  update(fraction: number, label: string): void;
  done(): void;
}

const WIDTH = 30;

export function createProgress(io: Io): Progress {
  if (!io.errIsTTY) return { update: () => {}, done: () => {} };
  let drawn = false;
  return {
    update(fraction, label) {
      const f = Math.min(1, Math.max(0, fraction));
      const filled = Math.round(f * WIDTH);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
      io.err(
        `\r\u001b[2K[${bar}] ${Math.round(f * 100)
          .toString()
          .padStart(3)}% ${label}`,
      );
      drawn = true;
    },
    done() {
      if (drawn) io.err('\r\u001b[2K');
      drawn = false;
    },
  };
}
