/**
 * The keyring device: the kernel's key management (Linux keyrings) and its
 * public-key operations (KEYCTL_PKEY_*) behind the Device contract. Keys go into
 * the kernel as add_key payloads — public keys as X.509 certificates, private
 * keys as PKCS#8 — and every operation names a key by its serial; the kernel runs
 * it on the highest-priority akcipher it has (a hardware driver where one is
 * loaded, its generic RSA otherwise).
 *
 * `start()` probes what this kernel allows: KEYCTL_CAPABILITIES, then a fixed
 * probe key's certificate and its PKCS#8 form (probe-key.ts), each added,
 * queried and invalidated. What it refuses is reported in `limits` and the
 * model name (e.g. no PKCS#8 parser: public-key operations only); what it
 * refuses later, at run time, is dropped from the capabilities with a
 * 'capabilities' event, the way drivers/virtio-crypto learns refusals.
 *
 * Keys the device adds (a request's inline key, an imported key) live in the
 * process keyring (@p): they die with the process, and close() invalidates them
 * before. Named keys (`keyStore.openKey`) are searched in the spec's keyring
 * (`keyring` = @u, `keyring:@s`, …) and left alone.
 */

import { asPkaccelError } from '../../core/driver/errors.js';
import {
  type Capability,
  type Device,
  type DeviceEvent,
  type DeviceInfo,
  type DeviceState,
  type EcCurveName,
  heldPrivateKey,
  InvalidKeyError,
  type Job,
  type KeyStore,
  type PkaccelError,
  type PrimitiveValue,
  type PrivateKeyMaterial,
  type PublicKeyMaterial,
  RsaPrivateKeyMaterial,
  type RsaPublicKeyMaterial,
  UnsupportedError,
} from '../../core/driver/index.js';
import { bigintToBytes, bytesToBigint } from '../../core/encoding/bytes.js';
import { HASH_NAMES } from '../../core/encoding/hashes.js';
import { publicKeyCertificate, rsaPkcs8 } from './der.js';
import { errnoOf, KEYRINGS, type KeyctlCalls, SUPPORTS, USE_ONLY } from './keyctl.js';
import { PROBE_KEY_HEX } from './probe-key.js';
import { KeyringQueuePair } from './queue-pair.js';
import { KERNEL_RSA_BITS, type KeyctlPlan, padTo, planOf, publicKeyId } from './requests.js';

/** Above the software provider (0), below the cards (300, 400): the kernel may itself be running software. */
export const KEYRING_PRIORITY = 50;

/** Public keys kept in the kernel at once; the oldest is invalidated beyond this. */
const PUBLIC_KEY_CACHE = 64;

/** The curves the kernel verifies ECDSA on (crypto/ecdsa.c: NIST P-256 and P-384 in Linux 6.1). */
const KERNEL_CURVES: readonly EcCurveName[] = ['P-256', 'P-384'];

export interface KeyringDeviceOptions {
  /** The spec's text (DeviceInfo.id). */
  readonly id: string;
  /** The keyring named keys are searched in, as keyctl(1) spells it (`@u`) or a serial. */
  readonly keyring: string;
  /** Where imported keys go: the process keyring (default) or the spec's keyring. */
  readonly importTo: 'process' | 'keyring';
  readonly depth: number;
  readonly keyctl: KeyctlCalls;
}

function keyringNumber(name: string): number {
  const special = KEYRINGS[name];
  if (special !== undefined) return special;
  const serial = Number(name);
  if (Number.isInteger(serial) && serial > 0 && serial < 2 ** 31) return serial;
  throw new UnsupportedError(
    `keyring: "${name}" is not a keyring (one of ${Object.keys(KEYRINGS).join(', ')} or a serial number)`,
  );
}

