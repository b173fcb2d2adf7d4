/**
 * Wycheproof on the ring card driver over sim:ring (real engine, model on its
 * worker thread), opened alone: with no software device beside it, every case
 * that is accepted was computed by the card (or composed in core/algorithms
 * over what the card did). What the card lacks (P-521, Edwards curves, RSA
 * padding schemes done by a device, keygen) is counted as unsupported. A final
 * test proves the card path carried the work: the model counted at least one
 * operation per `valid` case of the files the card can do alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../core/registry/registry.js';
import { ringDriver } from '../../drivers/ring/index.js';
import { simulatorPlatform } from '../../simulator/platform.js';
import { defineWycheproofSuite, WYCHEPROOF_DIR } from './wycheproof.js';

// Registering again replaces by name, so this holds whether or not the package entry already did it.
defaultRegistry.registerPlatform(simulatorPlatform);
defaultRegistry.registerDriver(ringDriver);

const operationsBefore = simulatorPlatform.operationCount('ring');

defineWycheproofSuite('sim:ring', { allowUnsupported: true });

/** Files whose every valid case needs the card once at least: ECDSA and ECDH on P-256/P-384, RSA signatures. */
function cardFiles(): string[] {
  let files: string[];
  try {
    files = readdirSync(WYCHEPROOF_DIR);
  } catch {
    return [];
  }
  return files.filter((f) =>
    /^(ecdsa_secp(256|384)r1_sha(256|384)(_p1363)?|ecdh_secp(256|384)r1(_webcrypto)?)_test\.json$/.test(f),
  );
}

describe('sim:ring card path', () => {
  const files = cardFiles();
  it.skipIf(files.length === 0)('the card did the work of the Wycheproof cases it supports', () => {
    let valid = 0;
    for (const file of files) {
      const data = JSON.parse(readFileSync(join(WYCHEPROOF_DIR, file), 'utf8')) as {
        testGroups: { tests: { result: string }[] }[];
      };
      for (const group of data.testGroups) valid += group.tests.filter((t) => t.result === 'valid').length;
    }
    const operations = simulatorPlatform.operationCount('ring') - operationsBefore;
    expect(valid).toBeGreaterThan(0);
    expect(operations).toBeGreaterThanOrEqual(valid);
  });
});
