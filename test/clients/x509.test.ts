/**
 * @peculiar/x509 with `accel.crypto` as its crypto provider: a self-signed CA
 * certificate, a CSR and a leaf certificate issued from it, signed by
 * non-extractable RSA-2048 and ECDSA P-256 keys on the simulated ring card, and
 * accepted by Debian's openssl (`openssl verify`, `openssl req -verify`).
 */

import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs a Reflect metadata polyfill
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { type CardKeyPair, cardCompleted, openssl, useCardClient } from './helpers.js';

type X509Keys = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];
type X509Key = Parameters<typeof x509.X509CertificateGenerator.create>[0] extends infer P
  ? P extends { signingKey: infer K }
    ? K
    : never
  : never;

const client = useCardClient('x509');

const keysOf = (pair: CardKeyPair) =>
  ({ privateKey: pair.privateKey, publicKey: pair.publicKey }) as unknown as X509Keys;
const write = (name: string, pem: string) => {
  const file = join(client.dir, name);
  writeFileSync(file, pem);
  return file;
};

describe.each([0, 1])('@peculiar/x509 over accel.crypto, key pair %i', (index) => {
  it('keeps the private key on the card: not extractable', async () => {
    const pair = client.pairs[index]!;
    expect(pair.privateKey.extractable).toBe(false);
    await expect(client.accel.subtle.exportKey('pkcs8', pair.privateKey)).rejects.toThrow();
  });

  it('self-signs a CA certificate that openssl verify accepts', async () => {
    const pair = client.pairs[index]!;
    const before = cardCompleted(client.accel);
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: `CN=pkaccel test CA (${pair.label})`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: pair.algorithm,
      keys: keysOf(pair),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(pair.publicKey as unknown as X509Key),
      ],
    });
    expect(cardCompleted(client.accel)).toBeGreaterThan(before); // the card did the signing
    expect(await ca.verify({ signatureOnly: true })).toBe(true);
    const file = write(`ca-${index}.pem`, ca.toString('pem'));
    expect(openssl(['verify', '-check_ss_sig', '-CAfile', file, file])).toMatch(/: OK/);
    expect(openssl(['x509', '-in', file, '-noout', '-text'])).toMatch(
      index === 0 ? /sha256WithRSAEncryption/ : /ecdsa-with-SHA256/,
    );

    // A CSR signed by the same card key; then a leaf certificate issued from it by the CA.
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=leaf.example (${pair.label})`,
      keys: keysOf(pair),
      signingAlgorithm: pair.algorithm,
    });
    const csrFile = write(`csr-${index}.pem`, csr.toString('pem'));
    expect(openssl(['req', '-in', csrFile, '-verify', '-noout'])).toMatch(/verify OK/i);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: '02',
      subject: csr.subject,
      issuer: ca.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: pair.algorithm,
      publicKey: csr.publicKey,
      signingKey: pair.privateKey as unknown as X509Key,
      extensions: [new x509.BasicConstraintsExtension(false)],
    });
    const leafFile = write(`leaf-${index}.pem`, leaf.toString('pem'));
    expect(openssl(['verify', '-CAfile', file, leafFile])).toMatch(/: OK/);
  });

  it('is rejected by openssl when a byte of the signature changes (the check can fail)', async () => {
    const pair = client.pairs[index]!;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '03',
      name: 'CN=tampered',
      signingAlgorithm: pair.algorithm,
      keys: keysOf(pair),
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    const der = new Uint8Array(cert.rawData);
    der[der.length - 5]! ^= 0x01; // inside the signature BIT STRING, the last field
    const pem = x509.PemConverter.encode(der.buffer, 'CERTIFICATE');
    const file = write(`tampered-${index}.pem`, pem);
    expect(() => openssl(['verify', '-check_ss_sig', '-CAfile', file, file])).toThrow(
      /signature failure|verify error/i,
    );
  });
});
