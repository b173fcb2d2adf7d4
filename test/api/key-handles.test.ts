/**
 * A non-extractable key's material is unreachable from outside: not through
 * exportKey, wrapKey, JSON, util.inspect, structuredClone, reflection, or any
 * error message. These checks need no device: they stop before any primitive runs.
 */

import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accelerator, openAccelerator } from '../../core/api/index.js';
import { Registry } from '../../core/registry/registry.js';
import { rejectionOf } from '../support/accel.js';
import { fakeDriver } from '../support/fake-device.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaJwk = rsa.privateKey.export({ format: 'jwk' });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecJwk = ec.privateKey.export({ format: 'jwk' });
const ed = generateKeyPairSync('ed25519');
const edJwk = ed.privateKey.export({ format: 'jwk' });

/** Every textual form of every secret component, to search outputs for. */
const secrets: string[] = [];
for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
  const b64 = (rsaJwk as Record<string, string>)[member]!;
  const bytes = Buffer.from(b64, 'base64url');
  secrets.push(
    b64,
    bytes.toString('hex'),
    bytes.toString('base64'),
    BigInt(`0x${bytes.toString('hex')}`).toString(),
  );
}
for (const jwk of [ecJwk, edJwk]) {
  const bytes = Buffer.from(jwk.d!, 'base64url');
  secrets.push(
    jwk.d!,
    bytes.toString('hex'),
    bytes.toString('base64'),
    BigInt(`0x${bytes.toString('hex')}`).toString(),
  );
}

function expectNoSecret(text: string): void {
  for (const s of secrets) expect(text.includes(s), 'output contains key material').toBe(false);
}

/** Every value reachable from `root` through own properties, getters, prototypes and collections. */
function reachable(root: unknown, limit = 5000): unknown[] {
  const seen = new Set<unknown>();
  const queue: unknown[] = [root];
  while (queue.length > 0 && seen.size < limit) {
    const value = queue.shift();
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) {
      if (typeof value !== 'object') seen.add(value);
      continue;
    }
    seen.add(value);
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (!descriptor) continue;
      if ('value' in descriptor) queue.push(descriptor.value);
      else if (descriptor.get && typeof value === 'object') {
        try {
          queue.push(Reflect.get(value, key, root));
        } catch {
          // getters of a prototype called on the wrong receiver
        }
      }
    }
    if (typeof value === 'object' && !(value instanceof Function)) queue.push(Object.getPrototypeOf(value));
  }
  return [...seen];
}

let accel: Accelerator;
const { driver } = fakeDriver({
  name: 'idle',
  scheme: 'idle',
  priority: 1,
  capabilities: [],
  compute: () => new Uint8Array(),
});

beforeAll(async () => {
  const registry = new Registry();
  registry.registerDriver(driver);
  accel = await openAccelerator({ devices: ['idle'], registry });
});
afterAll(() => accel.close());

