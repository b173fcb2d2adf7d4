/**
 * The window card under the public API: openAccelerator('sim:window') composes
 * PKCS#1 signing, ECDSA and ECDH over the card's raw primitives, and core's
 * verify-before-release check catches a corrupted RSA-CRT half.
 */

import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Accelerator, type CryptoKeyPairLike, openAccelerator } from '../../../core/api/index.js';
import { Registry } from '../../../core/registry/registry.js';
import { windowDriver } from '../../../drivers/window/index.js';
import { ENGINE, engineReg } from '../../../drivers/window/registers.js';
import { SimulatorPlatform } from '../../../simulator/platform.js';
import { closeAfterEach } from '../../support/sim.js';

const platform = new SimulatorPlatform();
const registry = new Registry();
registry.registerPlatform(platform);
registry.registerDriver(windowDriver);

async function accelerator(query = ''): Promise<Accelerator> {
  return closeAfterEach(await openAccelerator({ devices: [`sim:window?mode=inline${query}`], registry }));
}

/** Operations the open window cards completed (OP_COUNT of every engine). */
function cardOps(): number {
  let total = 0;
  for (const fn of platform.openFunctions) {
    const mmio = fn.bar(0);
    for (let e = 0; e < mmio.read32(0x008); e++) total += mmio.read32(engineReg(e, ENGINE.OP_COUNT));
  }
  return total;
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const message = new TextEncoder().encode('window card');

async function rsaJwk() {
  const pair = await webcrypto.subtle.generateKey(
    { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  );
  return {
    priv: await webcrypto.subtle.exportKey('jwk', pair.privateKey),
    pub: pair.publicKey,
  };
}

describe('window card through openAccelerator', () => {
  it('signs RSA PKCS#1 v1.5 on the card (node verifies it), and ECDSA/ECDH run there too', async () => {
    const accel = await accelerator();
    expect(accel.devices.map((d) => d.driver)).toEqual(['window']);
    const { priv, pub } = await rsaJwk();
    const key = await accel.subtle.importKey('jwk', priv, RSA, false, ['sign']);
    const before = cardOps();
    const sig = await accel.subtle.sign(RSA, key, message);
    expect(cardOps()).toBeGreaterThan(before);
    expect(await webcrypto.subtle.verify(RSA, pub, sig, message)).toBe(true);

    const ec = (await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPairLike;
    const ecdsa = { name: 'ECDSA', hash: 'SHA-256' } as const;
    const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
    const beforeEc = cardOps();
    const ecSig = await accel.subtle.sign(ecdsa, ec.privateKey, message);
    expect(await accel.subtle.verify(ecdsa, ec.publicKey, ecSig, message)).toBe(true);
    expect(cardOps()).toBeGreaterThan(beforeEc);
    const spki = (await accel.subtle.exportKey('spki', ec.publicKey)) as ArrayBuffer;
    const nodePub = await webcrypto.subtle.importKey('spki', spki, P256, false, ['verify']);
    expect(await webcrypto.subtle.verify(ecdsa, nodePub, ecSig, message)).toBe(true);

    const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;
    const mine = (await accel.subtle.generateKey(ECDH, true, ['deriveBits'])) as CryptoKeyPairLike;
    const theirs = await webcrypto.subtle.generateKey(ECDH, true, ['deriveBits']);
    const theirsRaw = await webcrypto.subtle.exportKey('raw', theirs.publicKey);
    const theirsInAccel = await accel.subtle.importKey('raw', theirsRaw, ECDH, true, []);
    const beforeEcdh = cardOps();
    const secret = await accel.subtle.deriveBits(
      { name: 'ECDH', public: theirsInAccel },
      mine.privateKey,
      256,
    );
    expect(cardOps()).toBeGreaterThan(beforeEcdh);
    const mineRaw = (await accel.subtle.exportKey('raw', mine.publicKey)) as ArrayBuffer;
    const mineInNode = await webcrypto.subtle.importKey('raw', mineRaw, ECDH, true, []);
    const expected = await webcrypto.subtle.deriveBits(
      { name: 'ECDH', public: mineInNode },
      theirs.privateKey,
      256,
    );
    expect(new Uint8Array(secret)).toEqual(new Uint8Array(expected));
  });

  it('a corrupted CRT half is never released: the caller gets a right signature (retried) or an error', async () => {
    // Operation 1 is the RSA-CRT exponentiation; its mod-p half gets a bit flipped.
    const accel = await accelerator('&faults=corrupt@1');
    const { priv, pub } = await rsaJwk();
    const key = await accel.subtle.importKey('jwk', priv, RSA, false, ['sign']);
    const before = cardOps();
    const outcome = await accel.subtle.sign(RSA, key, message).then(
      (sig) => ({ sig }),
      (error: unknown) => ({ error }),
    );
    if ('error' in outcome) {
      // Not retried: the integrity check's DeviceError is the cause.
      expect(outcome.error).toMatchObject({ name: 'OperationError' });
      expect((outcome.error as Error).cause).toMatchObject({ code: 'device-error' });
    } else {
      // Retried after the check caught the fault: the card ran the operation again, and the result is right.
      expect(cardOps() - before).toBeGreaterThanOrEqual(2);
      expect(await webcrypto.subtle.verify(RSA, pub, outcome.sig, message)).toBe(true);
    }
    // The next signature (no fault) is released, and is right.
    const sig = await accel.subtle.sign(RSA, key, message);
    expect(await webcrypto.subtle.verify(RSA, pub, sig, message)).toBe(true);
  });
});
