/**
 * OpenSC's pkcs11-tool through Debian's p11-kit-client.so against the token
 * (in this process, over the simulated ring card alone, so every job is the card's): slots, mechanisms, objects;
 * signatures with RSA-PKCS, RSA-PKCS-PSS and ECDSA, an OAEP decryption and an
 * RSA-PKCS one (implicit rejection), each checked with node:crypto or openssl; the card's counter shows it
 * did the work; and, run as other uids (when this test runs as root), what the
 * named-key ACL lets each see through real peer credentials.
 */

import { execFile } from 'node:child_process';
import * as nc from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pkcs11Server } from '../../server/pkcs11/index.js';
import { runOk, runTool } from './support/process.js';
import { missingTools, P11_KIT_CLIENT } from './support/tools.js';
import { OTHER_UID, type TokenFixture, tokenFixture } from './token-fixture.js';

const missing = missingTools('pkcs11-tool through p11-kit-client.so', ['p11-kit-client.so', 'pkcs11-tool']);
const missingOpenssl = missingTools('CKM_RSA_PKCS decryption of an openssl ciphertext', ['openssl']);
const PIN = '123456';
let fx: TokenFixture;
let server: Pkcs11Server;
let env: NodeJS.ProcessEnv;
const ids: Record<string, string> = {};

function tool(args: readonly string[]) {
  return runOk('pkcs11-tool', ['--module', P11_KIT_CLIENT, ...args], { env, timeoutMs: 60_000 });
}

