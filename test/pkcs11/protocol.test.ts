/**
 * The token over the wire, with the test-side RPC client: handshake, slot and
 * token info, login and the PIN, what each uid sees (the named-key ACL by peer
 * credentials), sensitive attributes, the size-query and buffer-too-small rules,
 * sign / verify / decrypt results checked with node:crypto against the public
 * keys, multi-part hash-and-sign, unsupported calls, requests answered in order,
 * and a malformed message closing only its own connection.
 */

import * as nc from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RSA_MODULUS_BITS } from '../../index.js';
import type { RpcAttribute } from '../../server/pkcs11/codec.js';
import { CKA, CKF_MECH, CKF_TOKEN, CKM, CKR } from '../../server/pkcs11/constants.js';
import type { Pkcs11Server } from '../../server/pkcs11/index.js';
import { CkrError, oaepMechanism, plainMechanism, pssMechanism, RpcClient } from './rpc-client.js';
import { OTHER_UID, type TokenFixture, tokenFixture } from './token-fixture.js';

const PIN = '4711-secret';
let fx: TokenFixture;
let withPin: Pkcs11Server;
let otherUid: Pkcs11Server;
const clients: RpcClient[] = [];

async function client(server: Pkcs11Server = withPin): Promise<RpcClient> {
  const c = await RpcClient.connect(server.path);
  clients.push(c);
  await c.initialize();
  return c;
}

async function loggedIn(): Promise<{ c: RpcClient; s: number }> {
  const c = await client();
  const s = await c.openSession();
  await c.login(s, PIN);
  return { c, s };
}

const sha256 = (data: Uint8Array) => nc.createHash('sha256').update(data).digest();
const ulongAttr = (type: number, value: number): RpcAttribute => ({
  type,
  length: 8,
  value: { kind: 'ulong', value },
});
const PRIVATE_KEYS = [ulongAttr(CKA.CLASS, 3)];

beforeAll(async () => {
  fx = await tokenFixture();
  withPin = await fx.serve('pin.sock', { pin: PIN });
  // The same token seen by a peer whose credentials say uid 4242 (the ACL decides on them).
  otherUid = await fx.serve('other.sock', { peerCredentials: () => ({ uid: OTHER_UID, gid: 1, pid: 1 }) });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.socket.destroy();
  await fx?.close();
});

describe('session set-up', () => {
  it('answers the version byte with 0 whatever the client offers, and wants C_Initialize first', async () => {
    const c = await RpcClient.connect(withPin.path, 2);
    clients.push(c);
    const slots = await c.call(4, 'yfu', (w) => w.byte(1).u32(0));
    expect(c.version).toBe(0);
    expect(slots.rv).toBe(CKR.CRYPTOKI_NOT_INITIALIZED);
    const wrong = await c.call(1, 'ayyay', (w) =>
      w
        .presentBytes({ data: Buffer.from('not the handshake') })
        .byte(0)
        .presentBytes({ data: null, length: 0 }),
    );
    expect(wrong.rv).toBe(CKR.GENERAL_ERROR);
    await c.initialize();
  });

  it('one slot; the size query first, then the list; token info says login required', async () => {
    const c = await client();
    const size = (await c.ok(4, 'yfu', (w) => w.byte(1).u32(0))).ulongArray();
    expect(size).toEqual({ length: 1 });
    const list = (await c.ok(4, 'yfu', (w) => w.byte(1).u32(1))).ulongArray();
    expect(list).toEqual([1]);
    const info = await c.ok(6, 'u', (w) => w.u64(1));
    expect(info.string().trimEnd()).toBe('pkaccel'); // label
    info.string(); // manufacturer
    expect(info.string().trimEnd()).toBe('pkaccel'); // model
    expect(info.string()).toMatch(/^[0-9a-f]{16}$/); // serial
    const flags = info.ulong();
    expect(flags & CKF_TOKEN.LOGIN_REQUIRED).toBe(CKF_TOKEN.LOGIN_REQUIRED);
    expect(flags & CKF_TOKEN.RNG).toBe(CKF_TOKEN.RNG);
    expect((await c.call(6, 'u', (w) => w.u64(7))).rv).toBe(CKR.SLOT_ID_INVALID);
  });

  it('mechanism list and info come from the devices (software: no CKF_HW)', async () => {
    const c = await client();
    const list = (await c.ok(7, 'ufu', (w) => w.u64(1).u32(64))).ulongArray() as number[];
    for (const m of [CKM.RSA_PKCS, CKM.RSA_PKCS_PSS, CKM.RSA_PKCS_OAEP, CKM.ECDSA, CKM.SHA256_RSA_PKCS])
      expect(list).toContain(m);
    // Raw RSA is off unless the server allows it.
    expect(list).not.toContain(CKM.RSA_X_509);
    const info = await c.ok(8, 'uu', (w) => w.u64(1).u64(CKM.ECDSA));
    expect([info.ulong(), info.ulong()]).toEqual([256, 521]);
    expect(info.ulong() & 0x1).toBe(0);
    expect((await c.call(8, 'uu', (w) => w.u64(1).u64(CKM.RSA_X_509))).rv).toBe(CKR.MECHANISM_INVALID);
  });
});

