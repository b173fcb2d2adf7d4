/**
 * pkijs with a CryptoEngine over `accel.crypto`: a detached CMS SignedData over
 * a file, with signed attributes, signed by a non-extractable key on the
 * simulated ring card; `openssl cms -verify` accepts it, and rejects it for a
 * changed file. The certificate and the SignedData are made by the functions of
 * examples/sign-cms.ts, for an RSA and an ECDSA key.
 */

import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs a Reflect metadata polyfill
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { describe, expect, it } from 'vitest';
import { signDetached, signerCertificate } from '../../examples/sign-cms.js';
import { cardCompleted, openssl, useCardClient } from './helpers.js';

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];

const client = useCardClient('cms', (accel) =>
  pkijs.setEngine(
    'pkaccel',
    new pkijs.CryptoEngine({ name: 'pkaccel', crypto: accel.crypto as unknown as EngineCrypto }),
  ),
);

describe.each([0, 1])('pkijs CMS SignedData over accel.crypto, key pair %i', (index) => {
  it('signs a file on the card and openssl cms -verify accepts it (and rejects a changed file)', async () => {
    const pair = client.pairs[index]!;
    const cert = await signerCertificate(`CN=pkaccel CMS signer (${pair.label})`, pair.algorithm, pair);
    const content = randomBytes(10_000);
    const before = cardCompleted(client.accel);
    const cms = await signDetached(
      pair.privateKey,
      cert,
      content,
      createHash('sha256').update(content).digest(),
    );
    expect(cardCompleted(client.accel)).toBeGreaterThan(before); // the card made the signature

    const files = {
      content: join(client.dir, `content-${index}.bin`),
      changed: join(client.dir, `changed-${index}.bin`),
      cms: join(client.dir, `signature-${index}.p7s`),
      cert: join(client.dir, `signer-${index}.pem`),
    };
    writeFileSync(files.content, content);
    const changed = Buffer.from(content);
    changed[1234]! ^= 0x20;
    writeFileSync(files.changed, changed);
    writeFileSync(files.cms, new Uint8Array(cms));
    writeFileSync(files.cert, cert.toString('pem'));

    const verify = (contentFile: string) =>
      openssl([
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        files.cms,
        '-content',
        contentFile,
        '-CAfile',
        files.cert,
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ]);
    expect(verify(files.content)).toMatch(/Verification successful/);
    expect(() => verify(files.changed)).toThrow(/Verification failure|digest failure/i);
    expect(openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', files.cms, '-noout'])).not.toMatch(
      /error/i,
    );
  });
});