/** pkcs11-tool as another uid (its own process credentials: SO_PEERCRED says who it is). */
function toolAs(
  uid: number,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'pkcs11-tool',
      ['--module', P11_KIT_CLIENT, ...args],
      { env, uid, gid: 65534, timeout: 60_000, encoding: 'utf8' },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function cardJobs(): number {
  return fx.accel.queue
    .snapshot()
    .devices.filter((d) => d.id.startsWith('sim:ring'))
    .reduce((sum, d) => sum + d.completed, 0);
}

const file = (name: string) => join(fx.dir, name);

describe.skipIf(missing !== undefined)('pkcs11-tool with p11-kit-client.so', () => {
  beforeAll(async () => {
    fx = await tokenFixture(['sim:ring']);
    server = await fx.serve('pkcs11', { pin: PIN });
    env = { PATH: process.env.PATH, HOME: fx.dir, P11_KIT_SERVER_ADDRESS: `unix:path=${server.path}` };
    const listed = (await tool(['--login', '--pin', PIN, '--list-objects', '--type', 'privkey'])).stdout;
    for (const block of listed.split(/Private Key Object/).slice(1)) {
      const label = /label:\s+(\S+)/.exec(block)?.[1];
      const id = /ID:\s+([0-9a-f]+)/.exec(block)?.[1];
      if (label && id) ids[label] = id;
    }
  }, 120_000);

  afterAll(async () => {
    await fx?.close();
  });

  it('lists the slot, the mechanisms (the card: hw) and, after login, both private keys', async () => {
    const slots = (await tool(['--list-slots'])).stdout;
    expect(slots).toMatch(/token label\s+:\s+pkaccel/);
    expect(slots).toMatch(/token flags\s+:.*login required/);
    const mechanisms = (await tool(['--list-mechanisms'])).stdout;
    for (const m of ['RSA-PKCS,', 'RSA-PKCS-PSS,', 'RSA-PKCS-OAEP,', 'ECDSA,', 'SHA256-RSA-PKCS,'])
      expect(mechanisms).toContain(m);
    // Key sizes are the card's capability ranges, and the card is hardware to the token.
    const ring = fx.accel.devices[0]!.capabilities.find((c) => c.op === 'rsa-private')!;
    // The whole line (SHA1-RSA-PKCS's line also ends in this text): CKM_RSA_PKCS also decrypts
    // (implicit rejection, the card doing raw RSA).
    const sizes = `keySize={${ring.modulusBits!.min},${ring.modulusBits!.max}}`;
    expect(mechanisms.split('\n')).toContain(`  RSA-PKCS, ${sizes}, hw, decrypt, sign, verify`);
    expect(mechanisms).toMatch(/ECDSA, keySize=\{256,\d+\}, hw, sign, verify/);
    expect(Object.keys(ids).sort()).toEqual(['ec', 'rsa']);
    // Without login the private keys do not show.
    expect((await tool(['--list-objects', '--type', 'privkey'])).stdout).not.toContain('Private Key Object');
  });

  it('signs RSA-PKCS (DigestInfo), RSA-PKCS-PSS and ECDSA on the card; node verifies each', async () => {
    const message = Buffer.from('pkcs11-tool signs this');
    const hash = nc.createHash('sha256').update(message).digest();
    const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), hash]);
    writeFileSync(file('digestinfo'), digestInfo);
    writeFileSync(file('hash'), hash);
    const before = cardJobs();
    const login = ['--login', '--pin', PIN, '--sign'];
    await tool([
      ...login,
      '-m',
      'RSA-PKCS',
      '--id',
      ids.rsa!,
      '-i',
      file('digestinfo'),
      '-o',
      file('pkcs1.sig'),
    ]);
    expect(nc.verify('sha256', message, fx.publicKeys.rsa!, readFileSync(file('pkcs1.sig')))).toBe(true);
    await tool([
      ...login,
      ...['-m', 'RSA-PKCS-PSS', '--hash-algorithm', 'SHA256', '--mgf', 'MGF1-SHA256', '--salt-len', '32'],
      ...['--id', ids.rsa!, '-i', file('hash'), '-o', file('pss.sig')],
    ]);
    const pss = { key: fx.publicKeys.rsa!, padding: nc.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    expect(nc.verify('sha256', message, pss, readFileSync(file('pss.sig')))).toBe(true);
    await tool([...login, '-m', 'ECDSA', '--id', ids.ec!, '-i', file('hash'), '-o', file('ec.sig')]);
    const ec = readFileSync(file('ec.sig'));
    expect(ec).toHaveLength(64); // PKCS#11's r‖s
    expect(nc.verify('sha256', message, { key: fx.publicKeys.ec!, dsaEncoding: 'ieee-p1363' }, ec)).toBe(
      true,
    );
    // Three signatures, each one job or more on the card (the only device).
    expect(cardJobs()).toBeGreaterThanOrEqual(before + 3);
  });

  it('decrypts RSA-PKCS-OAEP (SHA-256) what node encrypted', async () => {
    const secret = Buffer.from('a wrapped key');
    const ct = nc.publicEncrypt(
      { key: fx.publicKeys.rsa!, padding: nc.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      secret,
    );
    writeFileSync(file('oaep.ct'), ct);
    await tool([
      ...['--login', '--pin', PIN, '--decrypt', '-m', 'RSA-PKCS-OAEP', '--hash-algorithm', 'SHA256'],
      ...['--mgf', 'MGF1-SHA256', '--id', ids.rsa!, '-i', file('oaep.ct'), '-o', file('oaep.pt')],
    ]);
    expect(readFileSync(file('oaep.pt')).toString()).toBe('a wrapped key');
  });

  it.skipIf(missingOpenssl !== undefined)(
    'decrypts RSA-PKCS what `openssl pkeyutl -encrypt` made, on the card; a corrupted ciphertext gives the same synthetic message twice, exit 0',
    async () => {
      const secret = nc.randomBytes(48); // a TLS 1.2 premaster secret's size
      writeFileSync(file('rsa.pub.pem'), fx.publicKeys.rsa!.export({ type: 'spki', format: 'pem' }));
      writeFileSync(file('pkcs1.pt.in'), secret);
      await runOk('openssl', [
        ...['pkeyutl', '-encrypt', '-pubin', '-inkey', file('rsa.pub.pem')],
        ...['-pkeyopt', 'rsa_padding_mode:pkcs1', '-in', file('pkcs1.pt.in'), '-out', file('pkcs1.ct')],
      ]);
      const decrypt = (input: string, output: string) =>
        tool([
          ...['--login', '--pin', PIN, '--decrypt', '-m', 'RSA-PKCS', '--id', ids.rsa!],
          ...['-i', file(input), '-o', file(output)],
        ]);
      const before = cardJobs();
      await decrypt('pkcs1.ct', 'pkcs1.pt');
      expect(readFileSync(file('pkcs1.pt')).equals(secret)).toBe(true);
      expect(cardJobs()).toBeGreaterThan(before);
      const ct = readFileSync(file('pkcs1.ct'));
      ct[40]! ^= 0x01;
      writeFileSync(file('bad.ct'), ct);
      await decrypt('bad.ct', 'bad.pt.1');
      await decrypt('bad.ct', 'bad.pt.2');
      const synthetic = readFileSync(file('bad.pt.1'));
      expect(synthetic.equals(secret)).toBe(false);
      expect(synthetic.length).toBeLessThanOrEqual(256 - 11);
      expect(readFileSync(file('bad.pt.2')).equals(synthetic)).toBe(true);
    },
  );

  it('a wrong PIN fails the login (CKR_PIN_INCORRECT)', async () => {
    const r = await runTool('pkcs11-tool', ['--module', P11_KIT_CLIENT, '--login', '--pin', '000000', '-O'], {
      env,
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('CKR_PIN_INCORRECT');
  });

  const root = process.getuid?.() === 0;
  if (!root) console.warn('SKIPPED pkcs11-tool as other uids: needs root to run a child as another uid');
  it.skipIf(!root)('other uids see only what the ACL gives them (real peer credentials)', async () => {
    // Let other uids reach the socket; the token's ACL decides what they see.
    chmodSync(fx.dir, 0o755);
    chmodSync(server.path, 0o666);
    const nobody = await toolAs(65534, ['--login', '--pin', PIN, '--list-objects']);
    expect(nobody.code, nobody.stderr).toBe(0);
    expect(nobody.stdout).not.toMatch(/Key Object/);
    const other = await toolAs(OTHER_UID, ['--login', '--pin', PIN, '--list-objects']);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout.match(/label:\s+\S+/g)).toEqual(['label:      shared', 'label:      shared']);
  });
});