describe('login and visibility', () => {
  it('before login only public keys show; a wrong PIN is CKR_PIN_INCORRECT; the right one shows private keys', async () => {
    const c = await client();
    const s = await c.openSession();
    expect(await c.find(s, PRIVATE_KEYS)).toEqual([]);
    expect(await c.find(s, [ulongAttr(CKA.CLASS, 2)])).toHaveLength(2); // rsa, ec public (not shared's)
    await expect(c.login(s, 'wrong')).rejects.toEqual(new CkrError(CKR.PIN_INCORRECT));
    expect(await c.find(s, PRIVATE_KEYS)).toEqual([]);
    await c.login(s, PIN);
    await expect(c.login(s, PIN)).rejects.toEqual(new CkrError(CKR.USER_ALREADY_LOGGED_IN));
    expect(await c.find(s, PRIVATE_KEYS)).toHaveLength(2);
    // The session's state says so; logging out hides them again.
    const info = await c.ok(13, 'u', (w) => w.u64(s));
    expect([info.ulong(), info.ulong()]).toEqual([1, 1]); // slot 1, CKS_RO_USER_FUNCTIONS
    await c.ok(19, 'u', (w) => w.u64(s));
    expect(await c.find(s, PRIVATE_KEYS)).toEqual([]);
  });

  it('a uid the ACL names sees only its key; the broker uid does not see it', async () => {
    const c = await client(otherUid);
    const s = await c.openSession();
    const found = await c.find(s, []);
    expect(found).toHaveLength(2);
    for (const h of found)
      expect(Buffer.from(await c.bytesAttribute(s, h, CKA.LABEL)).toString()).toBe('shared');
    // Handles of other keys are not objects for this peer.
    const err = await c.call(24, 'uufA', (w) => w.u64(s).u64(1).u32(1).u32(CKA.LABEL).u32(0));
    expect(err.rv).toBe(CKR.OBJECT_HANDLE_INVALID);
    const own = await loggedIn();
    const labels = [];
    for (const h of await own.c.find(own.s, []))
      labels.push(Buffer.from(await own.c.bytesAttribute(own.s, h, CKA.LABEL)).toString());
    expect(labels.sort()).toEqual(['ec', 'ec', 'rsa', 'rsa']);
  });
});

