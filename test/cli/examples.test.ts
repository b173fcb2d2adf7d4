/** The examples/ scripts run as the README says (`node --import tsx examples/<file>.ts`) and do what they claim. */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openssl, requireOpenssl } from '../clients/helpers.js';
import { type CliResult, expectExit, REPO } from './run-cli.js';

function runExample(name: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join('examples', `${name}.ts`)],
      {
        cwd: REPO,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, PKACCEL_DEVICES: 'sim:ring,software' },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

describe('examples/', () => {
  it('sign-jwt.ts prints an ES256 token that node crypto.subtle verifies', async () => {
    const result = await runExample('sign-jwt');
    expectExit(result, 0);
    const [token, verdict] = result.stdout.split('\n');
    const parts = token!.split('.');
    expect(parts).toHaveLength(3);
    expect(JSON.parse(Buffer.from(parts[0]!, 'base64url').toString())).toEqual({ alg: 'ES256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(parts[1]!, 'base64url').toString())).toMatchObject({ sub: 'user-42' });
    expect(Buffer.from(parts[2]!, 'base64url')).toHaveLength(64);
    expect(verdict).toBe('verified by node crypto.subtle: true');
  });

  it('issue-certificate.ts prints a CA and a leaf that openssl verify accepts', async () => {
    requireOpenssl();
    const result = await runExample('issue-certificate');
    expectExit(result, 0);
    const pems = result.stdout.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    expect(pems).toHaveLength(2);
    const dir = mkdtempSync(join(tmpdir(), 'pkaccel-example-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), pems[0]!);
      writeFileSync(join(dir, 'leaf.pem'), pems[1]!);
      const ca = join(dir, 'ca.pem');
      expect(openssl(['verify', '-check_ss_sig', '-CAfile', ca, ca, join(dir, 'leaf.pem')])).toMatch(
        /leaf\.pem: OK/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('queue-batch.ts verifies a stream of signatures and finds the one corrupted', async () => {
    const result = await runExample('queue-batch');
    expectExit(result, 0);
    expect(result.stdout).toMatch(/^200 signatures verified in one stream: 199 valid$/m);
    expect(result.stdout).toMatch(/^invalid: 57$/m);
  });
});
