/** Shared fixtures of the pcie-mmio tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addonStatus } from '../lib/index.js';

/** The addon must have been built: every test here needs it, and a missing one is a failure to report. */
export function requireAddon(): void {
  const status = addonStatus();
  if (!status.loaded) throw status.error;
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