describe('attributes', () => {
  it('what consumers read; private values are sensitive; EC_POINT only on the public object', async () => {
    const { c, s } = await loggedIn();
    const rsa = await c.privateKey(s, 'rsa');
    const got = await c.attributes(s, rsa, [
      { type: CKA.KEY_TYPE, length: 8 },
      { type: CKA.SENSITIVE, length: 1 },
      { type: CKA.EXTRACTABLE, length: 1 },
      { type: CKA.ALWAYS_AUTHENTICATE, length: 1 },
      { type: CKA.MODULUS_BITS, length: 8 },
      { type: CKA.SIGN, length: 1 },
    ]);
    expect(got.rv).toBe(CKR.OK);
    expect(got.attributes.map((a) => a.value?.value)).toEqual([0, 1, 0, 0, 2048, 1]);
    const modulus = await c.bytesAttribute(s, rsa, CKA.MODULUS);
    expect(Buffer.from(modulus).toString('base64url')).toBe(fx.publicKeys.rsa!.export({ format: 'jwk' }).n);
    const secret = await c.attributes(s, rsa, [
      { type: CKA.LABEL, length: 3 },
      { type: CKA.PRIVATE_EXPONENT, length: 512 },
    ]);
    expect(secret.rv).toBe(CKR.ATTRIBUTE_SENSITIVE);
    expect(secret.attributes[1]).toEqual({ type: CKA.PRIVATE_EXPONENT, length: -1 });
    expect(secret.attributes[0]?.value).toEqual({ kind: 'bytes', value: new Uint8Array(Buffer.from('rsa')) });
    const ec = await c.privateKey(s, 'ec');
    const point = await c.attributes(s, ec, [{ type: CKA.EC_POINT, length: 0 }]);
    expect(point.rv).toBe(CKR.ATTRIBUTE_TYPE_INVALID);
    const [pub] = await c.find(s, [
      ulongAttr(CKA.CLASS, 2),
      { type: CKA.LABEL, length: 2, value: { kind: 'bytes', value: Buffer.from('ec') } },
    ]);
    const der = await c.bytesAttribute(s, pub!, CKA.EC_POINT);
    // DER OCTET STRING around 04‖x‖y, the same point node exports.
    const raw = fx.publicKeys.ec!.export({ format: 'der', type: 'spki' }).subarray(-65);
    expect(Buffer.from(der).toString('hex')).toBe(`0441${raw.toString('hex')}`);
    expect(Buffer.from(await c.bytesAttribute(s, ec, CKA.EC_PARAMS)).toString('hex')).toBe(
      '06082a8648ce3d030107',
    );
  });

  it('size query answers the length; a short buffer is CKR_BUFFER_TOO_SMALL', async () => {
    const { c, s } = await loggedIn();
    const rsa = await c.privateKey(s, 'rsa');
    const size = await c.attributes(s, rsa, [{ type: CKA.MODULUS, length: 0 }]);
    expect(size.rv).toBe(CKR.OK);
    expect(size.attributes[0]).toEqual({
      type: CKA.MODULUS,
      length: 256,
      value: { kind: 'bytes', value: null },
    });
    const small = await c.attributes(s, rsa, [{ type: CKA.MODULUS, length: 100 }]);
    expect(small.rv).toBe(CKR.BUFFER_TOO_SMALL);
    expect(small.attributes[0]?.length).toBe(-1);
  });
});

