/**
 * The client examples (issue 12) run as their headers say and do what they
 * claim, checked outside the accelerator: jose tokens with jose over node's own
 * crypto, the x509 chain and the CMS signature with openssl. Each example opens
 * `sim:ring` (the simulated card) explicitly, with non-extractable keys.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl, requireOpenssl } from '../clients/helpers.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function runExample(
  name: string,
  args: readonly string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join('examples', `${name}.ts`), ...args],
      // No PKACCEL_DEVICES: the examples name their device.
      { cwd: REPO, env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 90_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') fail(error);
        else done({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pkaccel-examples-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples/', () => {
  it('jose-jwt.ts: ES256, ES384, RS256 and PS256 tokens that jose over node’s crypto verifies', async () => {
    const result = await runExample('jose-jwt');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const signed = lines.filter((l) => /^(ES|RS|PS)\d{3} /.test(l));
    expect(signed.map((l) => l.split(' ')[0])).toEqual(['ES256', 'ES384', 'RS256', 'PS256']);
    for (const line of signed) {
      const [alg, token, jwk] = line.split(' ') as [string, string, string];
      const key = await jose.importJWK(JSON.parse(jwk) as jose.JWK, alg);
      const { payload, protectedHeader } = await jose.jwtVerify(token, key, { issuer: 'pkaccel example' });
      expect(protectedHeader.alg).toBe(alg);
      expect(payload.sub).toBe('user-42');
      // A changed payload does not verify.
      const [h, , s] = token.split('.');
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'admin' })).toString('base64url')}.${s}`;
      await expect(jose.jwtVerify(forged, key)).rejects.toThrow();
    }
    expect(lines).toContain('HS256 verified');
    const ops = Number(/^card operations: (\d+)$/m.exec(result.stdout)?.[1]);
    expect(ops).toBeGreaterThanOrEqual(8); // at least a signature and a verification per algorithm
  }, 120_000);

  it('issue-certificate.ts: a CA and a leaf that openssl verify accepts', async () => {
    requireOpenssl();
    const result = await runExample('issue-certificate');
    expect(result.code).toBe(0);
    const pems = result.stdout.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    expect(pems).toHaveLength(2);
    writeFileSync(join(dir, 'ca.pem'), pems[0]!);
    writeFileSync(join(dir, 'leaf.pem'), pems[1]!);
    const ca = join(dir, 'ca.pem');
    expect(openssl(['verify', '-check_ss_sig', '-CAfile', ca, ca, join(dir, 'leaf.pem')])).toMatch(
      /leaf\.pem: OK/,
    );
    expect(result.stderr).toMatch(/^sim:ring\S*: [1-9]\d* operation\(s\)$/m);
  }, 120_000);

  it('sign-cms.ts: a SignedData that openssl cms -verify accepts, and rejects for changed content', async () => {
    requireOpenssl();
    const message = join(dir, 'message.txt');
    writeFileSync(message, 'a message signed on the card\n');
    const result = await runExample('sign-cms', [message]);
    expect(result.code).toBe(0);
    const signed = join(dir, 'signed.pem');
    writeFileSync(signed, result.stdout);
    const verify = (content: string) =>
      openssl([
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'PEM',
        '-in',
        signed,
        '-content',
        content,
        '-CAfile',
        signed,
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ]);
    expect(verify(message)).toMatch(/Verification successful/);
    const changed = join(dir, 'changed.txt');
    writeFileSync(changed, 'a message signed on the card!\n');
    expect(() => verify(changed)).toThrow(/Verification failure/);
    expect(Number(/card operations: (\d+)/.exec(result.stderr)?.[1])).toBeGreaterThan(0);
  }, 120_000);
});
