/** `pkaccel selftest`: the known-answer vectors per device, a pass/fail table, exit 1 on any failure. */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectExit, json, REPO, requireBuiltBinary, runCli } from './run-cli.js';

interface SelftestJson {
  vectors: number;
  passed: boolean;
  devices: {
    spec: string;
    opened: boolean;
    error?: string;
    kinds: { kind: string; pass: number; fail: number; skip: number; skipReasons?: string[] }[];
    failures: { id: string; detail: string }[];
    skipped: { id: string; reason: string }[];
    passed: boolean;
  }[];
}

beforeAll(requireBuiltBinary);

describe('pkaccel selftest', () => {
  it('passes every vector on the software provider and the vectors the ring card can do', async () => {
    const result = await runCli(['selftest', '--devices', 'software,sim:ring', '--json']);
    expectExit(result, 0);
    const out = json<SelftestJson>(result);
    expect(out.passed).toBe(true);
    expect(out.vectors).toBeGreaterThan(0);
    const [software, ring] = out.devices;
    expect(software!.kinds.length).toBeGreaterThanOrEqual(8);
    for (const k of software!.kinds) expect(k, k.kind).toMatchObject({ fail: 0, skip: 0 });
    expect(software!.kinds.reduce((n, k) => n + k.pass, 0)).toBe(out.vectors);
    const kind = (name: string) => ring!.kinds.find((k) => k.kind === name)!;
    expect(kind('rsa-pkcs1-sign').pass).toBeGreaterThan(0);
    expect(kind('ecdh').pass).toBeGreaterThan(0);
    expect(kind('ed25519-sign')).toMatchObject({ pass: 0, fail: 0 }); // the ring card has no EdDSA
    // Every skipped vector says why, in JSON and in the table.
    expect(kind('ed25519-sign').skipReasons).toEqual(['no capability for eddsa-sign']);
    expect(ring!.skipped.length).toBe(ring!.kinds.reduce((n, k) => n + k.skip, 0));
    for (const s of ring!.skipped) expect(s.reason, s.id).toMatch(/^no capability for /);
    const text = await runCli(['selftest', '--devices', 'sim:ring']);
    expectExit(text, 0);
    expect(text.stdout).toMatch(/^ed25519-sign +0 +0 +\d+ +not supported +no capability for eddsa-sign$/m);
  });

  it('--vectors errors name the file', async () => {
    const missing = await runCli(['selftest', '--devices', 'software', '--vectors', '/no/such/kat.json']);
    expectExit(missing, 2);
    expect(missing.stderr).toBe('error: --vectors /no/such/kat.json: no such file\n');
    const dir = mkdtempSync(join(tmpdir(), 'pkaccel-kat-'));
    try {
      const file = join(dir, 'bad.json');
      writeFileSync(file, '{ not json');
      const bad = await runCli(['selftest', '--devices', 'software', '--vectors', file]);
      expectExit(bad, 2);
      expect(bad.stderr).toMatch(new RegExp(`^error: --vectors ${file}: .*JSON`));
      writeFileSync(file, '{"vectors": [{"kind": "ecdh"}]}');
      const shape = await runCli(['selftest', '--devices', 'software', '--vectors', file]);
      expectExit(shape, 2);
      expect(shape.stderr).toBe(`error: --vectors ${file}: vector 1 has no "id" and "kind"\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 and names the vector when a known answer is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkaccel-kat-'));
    try {
      const kat = JSON.parse(readFileSync(join(REPO, 'vectors', 'kat.json'), 'utf8')) as {
        vectors: { id: string; kind: string; sig?: string }[];
      };
      const vector = kat.vectors.find((v) => v.kind === 'ed25519-sign')!;
      const sig = Buffer.from(vector.sig!, 'hex');
      sig[0]! ^= 1;
      const file = join(dir, 'kat.json');
      writeFileSync(file, JSON.stringify({ vectors: [{ ...vector, sig: sig.toString('hex') }] }));
      const result = await runCli(['selftest', '--devices', 'software', '--vectors', file, '--json']);
      expectExit(result, 1);
      const out = json<SelftestJson>(result);
      expect(out.passed).toBe(false);
      expect(out.devices[0]!.failures).toEqual([
        { id: vector.id, detail: expect.stringMatching(/signature differs/) },
      ]);
      const text = await runCli(['selftest', '--devices', 'software', '--vectors', file]);
      expectExit(text, 1);
      expect(text.stdout).toMatch(new RegExp(`FAIL ${vector.id}`));
      expect(text.stdout).toMatch(/self-test FAILED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 (usage) on a device spec the registry refuses, with one line on stderr', async () => {
    const result = await runCli(['selftest', '--devices', 'sim:nosuchcard', '--json']);
    expectExit(result, 2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: [^\n]*"nosuchcard"[^\n]*\n$/);
  });
});