describe('operations', () => {
  it('CKM_RSA_PKCS on a DigestInfo: size query and short buffer keep the operation; node verifies', async () => {
    const { c, s } = await loggedIn();
    const rsa = await c.privateKey(s, 'rsa');
    const message = Buffer.from('sign me');
    const digestInfo = Buffer.concat([
      Buffer.from('3031300d060960864801650304020105000420', 'hex'),
      sha256(message),
    ]);
    await c.ok(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.RSA_PKCS).u64(rsa));
    await expect(c.ok(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.RSA_PKCS).u64(rsa))).rejects.toEqual(
      new CkrError(CKR.OPERATION_ACTIVE),
    );
    expect(await c.sign(s, digestInfo, 0)).toEqual({ data: null, length: 256 });
    expect(await c.sign(s, digestInfo, 10)).toEqual({ data: null, length: 256 });
    const sig = await c.sign(s, digestInfo, 256);
    if (sig.data === null) throw new Error('no signature');
    expect(nc.verify('sha256', message, fx.publicKeys.rsa!, sig.data)).toBe(true);
    // The operation ended with the signature.
    expect((await c.call(43, 'uayfy', (w) => w.u64(s).presentBytes({ data: digestInfo }).u32(256))).rv).toBe(
      CKR.OPERATION_NOT_INITIALIZED,
    );
  });

  it('CKM_RSA_PKCS_PSS on a SHA-256 hash (TLS 1.3) and SHA256_RSA_PKCS in parts', async () => {
    const { c, s } = await loggedIn();
    const rsa = await c.privateKey(s, 'rsa');
    const message = Buffer.from('tls 1.3 transcript');
    await c.ok(42, 'uMu', (w) => pssMechanism(w.u64(s), CKM.RSA_PKCS_PSS, CKM.SHA256, 2, 32).u64(rsa));
    const pss = await c.sign(s, sha256(message), 512);
    const pub = fx.publicKeys.rsa!;
    const pssKey = { key: pub, padding: nc.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    expect(nc.verify('sha256', message, pssKey, pss.data!)).toBe(true);
    await c.ok(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.SHA256_RSA_PKCS).u64(rsa));
    await c.ok(44, 'uay', (w) => w.u64(s).presentBytes({ data: message.subarray(0, 5) }));
    await c.ok(44, 'uay', (w) => w.u64(s).presentBytes({ data: message.subarray(5) }));
    expect((await c.ok(45, 'ufy', (w) => w.u64(s).u32(0))).presentBytes()).toEqual({
      data: null,
      length: 256,
    });
    const parts = (await c.ok(45, 'ufy', (w) => w.u64(s).u32(256))).presentBytes();
    expect(nc.verify('sha256', message, pub, parts.data!)).toBe(true);
    // A salt the key cannot hold is refused at SignInit.
    const bad = await c.call(42, 'uMu', (w) =>
      pssMechanism(w.u64(s), CKM.RSA_PKCS_PSS, CKM.SHA256, 2, 300).u64(rsa),
    );
    expect(bad.rv).toBe(CKR.MECHANISM_PARAM_INVALID);
  });

  it('CKM_ECDSA on a hash: r‖s that node verifies; C_Verify agrees and refuses a changed signature', async () => {
    const { c, s } = await loggedIn();
    const ec = await c.privateKey(s, 'ec');
    const message = Buffer.from('ecdsa over a hash');
    await c.ok(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.ECDSA).u64(ec));
    const sig = await c.sign(s, sha256(message), 64);
    expect(sig.data).toHaveLength(64);
    expect(
      nc.verify('sha256', message, { key: fx.publicKeys.ec!, dsaEncoding: 'ieee-p1363' }, sig.data!),
    ).toBe(true);
    const [pub] = await c.find(s, [
      ulongAttr(CKA.CLASS, 2),
      { type: CKA.LABEL, length: 2, value: { kind: 'bytes', value: Buffer.from('ec') } },
    ]);
    const verify = async (signature: Uint8Array) => {
      await c.ok(48, 'uMu', (w) => plainMechanism(w.u64(s), CKM.ECDSA).u64(pub!));
      return (
        await c.call(49, 'uayay', (w) =>
          w
            .u64(s)
            .presentBytes({ data: sha256(message) })
            .presentBytes({ data: signature }),
        )
      ).rv;
    };
    expect(await verify(sig.data!)).toBe(CKR.OK);
    const changed = Uint8Array.from(sig.data!);
    changed[10]! ^= 1;
    expect(await verify(changed)).toBe(CKR.SIGNATURE_INVALID);
    expect(await verify(changed.subarray(1))).toBe(CKR.SIGNATURE_LEN_RANGE);
  });

  it('CKM_RSA_PKCS_OAEP decrypts what node encrypted (size query first); garbage is ENCRYPTED_DATA_INVALID', async () => {
    const { c, s } = await loggedIn();
    const rsa = await c.privateKey(s, 'rsa');
    const secret = Buffer.from('the session key');
    const label = Buffer.from('ctx');
    const ct = nc.publicEncrypt(
      {
        key: fx.publicKeys.rsa!,
        padding: nc.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256',
        oaepLabel: label,
      },
      secret,
    );
    await c.ok(33, 'uMu', (w) => oaepMechanism(w.u64(s), CKM.SHA256, 2, label).u64(rsa));
    const decrypt = (data: Uint8Array, size: number) =>
      c.call(34, 'uayfy', (w) => w.u64(s).presentBytes({ data }).u32(size));
    expect((await decrypt(ct, 0)).reader.presentBytes()).toEqual({ data: null, length: secret.length });
    const plain = (await decrypt(ct, 256)).reader.presentBytes();
    expect(Buffer.from(plain.data!).toString()).toBe('the session key');
    await c.ok(33, 'uMu', (w) => oaepMechanism(w.u64(s), CKM.SHA256, 2, label).u64(rsa));
    const garbage = Uint8Array.from(ct);
    garbage[100]! ^= 0x40;
    expect((await decrypt(garbage, 256)).rv).toBe(CKR.ENCRYPTED_DATA_INVALID);
  });

  it('CKM_RSA_PKCS decrypts what node encrypted (size query, short buffer); a bad padding answers a stable synthetic message, no error', async () => {
    const { c, s } = await loggedIn();
    const rsa = await c.privateKey(s, 'rsa');
    const info = await c.ok(8, 'uu', (w) => w.u64(1).u64(CKM.RSA_PKCS));
    expect([info.ulong(), info.ulong()]).toEqual([RSA_MODULUS_BITS.min, RSA_MODULUS_BITS.max]);
    expect(info.ulong() & (CKF_MECH.DECRYPT | CKF_MECH.SIGN)).toBe(CKF_MECH.DECRYPT | CKF_MECH.SIGN);
    const premaster = nc.randomBytes(48);
    const ct = nc.publicEncrypt(
      { key: fx.publicKeys.rsa!, padding: nc.constants.RSA_PKCS1_PADDING },
      premaster,
    );
    const decrypt = (data: Uint8Array, size: number) =>
      c.call(34, 'uayfy', (w) => w.u64(s).presentBytes({ data }).u32(size));
    const init = () => c.ok(33, 'uMu', (w) => plainMechanism(w.u64(s), CKM.RSA_PKCS).u64(rsa));
    await init();
    // Size query and a short buffer answer the length and keep the operation.
    expect((await decrypt(ct, 0)).reader.presentBytes()).toEqual({ data: null, length: 48 });
    expect((await decrypt(ct, 47)).reader.presentBytes()).toEqual({ data: null, length: 48 });
    const plain = (await decrypt(ct, 256)).reader.presentBytes();
    expect(Buffer.from(plain.data!).equals(premaster)).toBe(true);
    expect((await decrypt(ct, 256)).rv).toBe(CKR.OPERATION_NOT_INITIALIZED);
    // A corrupted ciphertext: CKR_OK with the key's synthetic message (≤ k − 11 bytes), the same twice.
    const garbage = Uint8Array.from(ct);
    garbage[100]! ^= 0x40;
    const synthetic: Uint8Array[] = [];
    for (let i = 0; i < 2; i++) {
      await init();
      const reply = await decrypt(garbage, 256);
      expect(reply.rv).toBe(CKR.OK);
      const out = reply.reader.presentBytes().data!;
      expect(out.length).toBeLessThanOrEqual(256 - 11);
      expect(Buffer.from(out).equals(premaster)).toBe(false);
      synthetic.push(out);
    }
    expect(Buffer.from(synthetic[0]!).equals(Buffer.from(synthetic[1]!))).toBe(true);
    // What is public still fails: a ciphertext of the wrong length, or not below n.
    await init();
    expect((await decrypt(ct.subarray(1), 256)).rv).toBe(CKR.ENCRYPTED_DATA_LEN_RANGE);
    await init();
    expect((await decrypt(new Uint8Array(256).fill(0xff), 256)).rv).toBe(CKR.ENCRYPTED_DATA_INVALID);
    // The hash-and-sign mechanisms do not decrypt.
    const hashed = await c.call(33, 'uMu', (w) => plainMechanism(w.u64(s), CKM.SHA256_RSA_PKCS).u64(rsa));
    expect(hashed.rv).toBe(CKR.MECHANISM_INVALID);
  });

  it('a key without a rejection secret (d never on the host): no CKF_DECRYPT for CKM_RSA_PKCS, DecryptInit refused', async () => {
    const bare = fx.keys.map(({ rejectionSecret: _, ...key }) => key);
    const server = await fx.serve('no-secret.sock', { namedKeys: bare });
    const c = await client(server);
    const s = await c.openSession();
    const info = await c.ok(8, 'uu', (w) => w.u64(1).u64(CKM.RSA_PKCS));
    info.ulong();
    info.ulong();
    const flags = info.ulong();
    expect(flags & CKF_MECH.SIGN).toBe(CKF_MECH.SIGN);
    expect(flags & CKF_MECH.DECRYPT).toBe(0);
    const rsa = await c.privateKey(s, 'rsa');
    const pkcs1 = await c.call(33, 'uMu', (w) => plainMechanism(w.u64(s), CKM.RSA_PKCS).u64(rsa));
    expect(pkcs1.rv).toBe(CKR.MECHANISM_INVALID);
    // OAEP still decrypts with it.
    await c.ok(33, 'uMu', (w) => oaepMechanism(w.u64(s), CKM.SHA256, 2, Buffer.alloc(0)).u64(rsa));
    // Beside a key that has one (`shared`), the mechanism decrypts, but not with this key.
    const mixed = await fx.serve('mixed.sock', {
      namedKeys: fx.keys.map((k) => (k.name === 'rsa' ? bare[0]! : k)),
    });
    const m = await client(mixed);
    const ms = await m.openSession();
    const mixedInfo = await m.ok(8, 'uu', (w) => w.u64(1).u64(CKM.RSA_PKCS));
    mixedInfo.ulong();
    mixedInfo.ulong();
    expect(mixedInfo.ulong() & CKF_MECH.DECRYPT).toBe(CKF_MECH.DECRYPT);
    const mrsa = await m.privateKey(ms, 'rsa');
    const refused = await m.call(33, 'uMu', (w) => plainMechanism(w.u64(ms), CKM.RSA_PKCS).u64(mrsa));
    expect(refused.rv).toBe(CKR.KEY_FUNCTION_NOT_PERMITTED);
  });

  it('wrong key type, wrong class and no login are refused at init', async () => {
    const { c, s } = await loggedIn();
    const ec = await c.privateKey(s, 'ec');
    expect((await c.call(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.RSA_PKCS).u64(ec))).rv).toBe(
      CKR.KEY_TYPE_INCONSISTENT,
    );
    const [pub] = await c.find(s, [ulongAttr(CKA.CLASS, 2)]);
    expect((await c.call(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.ECDSA).u64(pub!))).rv).toBe(
      CKR.KEY_FUNCTION_NOT_PERMITTED,
    );
    // A mechanism whose parameter this server does not decode (AES-GCM's) is refused, the connection kept.
    const gcm = await c.call(42, 'uMu', (w) =>
      w.u64(s).u32(0x1087).byteArray(new Uint8Array(12)).u64(96).byteArray(null).u64(128).u64(ec),
    );
    expect(gcm.rv).toBe(CKR.MECHANISM_INVALID);
    expect(await c.find(s, PRIVATE_KEYS)).toHaveLength(2);
    const fresh = await client();
    const s2 = await fresh.openSession();
    expect((await fresh.call(42, 'uMu', (w) => plainMechanism(w.u64(s2), CKM.ECDSA).u64(ec))).rv).toBe(
      CKR.KEY_HANDLE_INVALID,
    );
  });

  it('random bytes; unserved calls are CKR_FUNCTION_NOT_SUPPORTED', async () => {
    const { c, s } = await loggedIn();
    const a = (await c.ok(64, 'ufy', (w) => w.u64(s).u32(32))).presentBytes();
    const b = (await c.ok(64, 'ufy', (w) => w.u64(s).u32(32))).presentBytes();
    expect(a.data).toHaveLength(32);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
    expect((await c.call(59, 'uMaAaA')).rv).toBe(CKR.FUNCTION_NOT_SUPPORTED); // C_GenerateKeyPair
    expect((await c.call(66, 'uuayu')).rv).toBe(CKR.FUNCTION_NOT_SUPPORTED); // 0.26's C_LoginUser
    expect((await c.call(63, 'uay', (w) => w.u64(s).presentBytes({ data: Buffer.from('x') }))).rv).toBe(
      CKR.RANDOM_SEED_NOT_SUPPORTED,
    );
  });
});

