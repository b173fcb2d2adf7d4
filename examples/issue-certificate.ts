/**
 * Issue a certificate with @peculiar/x509 over the accelerator: a CA with a
 * non-extractable RSA-2048 key, and a leaf certificate for a non-extractable
 * ECDSA P-256 key, signed by the CA key on the card. Prints both as PEM.
 * `accel.crypto` is a `Crypto`: x509 takes it as it is, no cast.
 *
 * The card here is `sim:ring`, pkaccel's simulated ring card (a register-level
 * model of a PCIe offload card). The library never opens a simulator by
 * default; on a machine with a card, open `{ devices: ['auto'] }`. The card has
 * no keygen: the RSA key is generated on the host and then held by the card, the
 * EC key comes from the card's ECDH with the base point.
 *
 *   node --import tsx examples/issue-certificate.ts > chain.pem
 *   openssl verify -CAfile <(sed -n '1,/END/p' chain.pem) chain.pem
 *
 * In your own project, import from 'pkaccel' instead of '../index.js'.
 */

import 'reflect-metadata'; // @peculiar/x509 needs a Reflect metadata polyfill
import * as x509 from '@peculiar/x509';
import { openAccelerator } from '../index.js';

const accel = await openAccelerator({ devices: ['sim:ring'] });
try {
  // Every signature x509 makes now goes through the accelerator.
  x509.cryptoProvider.set(accel.crypto);

  const caAlgorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  };
  const caKeys = await accel.subtle.generateKey(caAlgorithm, false, ['sign', 'verify']);
  const day = 86_400_000;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=pkaccel example CA',
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 365 * day),
    signingAlgorithm: caAlgorithm,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const leafAlgorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const leafKeys = await accel.subtle.generateKey(leafAlgorithm, false, ['sign', 'verify']);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=service.example',
    issuer: ca.subject,
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 30 * day),
    signingAlgorithm: caAlgorithm,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'service.example' }]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const chain = new x509.X509ChainBuilder({ certificates: [ca] });
  const built = await chain.build(leaf);
  if (built.length !== 2 || !(await leaf.verify({ publicKey: ca.publicKey }))) {
    console.error('the issued certificate does not chain to the CA');
    process.exitCode = 1;
  }
  console.log(ca.toString('pem'));
  console.log(leaf.toString('pem'));
  for (const d of accel.queue.snapshot().devices) console.error(`${d.id}: ${d.completed} operation(s)`);
} finally {
  x509.cryptoProvider.clear();
  await accel.close();
}