async function nonExtractableKeys() {
  const s = accel.subtle;
  return [
    await s.importKey('jwk', rsaJwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']),
    await s.importKey('jwk', rsaJwk, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt', 'unwrapKey']),
    await s.importKey('jwk', ecJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']),
    await s.importKey('jwk', edJwk, { name: 'Ed25519' }, false, ['sign']),
  ];
}

function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) parts.push(e.name, e.message, String(e.stack));
  return parts.join('\n');
}

describe('key handles', () => {
  it('(control) the leak detectors do detect material', () => {
    expect(() => expectNoSecret(JSON.stringify(rsaJwk))).toThrow();
    expect(() =>
      expectNoSecret(inspect({ d: BigInt(`0x${Buffer.from(ecJwk.d!, 'base64url').toString('hex')}`) })),
    ).toThrow();
    const leaky = {
      get material() {
        return Buffer.from(edJwk.d!, 'base64url');
      },
    };
    const found = reachable(leaky).some(
      (v) => v instanceof Uint8Array && Buffer.from(v).toString('base64url') === edJwk.d,
    );
    expect(found).toBe(true);
  });

  it('are CryptoKey-shaped with WebCrypto algorithm attributes', async () => {
    const [rsaKey, , ecKey, edKey] = await nonExtractableKeys();
    expect(rsaKey).toMatchObject({ type: 'private', extractable: false, usages: ['sign'] });
    expect(rsaKey!.algorithm).toMatchObject({
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      hash: { name: 'SHA-256' },
    });
    expect(Object.prototype.toString.call(rsaKey)).toBe('[object CryptoKey]');
    expect(ecKey!.algorithm).toEqual({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(edKey!.algorithm).toEqual({ name: 'Ed25519' });
    // The attributes cannot be altered through the objects handed out.
    rsaKey!.usages.push('verify');
    expect(rsaKey!.usages).toEqual(['sign']);
  });

  it('refuse exportKey in every format', async () => {
    for (const key of await nonExtractableKeys()) {
      for (const format of ['jwk', 'pkcs8', 'spki', 'raw'] as const) {
        const error = await rejectionOf(accel.subtle.exportKey(format, key));
        expect(error.name).toBe('InvalidAccessError');
        expectNoSecret(errorText(error));
      }
    }
  });

  it('refuse wrapKey with RSA-OAEP and AES-KW', async () => {
    const aesKw = await webcrypto.subtle.generateKey({ name: 'AES-KW', length: 256 }, false, ['wrapKey']);
    const oaep = await accel.subtle.importKey(
      'spki',
      rsa.publicKey.export({ format: 'der', type: 'spki' }),
      { name: 'RSA-OAEP', hash: 'SHA-256' },
      true,
      ['wrapKey'],
    );
    for (const key of await nonExtractableKeys()) {
      const viaKw = await rejectionOf(accel.subtle.wrapKey('jwk', key, aesKw, 'AES-KW'));
      expect(viaKw.name).toBe('InvalidAccessError');
      const viaOaep = await rejectionOf(accel.subtle.wrapKey('pkcs8', key, oaep, { name: 'RSA-OAEP' }));
      expect(viaOaep.name).toBe('InvalidAccessError');
      expectNoSecret(errorText(viaKw) + errorText(viaOaep));
    }
  });

  it('show nothing through JSON, inspect, reflection, and refuse structuredClone', async () => {
    for (const key of await nonExtractableKeys()) {
      expect(Object.keys(key)).toEqual([]);
      expect(Object.getOwnPropertyNames(key)).toEqual([]);
      expect(Object.getOwnPropertySymbols(key)).toEqual([]);
      expectNoSecret(JSON.stringify(key));
      expectNoSecret(JSON.stringify({ ...key }));
      const shown = inspect(key, { showHidden: true, depth: Number.POSITIVE_INFINITY, getters: true });
      expect(shown).toContain('CryptoKey');
      expectNoSecret(shown);
      // A key does not clone (it is bound to its accelerator): a DataCloneError, never a silent `{}`.
      let cloneError: unknown;
      try {
        structuredClone(key);
      } catch (error) {
        cloneError = error;
      }
      expect(cloneError).toBeInstanceOf(DOMException);
      expect((cloneError as DOMException).name).toBe('DataCloneError');
      expect((cloneError as DOMException).message).toContain('CryptoKey');
      expectNoSecret(errorText(cloneError as Error));
      // Nothing reachable from the handle (own properties, getters, prototype chain) is key material.
      for (const value of reachable(key)) {
        if (typeof value === 'bigint') expectNoSecret(value.toString());
        if (value instanceof Uint8Array) expectNoSecret(Buffer.from(value).toString('hex'));
        if (typeof value === 'string') expectNoSecret(value);
      }
    }
  });

  it('leave no private JWK member in RegExp.input (the last string a regular expression matched)', async () => {
    const legacy = RegExp as unknown as { readonly input: string };
    for (const jwk of [rsaJwk, ecJwk]) {
      await accel.subtle
        .importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
        .catch(() => {});
      await accel.subtle
        .importKey('jwk', jwk, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign'])
        .catch(() => {});
      expectNoSecret(legacy.input);
    }
  });

  it('keep material out of the errors of misuse', async () => {
    const [rsaKey, oaepKey, ecKey] = await nonExtractableKeys();
    const errors = [
      await rejectionOf(accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, rsaKey!, new Uint8Array(1))),
      await rejectionOf(accel.subtle.decrypt({ name: 'RSA-OAEP' }, rsaKey!, new Uint8Array(1))),
      await rejectionOf(accel.subtle.sign({ name: 'RSASSA-PKCS1-v1_5' }, oaepKey!, new Uint8Array(1))),
      await rejectionOf(accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, ecKey!, new Uint8Array(1))),
    ];
    expect(errors.map((e) => e.name)).toEqual([
      'InvalidAccessError',
      'InvalidAccessError',
      'InvalidAccessError',
      'NotSupportedError', // the idle device has no capabilities
    ]);
    for (const e of errors) expectNoSecret(errorText(e));
  });

  it('export when extractable, in the formats the key type has', async () => {
    const key = await accel.subtle.importKey('jwk', rsaJwk, { name: 'RSA-PSS', hash: 'SHA-384' }, true, [
      'sign',
    ]);
    const jwk = await accel.subtle.exportKey('jwk', key);
    expect(jwk).toMatchObject({ ...rsaJwk, alg: 'PS384', ext: true, key_ops: ['sign'] });
    const pkcs8 = new Uint8Array((await accel.subtle.exportKey('pkcs8', key)) as ArrayBuffer);
    expect(Buffer.from(pkcs8)).toEqual(rsa.privateKey.export({ format: 'der', type: 'pkcs8' }));
    expect((await rejectionOf(accel.subtle.exportKey('spki', key))).name).toBe('InvalidAccessError');
    expect((await rejectionOf(accel.subtle.exportKey('raw', key))).name).toBe('NotSupportedError');
  });
});