describe('raw RSA', () => {
  it('CKM_RSA_X_509 only where the server allows it: then raw sign and decrypt match node', async () => {
    const raw = await fx.serve('raw.sock', { allowRawRsa: true });
    const c = await client(raw);
    const s = await c.openSession();
    const list = (await c.ok(7, 'ufu', (w) => w.u64(1).u32(64))).ulongArray() as number[];
    expect(list).toContain(CKM.RSA_X_509);
    const rsa = await c.privateKey(s, 'rsa');
    const input = Buffer.from('short input, left-padded with zeros to the modulus');
    await c.ok(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.RSA_X_509).u64(rsa));
    const sig = await c.sign(s, input, 256);
    const opened = nc.publicEncrypt(
      { key: fx.publicKeys.rsa!, padding: nc.constants.RSA_NO_PADDING },
      sig.data!,
    );
    expect(opened.subarray(256 - input.length).equals(input)).toBe(true);
    expect(opened.subarray(0, 256 - input.length).every((b) => b === 0)).toBe(true);
    await c.ok(33, 'uMu', (w) => plainMechanism(w.u64(s), CKM.RSA_X_509).u64(rsa));
    const back = (
      await c.ok(34, 'uayfy', (w) => w.u64(s).presentBytes({ data: opened }).u32(256))
    ).presentBytes();
    expect(Buffer.from(back.data!).equals(Buffer.from(sig.data!))).toBe(true);
  });
});

