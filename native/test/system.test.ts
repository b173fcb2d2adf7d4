/**
 * The system module (src/system.cc, lib/system.ts): what this host allows is run for
 * real; what it forbids (keyctl under seccomp, a kernel without the PKCS#8 parser)
 * is skipped with the reason the kernel gave.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { constants, createHash, createPrivateKey, publicEncrypt, sign, verify } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultSystemErrors,
  explainKeyctlErrno,
  KEY_PERM,
  KEY_SPEC,
  Keyctl,
  keyringOf,
  mapSystemError,
  PKEY_SUPPORTS,
  peerCredentials,
  socketFd,
  systemModuleStatus,
} from '../lib/system.js';
import { tempDir } from './helpers.js';

beforeAll(() => {
  const status = systemModuleStatus();
  if (!status.loaded) throw new Error(status.reason);
});

describe('peerCredentials (SO_PEERCRED)', () => {
  it('names this process at both ends of a Unix socket', async () => {
    const { dir, cleanup } = tempDir('pkaccel-peercred-');
    const path = join(dir, 's.sock');
    const accepted = new Promise<Socket>((resolve) => {
      const server = createServer((socket) => {
        resolve(socket);
        server.close();
      });
      server.listen(path);
    });
    const client = createConnection(path);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const serverSide = await accepted;
    const me = { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };
    expect(peerCredentials(socketFd(serverSide))).toEqual(me);
    expect(peerCredentials(socketFd(client))).toEqual(me);
    client.destroy();
    serverSide.destroy();
    cleanup();
  });

  it('refuses what is not a connected Unix socket, naming the errno', () => {
    const fd = openSync(fileURLToPath(import.meta.url), 'r');
    try {
      expect(() => peerCredentials(fd)).toThrow(
        expect.objectContaining({ code: 'invalid-input', errno: 'ENOTSOCK' }),
      );
    } finally {
      closeSync(fd);
    }
    expect(() => peerCredentials(1_000_000)).toThrow(expect.objectContaining({ errno: 'EBADF' }));
    expect(() => peerCredentials(-1)).toThrow(RangeError);
    expect(() => socketFd({})).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
});

describe('prctl(PR_SET_DUMPABLE)', () => {
  it('makes a process non-dumpable (in a child, so the runner keeps its flag)', () => {
    const child = fileURLToPath(new URL('./system-child.ts', import.meta.url));
    const result = spawnSync(process.execPath, ['--import', 'tsx', child, 'dumpable'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.signal, result.stderr).toBeNull();
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ before: true, after: false, again: true });
  });
});

describe('errors', () => {
  it('map errnos to typed errors naming the errno and the call', () => {
    const made = (code: string, syscall = 'keyctl(KEYCTL_PKEY_SIGN)') =>
      mapSystemError(Object.assign(new Error(`x: ${code}`), { code, syscall }), 'sign with key 1');
    expect(made('ENOKEY')).toMatchObject({ code: 'invalid-key', errno: 'ENOKEY' });
    expect(made('EACCES')).toMatchObject({ code: 'invalid-key', errno: 'EACCES' });
    expect(made('EACCES').message).toMatch(/permission/);
    expect(made('EPERM')).toMatchObject({ code: 'unsupported', errno: 'EPERM' });
    expect(made('EPERM').message).toMatch(/seccomp/);
    expect(made('EOPNOTSUPP')).toMatchObject({ code: 'unsupported' });
    expect(made('EINVAL')).toMatchObject({ code: 'invalid-input', syscall: 'keyctl(KEYCTL_PKEY_SIGN)' });
    expect(made('EIO')).toMatchObject({ code: 'device-error', errno: 'EIO' });
    expect(made('EBADMSG', 'add_key')).toMatchObject({ code: 'unsupported' });
    expect(made('EBADMSG', 'add_key').message).toMatch(/PKCS8_PRIVATE_KEY_PARSER/);
    // pkaccel's own classes, when handed in
    class Mine extends Error {}
    const errors = { ...defaultSystemErrors, InvalidKeyError: Mine };
    expect(mapSystemError(Object.assign(new Error('x'), { code: 'ENOKEY' }), 'c', errors)).toBeInstanceOf(
      Mine,
    );
    // argument errors stay what they are
    const range = new RangeError('bad');
    expect(mapSystemError(range, 'c')).toBe(range);
  });

  it('ENOSYS, EPERM and EOPNOTSUPP say which of their causes it is, by call and by /proc', () => {
    const seccomp = () => ({ seccomp: 2, keys: true });
    const plain = () => ({ seccomp: 0, keys: true });
    const noKeys = () => ({ seccomp: 0, keys: false });
    const sign = 'keyctl(KEYCTL_PKEY_SIGN)';
    // The PKEY call exists: ENOSYS is the bound crypto driver lacking the operation, whatever /proc says.
    expect(explainKeyctlErrno('ENOSYS', sign, noKeys)).toMatch(/does not implement this operation/);
    expect(explainKeyctlErrno('EOPNOTSUPP', sign, plain)).toMatch(/before 4\.20.*ASYMMETRIC_KEY_TYPE/);
    expect(explainKeyctlErrno('EOPNOTSUPP', 'keyctl(KEYCTL_CAPABILITIES)', plain)).toMatch(
      /before Linux 5\.3/,
    );
    // add_key / other keyctl calls: no CONFIG_KEYS, a seccomp filter, or neither.
    expect(explainKeyctlErrno('ENOSYS', 'add_key', noKeys)).toMatch(/CONFIG_KEYS off/);
    expect(explainKeyctlErrno('ENOSYS', 'add_key', seccomp)).toMatch(/seccomp filter is on/);
    expect(explainKeyctlErrno('EPERM', 'keyctl(KEYCTL_SEARCH)', seccomp)).toMatch(/seccomp filter is on/);
    expect(explainKeyctlErrno('EPERM', 'keyctl(KEYCTL_SEARCH)', plain)).toMatch(/no seccomp filter/);
    expect(explainKeyctlErrno('EACCES', sign, plain)).toBeUndefined();
    // ENOENT from a PKEY call: no akcipher for the key's algorithm; ENOPKG from add_key: the parser's algorithm list.
    expect(explainKeyctlErrno('ENOENT', 'keyctl(KEYCTL_PKEY_VERIFY)', plain)).toMatch(
      /no crypto implementation/,
    );
    expect(explainKeyctlErrno('ENOPKG', 'add_key', plain)).toMatch(/RSA private keys only/);
    // mapSystemError uses it: the message names the cause and the errno.
    const enosys = mapSystemError(
      Object.assign(new Error('x'), { code: 'ENOSYS', syscall: sign }),
      'sign with key 1 (enc=pkcs1)',
    );
    expect(enosys).toMatchObject({ code: 'unsupported', errno: 'ENOSYS', syscall: sign });
    expect(enosys.message).not.toMatch(/CONFIG_KEYS/);
    expect(enosys.message).toMatch(
      /does not implement this operation.*\(ENOSYS from keyctl\(KEYCTL_PKEY_SIGN\)\)/,
    );
  });

  it('keyring names as keyctl(1) spells them', () => {
    expect(keyringOf('@s')).toBe(KEY_SPEC.session);
    expect(keyringOf('@u')).toBe(KEY_SPEC.user);
    expect(keyringOf('12345')).toBe(12345);
    expect(() => keyringOf('@nope')).toThrow(/@s/);
  });
});

// ---- keyctl: as far as this host lets us ----

interface Material {
  certificate: Buffer; // DER X.509
  pkcs8: Buffer; // DER PKCS#8
  privatePem: string;
}

function makeMaterial(dir: string): Material | string {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.der');
  const p8 = join(dir, 'key.p8');
  try {
    // keyUsage digitalSignature, not a CA: a plain end-entity certificate
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-outform',
        'DER',
        '-subj',
        '/CN=pkaccel keyctl test',
        '-days',
        '1',
        '-addext',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        '-addext',
        'basicConstraints=critical,CA:FALSE',
      ],
      { stdio: 'ignore' },
    );
    execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', key, '-outform', 'DER', '-out', p8]);
  } catch (error) {
    return `openssl could not make a test certificate (${(error as Error).message}); .ci/run installs openssl`;
  }
  return { certificate: readFileSync(cert), pkcs8: readFileSync(p8), privatePem: readFileSync(key, 'utf8') };
}

describe('keyctl', () => {
  const keyctl = new Keyctl();
  const { dir, cleanup } = tempDir('pkaccel-keyctl-');
  const material = makeMaterial(dir);
  const added: number[] = [];
  let certKey: number | undefined;
  let unavailable: string | undefined;
  /** The test certificate added to the session keyring as `pkaccel-test-<what>-<pid>`, removed after the file. */
  const addCertificate = (what: string): number => {
    const key = keyctl.addKey(
      'asymmetric',
      `pkaccel-test-${what}-${process.pid}`,
      (material as Material).certificate,
      KEY_SPEC.session,
    );
    added.push(key);
    return key;
  };

  beforeAll(() => {
    if (typeof material === 'string') {
      unavailable = material;
      return;
    }
    try {
      certKey = addCertificate('cert');
    } catch (error) {
      const errno = (error as { errno?: string }).errno;
      if (errno === 'EPERM' || errno === 'ENOSYS' || errno === 'ENODEV' || errno === 'EBADMSG')
        unavailable = `this host does not allow it: ${(error as Error).message}`;
      else throw error;
    }
  });

  afterAll(() => {
    for (const key of added)
      try {
        keyctl.invalidate(key);
      } catch {
        // already gone
      }
    cleanup();
  });

  it('adds an X.509 certificate to the session keyring and describes, finds and lists it', (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const key = certKey!;
    expect(key).toBeGreaterThan(0);
    const description = keyctl.describe(key);
    expect(description).toMatchObject({
      type: 'asymmetric',
      uid: process.getuid!(),
      description: `pkaccel-test-cert-${process.pid}`,
    });
    expect(description.perm & KEY_PERM.possessor.view).not.toBe(0);
    expect(keyctl.search(KEY_SPEC.session, 'asymmetric', `pkaccel-test-cert-${process.pid}`)).toBe(key);
    expect(keyctl.keyringKeys(KEY_SPEC.session)).toContain(key);
    expect(keyctl.keyringId(KEY_SPEC.session)).toBeGreaterThan(0);
  });

  it('reads the kernel\u2019s keyctl capabilities', (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    let caps: ReturnType<Keyctl['capabilities']>;
    try {
      caps = keyctl.capabilities();
    } catch (error) {
      return ctx.skip(`KEYCTL_CAPABILITIES is not available (Linux < 5.3?): ${(error as Error).message}`);
    }
    expect(caps.raw.length).toBeGreaterThan(0);
    expect(caps.publicKey).toBe(true); // an asymmetric key was added: this kernel has the key type and its operations
    expect(caps.invalidate).toBe(true);
  });

  it('queries the key and verifies and encrypts with it in the kernel', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const key = certKey!;
    // Whether the process "possesses" a key in the session keyring depends on how the
    // session was set up (a user-session keyring standing in for a session keyring does
    // not confer possession): grant the owner view+search so the test does not depend on it.
    keyctl.setPerm(key, KEY_PERM.possessor.all | KEY_PERM.user.view | KEY_PERM.user.search);
    const info = 'enc=pkcs1 hash=sha256';
    const query = keyctl.query(key, info);
    expect(query.keySize).toBe(2048);
    expect(query.supportedOps & PKEY_SUPPORTS.verify).not.toBe(0);
    expect(query.supportedOps & PKEY_SUPPORTS.sign).toBe(0); // a certificate holds no private key
    const mat = material as Material;
    const message = Buffer.from('keyctl verify');
    const digest = createHash('sha256').update(message).digest();
    const signature = sign('sha256', message, mat.privatePem);
    expect(await keyctl.verify(key, info, digest, signature)).toBe(true);
    const forged = Buffer.from(signature);
    forged[forged.length - 1]! ^= 1;
    expect(await keyctl.verify(key, info, digest, forged)).toBe(false); // a bad padding: EINVAL on 6.13+
    const otherDigest = createHash('sha256').update('another message').digest();
    expect(await keyctl.verify(key, info, otherDigest, signature)).toBe(false); // EKEYREJECTED
    await expect(keyctl.verify(key, info, digest.subarray(0, 20), signature)).rejects.toMatchObject({
      code: 'invalid-input',
      errno: 'EINVAL',
    });
    // raw RSA encryption is deterministic: the kernel's result equals node's
    const block = Buffer.alloc(256, 0x42);
    block[0] = 0;
    const kernel = await keyctl.encrypt(key, 'enc=raw', block, 256);
    const node = publicEncrypt(
      { key: createPrivateKey(mat.privatePem), padding: constants.RSA_NO_PADDING },
      block,
    );
    expect(Buffer.from(kernel).equals(node)).toBe(true);
    // no private key: refused (EOPNOTSUPP on older kernels, EINVAL on 6.18)
    const refused = await keyctl.sign(key, info, digest, 256).catch((e) => e);
    expect(refused).toMatchObject({ errno: expect.stringMatching(/^(EOPNOTSUPP|EINVAL|ENOKEY)$/) });
  });

  it('refuses a key the process may not use, with a clear error naming EACCES', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const key = addCertificate('denied');
    keyctl.setPerm(key, KEY_PERM.possessor.view | KEY_PERM.possessor.setattr | KEY_PERM.user.view);
    const digest = createHash('sha256').update('x').digest();
    const error = await keyctl
      .verify(key, 'enc=pkcs1 hash=sha256', digest, Buffer.alloc(256))
      .catch((e) => e);
    expect(error).toMatchObject({ code: 'invalid-key', errno: 'EACCES' });
    expect((error as Error).message).toMatch(/permission/);
  });

  it('invalidates and unlinks keys', (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const a = addCertificate('inval');
    keyctl.invalidate(a);
    expect(() => keyctl.describe(a)).toThrow(
      expect.objectContaining({ code: 'invalid-key', errno: 'ENOKEY' }),
    );
    const b = addCertificate('unlink');
    keyctl.unlink(b, KEY_SPEC.session);
    expect(keyctl.keyringKeys(KEY_SPEC.session)).not.toContain(b);
  });

  it('signs and decrypts with a PKCS#8 private key in the kernel (needs the PKCS#8 parser)', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const mat = material as Material;
    let key: number;
    try {
      key = keyctl.addKey('asymmetric', `pkaccel-test-p8-${process.pid}`, mat.pkcs8, KEY_SPEC.session);
    } catch (error) {
      expect(error).toMatchObject({ code: 'unsupported', errno: 'EBADMSG', syscall: 'add_key' });
      return ctx.skip(`this kernel has no PKCS#8 key parser: ${(error as Error).message}`);
    }
    added.push(key);
    keyctl.setPerm(key, KEY_PERM.possessor.all | KEY_PERM.user.view | KEY_PERM.user.search);
    const message = Buffer.from('keyctl sign');
    const digest = createHash('sha256').update(message).digest();
    const signature = await keyctl.sign(key, 'enc=pkcs1 hash=sha256', digest, 256);
    expect(verify('sha256', message, createPrivateKey(mat.privatePem), signature)).toBe(true);
  });

  it('checks argument sizes before the call', (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    expect(() => keyctl.addKey('x'.repeat(33), 'd', new Uint8Array(1), KEY_SPEC.session)).toThrow(RangeError);
    expect(() => keyctl.addKey('asymmetric', 'a\0b', new Uint8Array(1), KEY_SPEC.session)).toThrow(
      RangeError,
    );
    expect(() => keyctl.describe(0)).toThrow(RangeError);
    return expect(keyctl.sign(certKey!, 'enc=raw', new Uint8Array(1), 0)).rejects.toThrow(RangeError);
  });
});
