/**
 * Wycheproof on the window card (sim:window, real engines): RSA and EC cases run
 * on the card's raw primitives (rsa-public, rsa-private, ec-mul), with padding,
 * hashing and ECDSA composed in core/algorithms. Ed25519/X25519 are not on the
 * card and are counted as unsupported.
 *
 * Default run: every RSA case and a deterministic quarter of the EC/OKP cases
 * (see test/drivers/window/wycheproof-subset.ts); PKACCEL_WYCHEPROOF_FULL=1 runs
 * every case (about a minute on a loaded 2-core machine).
 */

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Completion, Device, Job, PciDriver } from '../../core/driver/index.js';
import { defaultRegistry } from '../../core/registry/registry.js';
import { windowDriver } from '../../drivers/window/index.js';
import { simulatorPlatform } from '../../simulator/platform.js';
import { selectWindowVectors } from '../drivers/window/wycheproof-subset.js';

// Before the shared suite module reads PKACCEL_VECTORS (hence its dynamic import below).
const selection = selectWindowVectors();
console.log(`Wycheproof on sim:window: ${selection}`);
const { defineWycheproofSuite, WYCHEPROOF_DIR } = await import('./wycheproof.js');

/** Jobs the card completed successfully, by primitive: proof the cases ran on it. */
const onCard = new Map<string, number>();

/** The window driver, with its queue pairs' completions counted (registering replaces by name). */
const countingWindowDriver: PciDriver = {
  ...windowDriver,
  async probe(fn, options, signal): Promise<Device> {
    const device = await windowDriver.probe(fn, options, signal);
    for (const qp of device.queuePairs) {
      const ops = new Map<number, string>();
      const submit = qp.submit.bind(qp);
      const harvest = qp.harvest.bind(qp);
      qp.submit = (jobs: readonly Job[]) => {
        const taken = submit(jobs);
        for (const job of jobs.slice(0, taken)) ops.set(job.tag, job.request.op);
        return taken;
      };
      qp.harvest = (sink: (c: Completion) => void, max?: number) =>
        harvest((c) => {
          const op = ops.get(c.tag);
          ops.delete(c.tag);
          if (c.ok && op) onCard.set(op, (onCard.get(op) ?? 0) + 1);
          sink(c);
        }, max);
    }
    return device;
  },
};

// After the suite module (and through it the package entry) registered the built-ins: registering
// by the same name replaces the plain window driver with the counting one.
defaultRegistry.registerPlatform(simulatorPlatform);
defaultRegistry.registerDriver(countingWindowDriver);

const SPEC = 'sim:window?mode=inline&engines=2';
defineWycheproofSuite(SPEC, { allowUnsupported: true });

describe('Wycheproof on sim:window ran on the card', () => {
  it.skipIf(!existsSync(WYCHEPROOF_DIR))('completed RSA and EC primitives on the window card', () => {
    console.log(`window card completions by primitive: ${JSON.stringify(Object.fromEntries(onCard))}`);
    expect(onCard.get('rsa-public') ?? 0).toBeGreaterThan(100);
    expect(onCard.get('rsa-private') ?? 0).toBeGreaterThan(10);
    expect(onCard.get('ec-mul') ?? 0).toBeGreaterThan(500);
  });
});