describe('the connection', () => {
  it('answers pipelined requests in order, each with its code', async () => {
    const { c, s } = await loggedIn();
    const ec = await c.privateKey(s, 'ec');
    const digest = sha256(Buffer.from('pipelined'));
    const replies = await Promise.all([
      c.call(42, 'uMu', (w) => plainMechanism(w.u64(s), CKM.ECDSA).u64(ec)),
      c.call(43, 'uayfy', (w) => w.u64(s).presentBytes({ data: digest }).u32(64)),
      c.call(64, 'ufy', (w) => w.u64(s).u32(8)),
    ]);
    expect(replies.map((r) => r.callId)).toEqual([42, 43, 64]);
    const sig = replies[1]!.reader.presentBytes().data!;
    expect(
      nc.verify(
        'sha256',
        Buffer.from('pipelined'),
        { key: fx.publicKeys.ec!, dsaEncoding: 'ieee-p1363' },
        sig,
      ),
    ).toBe(true);
  });

  it('a client that reads nothing for a while: others are served meanwhile, then every reply arrives in order', async () => {
    const { c, s } = await loggedIn();
    // 600 requests for 32 KiB of random each (about 19 MiB of replies) while this client reads nothing.
    c.socket.pause();
    const replies = Array.from({ length: 600 }, () => c.call(64, 'ufy', (w) => w.u64(s).u32(32 * 1024)));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Meanwhile another connection is served as usual.
    const other = await loggedIn();
    expect(await other.c.find(other.s, PRIVATE_KEYS)).toHaveLength(2);
    c.socket.resume();
    const got = await Promise.all(replies);
    expect(got.every((r) => r.callId === 64 && r.reader.presentBytes().data?.length === 32 * 1024)).toBe(
      true,
    );
  });

  it('a malformed message closes that connection only', async () => {
    const bystander = await loggedIn();
    const bad = await client();
    await expect(bad.call(43, 'uay', (w) => w.u64(1))).rejects.toThrow(/closed/);
    await bad.closed();
    expect(await bystander.c.find(bystander.s, PRIVATE_KEYS)).toHaveLength(2);
    expect(withPin.connections()).toBeGreaterThan(0);
  });
});
