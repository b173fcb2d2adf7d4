/** The project's own known-answer vectors (scripts/gen-kat.ts) on the software device, through the public entry. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceCanRun, loadKnownAnswers, runKnownAnswer } from '../../cli/selftest/known-answers.js';
import { type Accelerator, openAccelerator } from '../../index.js';

const vectors = loadKnownAnswers();
let accel: Accelerator;

beforeAll(async () => {
  accel = await openAccelerator({ devices: ['software'] });
});
afterAll(() => accel.close());

describe('known-answer vectors on software', () => {
  it('covers every kind of vector', () => {
    expect(new Set(vectors.map((v) => v.kind)).size).toBe(8);
  });
  it('(control) a corrupted expected answer fails', async () => {
    for (const kind of ['rsa-pkcs1-sign', 'ecdh', 'ed25519-sign', 'rsa-raw'] as const) {
      const v = vectors.find((x) => x.kind === kind)!;
      const field = kind === 'ecdh' ? 'shared' : kind === 'rsa-raw' ? 'output' : 'sig';
      const wrong = { ...v, [field]: `${v[field]!.slice(0, -2)}${v[field]!.endsWith('00') ? '01' : '00'}` };
      await expect(runKnownAnswer(accel.subtle, wrong)).rejects.toThrow();
    }
  });
  for (const v of vectors) {
    it(v.id, async () => {
      expect(deviceCanRun(accel.devices[0]!.capabilities, v)).toBe(true);
      await runKnownAnswer(accel.subtle, v);
    });
  }
});
