/**
 * pkijs with a CryptoEngine over `accel.crypto`: a detached CMS SignedData over
 * a file, with signed attributes, signed by a non-extractable key on the
 * simulated ring card; `openssl cms -verify` accepts it, and rejects it for a
 * changed file.
 */

import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs a Reflect metadata polyfill
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accelerator, openAccelerator } from '../../index.js';
import { type CardKeyPair, cardCompleted, cardKeyPairs, openssl, requireOpenssl } from './helpers.js';

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
type PkijsKey = Parameters<pkijs.SignedData['sign']>[0];
type X509Crypto = Parameters<typeof x509.cryptoProvider.set>[0];
type X509Keys = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

let accel: Accelerator;
let pairs: CardKeyPair[];
let dir: string;

beforeAll(async () => {
  requireOpenssl();
  accel = await openAccelerator({ devices: ['sim:ring'] });
  pkijs.setEngine(
    'pkaccel',
    new pkijs.CryptoEngine({ name: 'pkaccel', crypto: accel.crypto as unknown as EngineCrypto }),
  );
  x509.cryptoProvider.set(accel.crypto as unknown as X509Crypto);
  pairs = await cardKeyPairs(accel);
  dir = mkdtempSync(join(tmpdir(), 'pkaccel-cms-'));
});

afterAll(async () => {
  x509.cryptoProvider.clear();
  await accel?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The signer's certificate (self-signed by the same card key, with digitalSignature for S/MIME use). */
async function signerCertificate(pair: CardKeyPair): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a',
    name: `CN=pkaccel CMS signer (${pair.label})`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: pair.algorithm,
    keys: { privateKey: pair.privateKey, publicKey: pair.publicKey } as unknown as X509Keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.nonRepudiation |
          x509.KeyUsageFlags.keyCertSign,
        true,
      ),
    ],
  });
}

/** A detached SignedData over `content` with content-type, message-digest and signing-time attributes. */
async function signDetached(
  pair: CardKeyPair,
  cert: x509.X509Certificate,
  content: Uint8Array,
): Promise<ArrayBuffer> {
  const certificate = pkijs.Certificate.fromBER(cert.rawData);
  const digest = createHash('sha256').update(content).digest();
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: '1.2.840.113549.1.7.1' }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({
          issuer: certificate.issuer,
          serialNumber: certificate.serialNumber,
        }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new pkijs.Attribute({
              type: '1.2.840.113549.1.9.3',
              values: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.7.1' })],
            }),
            new pkijs.Attribute({
              type: '1.2.840.113549.1.9.5',
              values: [new asn1js.UTCTime({ valueDate: new Date() })],
            }),
            new pkijs.Attribute({
              type: '1.2.840.113549.1.9.4',
              values: [new asn1js.OctetString({ valueHex: digest })],
            }),
          ],
        }),
      }),
    ],
    certificates: [certificate],
  });
  await signedData.sign(pair.privateKey as unknown as PkijsKey, 0, 'SHA-256', content);
  const contentInfo = new pkijs.ContentInfo({
    contentType: pkijs.ContentInfo.SIGNED_DATA,
    content: signedData.toSchema(true),
  });
  return contentInfo.toSchema().toBER(false);
}

describe.each([0, 1])('pkijs CMS SignedData over accel.crypto, key pair %i', (index) => {
  it('signs a file on the card and openssl cms -verify accepts it (and rejects a changed file)', async () => {
    const pair = pairs[index]!;
    const cert = await signerCertificate(pair);
    const content = randomBytes(10_000);
    const before = cardCompleted(accel);
    const cms = await signDetached(pair, cert, content);
    expect(cardCompleted(accel)).toBeGreaterThan(before); // the card made the signature

    const files = {
      content: join(dir, `content-${index}.bin`),
      changed: join(dir, `changed-${index}.bin`),
      cms: join(dir, `signature-${index}.p7s`),
      cert: join(dir, `signer-${index}.pem`),
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