function probeKey(): RsaPrivateKeyMaterial {
  const h = (s: string) => BigInt(`0x${s}`);
  const k = PROBE_KEY_HEX;
  return new RsaPrivateKeyMaterial(h(k.n), h(k.e), h(k.d), h(k.p), h(k.q), h(k.dp), h(k.dq), h(k.qi));
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

export class KeyringDevice implements Device {
  readonly info: DeviceInfo;
  readonly queuePairs: readonly KeyringQueuePair[];
  readonly keyStore: KeyStore;
  /** What this kernel does not allow, in words: empty when everything the driver knows works here. */
  readonly limits: string[] = [];
  readonly #kc: KeyctlCalls;
  readonly #keyring: number;
  readonly #keyringName: string;
  readonly #importTo: 'process' | 'keyring';
  readonly #listeners = new Set<(event: DeviceEvent) => void>();
  #state: DeviceState = 'ready';
  #capabilities: readonly Capability[] = [];
  #publicKeys = false;
  #privateKeys = false;
  #rawPublic = false;
  #rawPrivate = false;
  /** Combinations the kernel refused at run time ("rsa-sign SHA-384", "rsa-private"), with why. */
  readonly #refused = new Map<string, string>();
  readonly #publicSerials = new Map<string, Promise<number>>();
  readonly #privateSerials = new WeakMap<PrivateKeyMaterial, Promise<number>>();
  /** Serials this device added: invalidated on close. */
  readonly #owned = new Set<number>();
  #sequence = 0;

  constructor(options: KeyringDeviceOptions) {
    this.#kc = options.keyctl;
    this.#keyringName = options.keyring;
    this.#keyring = keyringNumber(options.keyring);
    this.#importTo = options.importTo;
    this.info = {
      id: options.id,
      driver: 'keyring',
      model: `Linux keyring ${options.keyring}`,
      priority: KEYRING_PRIORITY,
    };
    this.queuePairs = [
      new KeyringQueuePair({
        index: 0,
        depth: options.depth,
        device: options.id,
        run: (job) => this.#run(job),
        toError: (error) => asPkaccelError(error, options.id),
      }),
    ];
    this.keyStore = {
      importKey: (key) => this.#importKey(key),
      openKey: (name) => this.#openKey(name),
      destroyKey: (key) => this.#destroyKey(key),
    };
  }

  get state(): DeviceState {
    return this.#state;
  }

  get capabilities(): readonly Capability[] {
    return this.#capabilities;
  }

  /** The combinations the kernel refused at run time, with the reason (for `pkaccel devices` and tests). */
  get refused(): ReadonlyMap<string, string> {
    return this.#refused;
  }

  /** Probe the kernel: what keyctl offers here and which key formats it parses. */
  async start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const kc = this.#kc;
    try {
      if (!kc.capabilities().publicKey)
        throw new UnsupportedError(
          'keyring: this kernel has no keyctl public-key operations (KEYCTL_PKEY_*: Linux 4.20+ with CONFIG_ASYMMETRIC_KEY_TYPE)',
        );
    } catch (error) {
      const errno = errnoOf(error);
      // EOPNOTSUPP/EINVAL: a kernel before 5.3 has no KEYCTL_CAPABILITIES; the probe below still tells.
      if (errno !== 'EOPNOTSUPP' && errno !== 'EINVAL') throw this.#unusable(error);
    }
    try {
      kc.keyringId(KEYRINGS['@p']!, true);
      kc.keyringId(this.#keyring, this.#keyring < 0);
    } catch (error) {
      throw this.#unusable(error);
    }
    const probe = probeKey();
    const pub = this.#probeClass(
      'public keys',
      () => publicKeyCertificate(probe.publicKey, 'pkaccel probe'),
      { pkcs1: SUPPORTS.verify, raw: SUPPORTS.encrypt },
      'PKCS#1 verify',
    );
    this.#publicKeys = pub.pkcs1;
    this.#rawPublic = pub.raw;
    const priv = this.#probeClass(
      'private keys',
      () => rsaPkcs8(probe),
      { pkcs1: SUPPORTS.sign, raw: SUPPORTS.decrypt },
      'PKCS#1 sign',
    );
    this.#privateKeys = priv.pkcs1;
    this.#rawPrivate = priv.raw;
    if (!this.#publicKeys && !this.#privateKeys)
      throw new UnsupportedError(`keyring: nothing usable on this kernel: ${this.limits.join('; ')}`, {
        device: this.info.id,
      });
    if (this.limits.length > 0)
      (this.info as { model: string }).model =
        `Linux keyring ${this.#keyringName} (${this.#privateKeys ? 'private' : 'public'}-key operations only)`;
    this.#rebuild();
  }

  /**
   * One class of keys: add a probe key of it (`payload`, zeroed after), ask which
   * of `bits.pkcs1` (PKCS#1 with SHA-256) and `bits.raw` the kernel offers on it,
   * drop it. What the kernel refuses goes to `limits` in words (no PKCS#8 parser:
   * EBADMSG) and offers nothing.
   */
  #probeClass(
    what: 'public keys' | 'private keys',
    payload: () => Uint8Array,
    bits: { readonly pkcs1: number; readonly raw: number },
    needed: string,
  ): { pkcs1: boolean; raw: boolean } {
    let bytes: Uint8Array | undefined;
    try {
      bytes = payload();
      const serial = this.#add(bytes, 'probe', KEYRINGS['@p']!);
      let offered: { pkcs1: boolean; raw: boolean };
      try {
        offered = {
          pkcs1: (this.#kc.query(serial, 'enc=pkcs1 hash=sha256').supportedOps & bits.pkcs1) !== 0,
          raw: (this.#kc.query(serial, 'enc=raw').supportedOps & bits.raw) !== 0,
        };
      } finally {
        this.#drop(serial);
      }
      if (!offered.pkcs1) this.limits.push(`${what}: the kernel offers no ${needed} on an RSA key`);
      return offered;
    } catch (error) {
      this.limits.push(
        what === 'private keys' && errnoOf(error) === 'EBADMSG'
          ? 'private keys: this kernel has no PKCS#8 private-key parser (CONFIG_PKCS8_PRIVATE_KEY_PARSER, ' +
              'module pkcs8_key_parser): add_key of a PKCS#8 key gave EBADMSG; public-key operations on X.509 keys remain'
          : `${what}: ${(error as Error).message}`,
      );
      return { pkcs1: false, raw: false };
    } finally {
      bytes?.fill(0);
    }
  }

  #unusable(error: unknown): UnsupportedError {
    return new UnsupportedError(`keyring: ${(error as Error).message}`, {
      cause: error,
      device: this.info.id,
    });
  }

  #rebuild(): void {
    const modulusBits = { min: KERNEL_RSA_BITS[0]!, max: KERNEL_RSA_BITS.at(-1)! };
    const held = { keyStorage: ['inline', 'held'] as const };
    const hashes = (op: string) => HASH_NAMES.filter((h) => !this.#refused.has(`${op} ${h}`));
    const caps: Capability[] = [];
    if (this.#publicKeys) {
      if (this.#rawPublic && !this.#refused.has('rsa-public')) caps.push({ op: 'rsa-public', modulusBits });
      const verify = hashes('rsa-verify');
      if (verify.length > 0)
        caps.push({ op: 'rsa-verify', modulusBits, paddings: ['pkcs1-v1_5'], hashes: verify });
      const curves = KERNEL_CURVES.filter((c) => !this.#refused.has(`ecdsa-verify ${c}`));
      if (curves.length > 0) caps.push({ op: 'ecdsa-verify', curves });
    }
    if (this.#privateKeys) {
      if (this.#rawPrivate && !this.#refused.has('rsa-private'))
        caps.push({ op: 'rsa-private', modulusBits, ...held });
      const sign = hashes('rsa-sign');
      if (sign.length > 0)
        caps.push({ op: 'rsa-sign', modulusBits, paddings: ['pkcs1-v1_5'], hashes: sign, ...held });
    }
    this.#capabilities = caps;
  }

  /** The kernel refused a combination it was offered: take it out of the capabilities and say so. */
  #refuse(combination: string, why: string): void {
    if (this.#refused.has(combination)) return;
    this.#refused.set(combination, why);
    this.#rebuild();
    this.#emit({ type: 'capabilities' });
  }

  #add(payload: Uint8Array, what: string, keyring: number): number {
    const description = `pkaccel:${process.pid}:${what}:${++this.#sequence}`;
    const serial = this.#kc.addKey('asymmetric', description, payload, keyring);
    this.#owned.add(serial);
    try {
      this.#kc.setPerm(serial, USE_ONLY);
    } catch (error) {
      this.#drop(serial);
      throw error;
    }
    return serial;
  }

  #drop(serial: number): void {
    this.#owned.delete(serial);
    try {
      this.#kc.invalidate(serial);
    } catch {
      // Already gone (ENOKEY) or no longer ours to invalidate: nothing left to do.
    }
  }

  async #run(job: Job): Promise<PrimitiveValue> {
    if (this.#state !== 'ready')
      throw new UnsupportedError(`keyring: device ${this.info.id} is ${this.#state}`);
    const plan = planOf(job.request);
    if (typeof plan === 'string') throw new UnsupportedError(`keyring: ${plan}`);
    const refusal = this.#refused.get(plan.combination);
    if (refusal !== undefined)
      throw new UnsupportedError(`keyring: ${plan.combination} was refused: ${refusal}`);
    const key = 'private' in plan.key ? plan.key.private : plan.key.public;
    if (key.kind === 'rsa-private' || key.kind === 'rsa-public') {
      const bits = key.bits;
      if (!KERNEL_RSA_BITS.includes(bits))
        throw new UnsupportedError(
          `keyring: the kernel's rsa takes moduli of ${KERNEL_RSA_BITS.join(', ')} bits, not ${bits}`,
        );
    }
    const serial = await this.#serialOf(plan);
    const kc = this.#kc;
    try {
      switch (plan.call) {
        case 'verify':
          return await kc.verify(serial, plan.info, plan.input, plan.last as Uint8Array);
        case 'encrypt':
          return padTo(
            await kc.encrypt(serial, plan.info, plan.input, plan.last as number),
            plan.last as number,
          );
        case 'decrypt':
          return padTo(
            await kc.decrypt(serial, plan.info, plan.input, plan.last as number),
            plan.last as number,
          );
        case 'sign':
          return padTo(
            await kc.sign(serial, plan.info, plan.input, plan.last as number),
            plan.last as number,
          );
      }
    } catch (error) {
      throw this.#learn(plan, error);
    }
  }

  /** What a failed keyctl call means: a key problem passes through; a refusal narrows the capabilities. */
  #learn(plan: KeyctlPlan, error: unknown): PkaccelError {
    const e = asPkaccelError(error, this.info.id);
    if (e.code === 'invalid-key') return e;
    if (e.code === 'invalid-input' && plan.call === 'verify')
      // A malformed signature, or a refusal: let another device decide this one (nothing is learned).
      return new UnsupportedError(`keyring: the kernel would not check this signature: ${e.message}`, {
        cause: error,
        device: this.info.id,
      });
    this.#refuse(plan.combination, e.message);
    return new UnsupportedError(
      `keyring: the kernel refused ${plan.combination} (${plan.info}): ${e.message}; no longer offered`,
      { cause: error, device: this.info.id },
    );
  }

  async #serialOf(plan: KeyctlPlan): Promise<number> {
    if ('private' in plan.key) {
      const key = plan.key.private;
      const held = key.held;
      if (held !== undefined) {
        if (held.device !== this.info.id)
          throw new InvalidKeyError(`keyring: the key is held by ${held.device}, not ${this.info.id}`);
        if (held.destroyed === true) throw new InvalidKeyError('keyring: the key was destroyed');
        return Number(held.handle);
      }
      let serial = this.#privateSerials.get(key);
      if (serial === undefined) {
        serial = this.#addPrivate(key, 'key', KEYRINGS['@p']!);
        this.#privateSerials.set(key, serial);
        serial.catch(() => this.#privateSerials.delete(key));
      }
      return serial;
    }
    return this.#publicSerial(plan.combination, plan.key.public);
  }

  async #addPrivate(key: PrivateKeyMaterial, what: string, keyring: number): Promise<number> {
    if (!(key instanceof RsaPrivateKeyMaterial))
      throw new UnsupportedError('keyring: the kernel takes RSA private keys only (its PKCS#8 parser)');
    if (!this.#privateKeys)
      throw new UnsupportedError(
        `keyring: ${this.limits.find((l) => l.startsWith('private')) ?? 'no private keys'}`,
      );
    const pkcs8 = rsaPkcs8(key);
    try {
      return this.#add(pkcs8, what, keyring);
    } finally {
      pkcs8.fill(0);
    }
  }

  #publicSerial(combination: string, key: PublicKeyMaterial): Promise<number> {
    const id = publicKeyId(key);
    let serial = this.#publicSerials.get(id);
    if (serial !== undefined) {
      this.#publicSerials.delete(id); // most recently used goes last
      this.#publicSerials.set(id, serial);
      return serial;
    }
    serial = (async () => {
      try {
        return this.#add(publicKeyCertificate(key), 'pub', KEYRINGS['@p']!);
      } catch (error) {
        const e = asPkaccelError(error, this.info.id);
        if (e.code === 'unsupported' && key.kind === 'ec-public') this.#refuse(combination, e.message);
        throw e;
      }
    })();
    this.#publicSerials.set(id, serial);
    serial.catch(() => this.#publicSerials.delete(id));
    while (this.#publicSerials.size > PUBLIC_KEY_CACHE) {
      const [oldId, oldSerial] = this.#publicSerials.entries().next().value as [string, Promise<number>];
      this.#publicSerials.delete(oldId);
      oldSerial.then(
        (s) => this.#drop(s),
        () => {},
      );
    }
    return serial;
  }

  // ---- key store (COORDINATION.md section 8) ----

  async #importKey(key: PrivateKeyMaterial): Promise<PrivateKeyMaterial> {
    if (key.held !== undefined) throw new InvalidKeyError('keyring: the key is already held by a device');
    const keyring = this.#importTo === 'keyring' ? this.#keyring : KEYRINGS['@p']!;
    const serial = await this.#addPrivate(key, 'imported', keyring);
    return heldPrivateKey(key.publicKey, { device: this.info.id, handle: String(serial) });
  }

  async #openKey(name: string): Promise<PrivateKeyMaterial> {
    const kc = this.#kc;
    let serial: number;
    try {
      serial = kc.search(this.#keyring, 'asymmetric', name);
    } catch (error) {
      const e = asPkaccelError(error, this.info.id);
      throw new InvalidKeyError(
        `keyring: no asymmetric key "${name}" this process may search in ${this.#keyringName}: ${e.message}`,
        { cause: error, device: this.info.id },
      );
    }
    const query = kc.query(serial, 'enc=pkcs1 hash=sha256');
    if ((query.supportedOps & SUPPORTS.sign) === 0)
      throw new InvalidKeyError(
        `keyring: key "${name}" (${serial}) holds no private key the kernel signs with`,
      );
    const publicKey = await this.#recoverPublicKey(serial, query.keySize, name);
    return heldPrivateKey(publicKey, { device: this.info.id, handle: String(serial) });
  }

  /**
   * The kernel never hands out a key's public half; with raw public operations it
   * can be recovered: E(x) = x^e mod n is multiplicative, so n divides
   * E(2)·E(2) − E(4), E(3)·E(3) − E(9) and E(2)·E(3) − E(6) (numbers of twice the
   * modulus length, whatever e is); their gcd is n times a small cofactor, stripped
   * by trial division. Then e is the one of 65537, 3, 17 with 2^e mod n = E(2).
   */
  async #recoverPublicKey(serial: number, bits: number, name: string): Promise<RsaPublicKeyMaterial> {
    const length = Math.ceil(bits / 8);
    const raw = async (a: bigint) =>
      bytesToBigint(await this.#kc.encrypt(serial, 'enc=raw', bigintToBytes(a, length), length));
    let c: bigint[];
    try {
      c = await Promise.all([2n, 3n, 4n, 6n, 9n].map(raw));
    } catch (error) {
      throw new UnsupportedError(
        `keyring: cannot learn the public key of "${name}": the kernel does no raw public operation on it ` +
          `(${(error as Error).message})`,
        { cause: error, device: this.info.id },
      );
    }
    const [c2, c3, c4, c6, c9] = c as [bigint, bigint, bigint, bigint, bigint];
    let n = gcd(gcd(c2 * c2 - c4, c3 * c3 - c9), c2 * c3 - c6);
    for (let p = 2n; p < 10000n && n.toString(2).length > bits; p++) while (n % p === 0n && n > p) n /= p;
    if (n.toString(2).length === bits)
      for (const e of [65537n, 3n, 17n])
        if (modPow(2n, e, n) === c2) return { kind: 'rsa-public', n, e, bits };
    throw new UnsupportedError(
      `keyring: cannot learn the public key of "${name}" (no modulus of ${bits} bits with public exponent 65537, 3 or 17 fits)`,
      { device: this.info.id },
    );
  }

  async #destroyKey(key: PrivateKeyMaterial): Promise<void> {
    const held = key.held;
    if (held === undefined || held.device !== this.info.id)
      throw new InvalidKeyError(`keyring: the key is not held by ${this.info.id}`);
    if (held.destroyed === true) return;
    held.destroyed = true;
    this.#drop(Number(held.handle));
  }

  // ---- device ----

  subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: DeviceEvent): void {
    for (const l of [...this.#listeners]) l(event);
  }

  async reset(signal?: AbortSignal): Promise<void> {
    if (this.#state === 'closed') throw new UnsupportedError(`keyring: device ${this.info.id} is closed`);
    for (const qp of this.queuePairs) await qp.abandon(signal);
    this.#state = 'ready';
    this.#emit({ type: 'state', state: 'ready' });
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    for (const qp of this.queuePairs) qp.close();
    for (const serial of [...this.#owned]) this.#drop(serial);
    this.#publicSerials.clear();
    this.#emit({ type: 'state', state: 'closed' });
  }
}
