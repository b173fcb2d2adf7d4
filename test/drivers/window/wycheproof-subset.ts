/**
 * The Wycheproof files for the window card's default test run: bigint EC
 * arithmetic in the device model makes the full EC files take most of a minute,
 * so by default every RSA case runs and a deterministic quarter of each EC and
 * OKP file (every 4th case, in file order). PKACCEL_WYCHEPROOF_FULL=1 runs every
 * case. The subset is written to a temporary directory (never into the
 * repository) and handed to the shared suite through PKACCEL_VECTORS.
 */

import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE =
  process.env.PKACCEL_VECTORS ??
  resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/vectors/wycheproof');

/** Keep one case in this many in the files that are sampled. */
export const SAMPLE_EVERY = 4;

interface VectorFile {
  numberOfTests?: number;
  testGroups: { tests: unknown[] }[];
}

function sampled(file: string): boolean {
  return !file.startsWith('rsa_');
}

/**
 * Point PKACCEL_VECTORS at the vectors this run should use and say which; returns
 * a one-line description for the test output.
 */
export function selectWindowVectors(): string {
  if (process.env.PKACCEL_WYCHEPROOF_FULL === '1') return `full Wycheproof files from ${SOURCE}`;
  if (!existsSync(SOURCE)) return `no Wycheproof vectors at ${SOURCE}`;
  const target = mkdtempSync(join(tmpdir(), 'pkaccel-window-wycheproof-subset-'));
  let kept = 0;
  let total = 0;
  for (const file of readdirSync(SOURCE)) {
    if (!file.endsWith('_test.json')) continue;
    const data = JSON.parse(readFileSync(join(SOURCE, file), 'utf8')) as VectorFile;
    if (sampled(file)) {
      let index = 0;
      data.testGroups = data.testGroups
        .map((group) => ({ ...group, tests: group.tests.filter(() => index++ % SAMPLE_EVERY === 0) }))
        .filter((group) => group.tests.length > 0);
    }
    const count = data.testGroups.reduce((n, g) => n + g.tests.length, 0);
    total += data.numberOfTests ?? count;
    kept += count;
    data.numberOfTests = count;
    writeFileSync(join(target, file), JSON.stringify(data));
  }
  process.env.PKACCEL_VECTORS = target;
  return `deterministic subset: every RSA case, every ${SAMPLE_EVERY}th EC/OKP case (${kept} of ${total} cases) in ${target}; PKACCEL_WYCHEPROOF_FULL=1 runs all`;
}
