/**
 * Run by queue-pair.test.ts in a child process: do work on the pool, then close
 * the device (or not) and let the process end by itself. Arguments: close|leave-open,
 * then the pool (workers|uv). A leaked worker, timer
 * or ref'd handle keeps it alive, and the test's timeout catches that.
 */

import { generateKeyPairSync } from 'node:crypto';
import { parseDeviceSpec } from '../../../core/platform/index.js';
import { softwareDriver } from '../../../drivers/software/index.js';
import { okpKey, runAll } from './helpers.js';

generateKeyPairSync('ed25519');
const device = await softwareDriver.open(
  parseDeviceSpec(`software?workers=2&inline=off&pool=${process.argv[3] ?? 'workers'}`),
);
const key = okpKey('Ed25519');
const results = await runAll(
  device.queuePairs[0]!,
  Array.from(
    { length: 16 },
    (_, i) => ({ op: 'eddsa-sign', key: key.material, message: Uint8Array.of(i) }) as const,
  ),
);
console.log(`done ${results.filter((c) => c.ok).length}`);
if (process.argv[2] === 'close') await device.close();
