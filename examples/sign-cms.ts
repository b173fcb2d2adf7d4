/**
 * A CMS (PKCS#7) signature with pkijs over the accelerator: a detached
 * SignedData over a message, with signed attributes (content type, signing
 * time, message digest), signed by a non-extractable ECDSA P-256 key on a card;
 * the signer's certificate is made with @peculiar/x509 by the same key.
 * `accel.crypto` is a `Crypto`: pkijs's CryptoEngine and x509 take it as it is.
 *
 * The card here is `sim:ring`, pkaccel's simulated ring card (a register-level
 * model of a PCIe offload card). The library never opens a simulator by
 * default; on a machine with a card, open `{ devices: ['auto'] }`.
 *
 *   node --import tsx examples/sign-cms.ts message.txt > signed.pem
 *   openssl cms -verify -binary -inform PEM -in signed.pem -content message.txt \
 *     -CAfile signed.pem -purpose any
 *
 * Prints the SignedData and then the signer's certificate, both as PEM. In your own
 * project, import from 'pkaccel' instead of '../index.js'.
 */

import 'reflect-metadata'; // @peculiar/x509 needs a Reflect metadata polyfill
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { type CryptoKey, openAccelerator } from '../index.js';

type Keys = { readonly privateKey: CryptoKey; readonly publicKey: CryptoKey };

/** A self-signed certificate for the signing key, with digitalSignature for S/MIME use. */
export function signerCertificate(
  name: string,
  algorithm: { readonly name: string; readonly hash: string; readonly namedCurve?: string },
  keys: Keys,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a',
    name,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: algorithm,
    keys,
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

/**
 * A detached SignedData (DER) over `content` with content-type, signing-time and
 * message-digest (`digest`: SHA-256 of the content) attributes, signed by `privateKey`.
 */
export async function signDetached(
  privateKey: CryptoKey,
  cert: x509.X509Certificate,
  content: Uint8Array,
  digest: ArrayBuffer | Uint8Array,
): Promise<ArrayBuffer> {
  const certificate = pkijs.Certificate.fromBER(cert.rawData);
  const attribute = (type: string, value: asn1js.BaseBlock) => new pkijs.Attribute({ type, values: [value] });
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
            attribute('1.2.840.113549.1.9.3', new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.7.1' })),
            attribute('1.2.840.113549.1.9.5', new asn1js.UTCTime({ valueDate: new Date() })),
            attribute('1.2.840.113549.1.9.4', new asn1js.OctetString({ valueHex: digest })),
          ],
        }),
      }),
    ],
    certificates: [certificate],
  });
  // The card makes the signature; the private key never leaves it.
  await signedData.sign(privateKey, 0, 'SHA-256', content);
  return new pkijs.ContentInfo({
    contentType: pkijs.ContentInfo.SIGNED_DATA,
    content: signedData.toSchema(true),
  })
    .toSchema()
    .toBER(false);
}

async function main(): Promise<void> {
  const file = process.argv[2];
  const content = file ? new Uint8Array(readFileSync(file)) : new TextEncoder().encode('signed on a card\n');

  const accel = await openAccelerator({ devices: ['sim:ring'] });
  try {
    pkijs.setEngine('pkaccel', new pkijs.CryptoEngine({ name: 'pkaccel', crypto: accel.crypto }));
    x509.cryptoProvider.set(accel.crypto);

    const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = await accel.subtle.generateKey(algorithm, false, ['sign', 'verify']);
    const cert = await signerCertificate('CN=pkaccel CMS signer', algorithm, keys);
    const digest = await accel.subtle.digest('SHA-256', content);
    const der = await signDetached(keys.privateKey, cert, content, digest);

    // Check it here too, through the same engine, as a receiver would: parsed from the DER.
    const received = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(der).content });
    const data = content.buffer.slice(
      content.byteOffset,
      content.byteOffset + content.byteLength,
    ) as ArrayBuffer;
    if (!(await received.verify({ signer: 0, data, checkChain: false })))
      throw new Error('the SignedData does not verify');
    const base64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').trimEnd();
    console.log(`-----BEGIN CMS-----\n${base64}\n-----END CMS-----`);
    console.log(cert.toString('pem'));
    const card = accel.queue.snapshot().devices.find((d) => d.id.startsWith('sim:ring'));
    console.error(`card operations: ${card?.completed ?? 0}`);
  } finally {
    x509.cryptoProvider.clear();
    await accel.close();
  }
}

// Run as a script (the test of the real clients imports the two functions above).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
