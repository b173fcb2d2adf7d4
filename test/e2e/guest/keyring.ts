/**
 * The keyring boot of the QEMU end-to-end test (issue 16): one RSA-2048 key, and
 * PKCS#1 v1.5 sign and verify measured on every path the guest has —
 *   software           the software device (node:crypto) in the guest
 *   kernel-generic     the keyring device: keyctl on the kernel's generic RSA
 *   user-space         the virtio-crypto device through the in-process pci: driver (uio)
 *   broker             the same device owned by `pkaccel serve` (a child process),
 *                      this process its client through `broker:`
 *   kernel-virtio      the keyring device after the kernel's virtio_crypto driver took the device
 *   kernel-virtio-enc  keyctl enc=pkcs1 without a hash: the one keyctl path the kernel
 *                      hands the device (RSAES-PKCS1-v1_5 encrypt and decrypt)
 * — at 1 and 16 in flight (ops/s, p50/p99, CPU per op), with where each row's work
 * ran (/proc/crypto bindings, virtio-crypto interrupt counts) printed under the
 * table; then Wycheproof PKCS#1 verify, PSS verify, OAEP decrypt and ECDSA P-256
 * verify through an accelerator whose only device is the keyring, what the kernel
 * refuses of ECDSA private keys, the key-handle secrecy scan (heap snapshot), the
 * permission cases, and the heap-snapshot-then-close isolation (a known bug). What
 * the kernel's virtio path refuses is recorded, not failed: QEMU's builtin backend
 * (nettle) refuses RAW RSA, and the kernel's pkcs1pad template sends RAW requests
 * to a plain `rsa` driver.
 */

import { execFileSync, spawn } from 'node:child_process';
import {
  constants,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  privateDecrypt,
  type webcrypto,
} from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapSnapshot } from 'node:v8';
import { Keyctl } from 'pcie-mmio/system';
import {
  type Completion,
  type Device,
  defaultRegistry,
  type HashName,
  type Job,
  openAccelerator,
  type PrimitiveRequest,
} from '../../../index.js';
import { digest, privateMaterial, runOne } from './cases.js';
import { type Drivable, drive, type Figures, type ServedBroker, serveBroker } from './keyring-drive.js';
import type { Report } from './report.js';
import { bindUio, type GuestPciFunction } from './sysfs.js';

const VECTORS = process.env.PKACCEL_VECTORS ?? '/vectors';
const SECONDS = Number(process.env.PKACCEL_E2E_KEYRING_SECONDS ?? 0.6);

function hashOf(name: HashName): string {
  return name.replace('-', '').toLowerCase();
}

interface Row extends Figures {
  readonly label: string;
  readonly op: string;
  readonly inFlight: number;
}

const rows: Row[] = [];
/** Per path: where its work ran, as the guest could see it. Printed under the table. */
const where = new Map<string, string>();

function ok(c: Completion): unknown {
  if (!c.ok) throw c.error;
  return c.value;
}

/** Measure one operation at 1 and 16 in flight: a row and a figure line each. */
async function measureOp(
  report: Report,
  label: string,
  op: string,
  qp: Drivable,
  request: PrimitiveRequest,
  otherPid?: number,
): Promise<string[]> {
  const parts: string[] = [];
  for (const inFlight of [1, 16]) {
    const r = await drive(qp, request, inFlight, SECONDS * 1000, otherPid);
    rows.push({ label, op, inFlight, ...r });
    report.figure(`${label} ${op} x${inFlight}`, r.opsPerSecond, 'ops/s');
    parts.push(`${op}x${inFlight} ${r.opsPerSecond.toFixed(1)}/s`);
  }
  return parts;
}

interface RowOptions {
  /** The kernel refusing the first sign is this row's result (kernel-virtio), not a failure. */
  readonly refusalIsResult?: boolean;
  /** A process doing part of the work (the broker): its CPU is added to the row's. */
  readonly otherPid?: number;
}

/** One path's rows: sign and verify with the key, at 1 and 16 in flight. */
async function measureRow(
  report: Report,
  label: string,
  device: Device,
  key: KeyObject,
  hash: HashName,
  options: RowOptions = {},
): Promise<boolean> {
  const qp = device.queuePairs[0]!;
  const material = privateMaterial(key);
  const message = Buffer.from('pkaccel e2e keyring');
  const d = digest(hash, message);
  const signature = nodeSign(hashOf(hash), message, key);
  const requests = {
    sign: { op: 'rsa-sign', key: material, padding: { scheme: 'pkcs1-v1_5', hash }, digest: d },
    verify: {
      op: 'rsa-verify',
      key: material.publicKey,
      padding: { scheme: 'pkcs1-v1_5', hash },
      digest: d,
      signature,
    },
  } as const satisfies Record<string, PrimitiveRequest>;
  let refused = false;
  const passed = await report.run(`${label} rsa2048 pkcs1 ${hash} figures`, async () => {
    const parts: string[] = [];
    const first = await runOne(qp, requests.sign);
    if (!first.ok && options.refusalIsResult === true && first.error.code === 'unsupported') {
      refused = true;
      return `refused by the kernel: ${first.error.message}`;
    }
    for (const op of ['sign', 'verify'] as const) {
      const value = ok(await runOne(qp, requests[op]));
      if (op === 'sign' && !nodeVerify(hashOf(hash), message, key, value as Uint8Array))
        throw new Error('node:crypto rejects the signature');
      if (op === 'verify' && value !== true) throw new Error('a good signature was not verified');
      parts.push(...(await measureOp(report, label, op, qp, requests[op], options.otherPid)));
    }
    return parts.join(', ');
  });
  return passed && !refused;
}

/**
 * A queue pair over a keyctl call (for the one path no pkaccel primitive covers:
 * RSAES-PKCS1-v1_5 through the kernel): each job runs `call`; its completion is ok
 * with the result, or the error.
 */
function callQueuePair(call: () => Promise<unknown>, depth: number): Drivable {
  const done: Completion[] = [];
  let running = 0;
  let wake: (() => void) | undefined;
  const finish = (c: Completion) => {
    running--;
    done.push(c);
    wake?.();
  };
  return {
    depth,
    get inFlight() {
      return running + done.length;
    },
    submit(jobs: readonly Job[]) {
      const n = Math.min(jobs.length, depth - running - done.length);
      for (const { tag } of jobs.slice(0, n)) {
        running++;
        call().then(
          (value) => finish({ tag, ok: true, value } as Completion),
          (error: unknown) => finish({ tag, ok: false, error } as Completion),
        );
      }
      return n;
    },
    harvest(sink: (c: Completion) => void) {
      const n = done.length;
      for (const c of done.splice(0)) sink(c);
      return n;
    },
    waitForCompletions() {
      if (done.length > 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        wake = () => {
          wake = undefined;
          resolve();
        };
      });
    },
  };
}

/** The /proc/crypto entries for which `pick(name, driver)` holds, each as `show` writes it. */
function cryptoEntries(
  pick: (name: string, driver: string) => boolean,
  show: (field: (f: string) => string | undefined) => string,
): string[] {
  const out: string[] = [];
  for (const block of readFileSync('/proc/crypto', 'utf8').split('\n\n')) {
    const field = (f: string) => new RegExp(`^${f}\\s*:\\s*(.*)$`, 'm').exec(block)?.[1];
    if (pick(field('name') ?? '', field('driver') ?? '')) out.push(show(field));
  }
  return out;
}

/** The /proc/crypto entries of `name` as "driver prio N (selftest)". */
function cryptoDrivers(name: string): string[] {
  return cryptoEntries(
    (n) => n === name,
    (f) => `${f('driver')} prio ${f('priority')} (${f('selftest')})`,
  );
}

/** Every /proc/crypto entry whose driver is virtio-crypto's, as "name → driver (selftest)". */
function virtioCryptoEntries(): string[] {
  return cryptoEntries(
    (_, driver) => driver.includes('virtio'),
    (f) => `${f('name')} → ${f('driver')} (${f('selftest')})`,
  );
}

/** Interrupts counted (/proc/interrupts, summed over CPUs) on the lines whose name matches `pattern`. */
function interrupts(pattern: RegExp): number {
  let total = 0;
  for (const line of readFileSync('/proc/interrupts', 'utf8').split('\n')) {
    if (!pattern.test(line)) continue;
    for (const f of line.trim().split(/\s+/).slice(1)) {
      if (!/^\d+$/.test(f)) break;
      total += Number(f);
    }
  }
  return total;
}

/** virtio-crypto's queue interrupts (the kernel's driver): one per completion the device signals. */
const virtioInterrupts = () => interrupts(/virtio\d+-(dataq|controlq|config|virtqueues)/);
/** The uio_pci_generic interrupt line's count (the user-space driver's device). */
const uioInterrupts = () => interrupts(/uio_pci_generic/);

function table(): string {
  const head = 'path               op       in flight   ops/s     p50 ms    p99 ms   user µs/op  sys µs/op';
  const lines = rows.map(
    (r) =>
      `${r.label.padEnd(19)}${r.op.padEnd(9)}${String(r.inFlight).padStart(9)}${r.opsPerSecond.toFixed(1).padStart(10)}` +
      `${r.p50.toFixed(2).padStart(10)}${r.p99.toFixed(2).padStart(10)}${r.userUs.toFixed(0).padStart(12)}${r.systemUs.toFixed(0).padStart(11)}` +
      (r.other === undefined
        ? ''
        : `  (broker process: ${r.other.userUs.toFixed(0)} user, ${r.other.systemUs.toFixed(0)} sys)`),
  );
  const ran = [...where].map(([label, text]) => `  ${label.padEnd(19)}${text}`);
  return [head, ...lines, '', 'where the work ran:', ...ran].join('\n');
}

interface SigGroup {
  publicKeyDer: string;
  sha: string;
  sLen?: number;
  tests: { tcId: number; msg: string; sig: string; result: string }[];
}
interface OaepGroup {
  privateKeyPkcs8: string;
  sha: string;
  tests: { tcId: number; msg: string; ct: string; label: string; result: string }[];
}

function groups<T>(file: string): T[] {
  return (JSON.parse(readFileSync(join(VECTORS, file), 'utf8')) as { testGroups: T[] }).testGroups;
}

const SHA: Record<string, HashName> = {
  'SHA-1': 'SHA-1',
  'SHA-256': 'SHA-256',
  'SHA-384': 'SHA-384',
  'SHA-512': 'SHA-512',
};

/** A refusal, as pkaccel's UnsupportedError or as subtle's DOMException (NotSupportedError, the pkaccel error its cause). */
function unsupported(error: unknown): boolean {
  const e = error as { name?: string; code?: unknown; cause?: { code?: unknown } } | undefined;
  return e?.name === 'NotSupportedError' || e?.code === 'unsupported' || e?.cause?.code === 'unsupported';
}

/** Wycheproof through an accelerator whose only device is the keyring: every case it supports, 0 failures. */
async function wycheproof(report: Report): Promise<void> {
  const accel = await openAccelerator({ devices: ['keyring:@u'] });
  const subtle = accel.subtle;
  const check = async (name: string, body: () => Promise<string>) =>
    report.run(`keyring wycheproof ${name}`, body);
  try {
    // ECDSA: a kernel with CONFIG_CRYPTO_ECDSA verifies P-256 on an X.509 key (enc=x962); Wycheproof's P1363
    // file is WebCrypto's encoding, turned into the DER Ecdsa-Sig-Value the kernel takes by the driver. Debian's
    // 6.1 kernel has no ECDSA (CONFIG_CRYPTO_ECDSA unset): it takes the certificate and refuses the verify; the
    // case then records the refusal and that the device stopped offering it, instead of the vectors.
    const suites = [
      ['pkcs1 verify', 'rsa_signature_2048_sha256_test.json', 'RSASSA-PKCS1-v1_5'],
      ['pss verify', 'rsa_pss_2048_sha256_mgf1_32_test.json', 'RSA-PSS'],
      ['ecdsa p-256 verify', 'ecdsa_secp256r1_sha256_p1363_test.json', 'ECDSA'],
    ] as const;
    for (const [name, file, alg] of suites) {
      await check(name, async () => {
        const counts = { valid: 0, invalid: 0, acceptable: 0, unsupported: 0 };
        for (const g of groups<SigGroup>(file)) {
          const key = await subtle.importKey(
            'spki',
            Buffer.from(g.publicKeyDer, 'hex'),
            alg === 'ECDSA' ? { name: alg, namedCurve: 'P-256' } : { name: alg, hash: SHA[g.sha]! },
            false,
            ['verify'],
          );
          const params =
            alg === 'RSA-PSS'
              ? { name: alg, saltLength: g.sLen ?? 32 }
              : alg === 'ECDSA'
                ? { name: alg, hash: SHA[g.sha]! }
                : { name: alg };
          for (const t of g.tests) {
            let verdict: boolean;
            try {
              verdict = await subtle.verify(
                params,
                key,
                Buffer.from(t.sig, 'hex'),
                Buffer.from(t.msg, 'hex'),
              );
            } catch (error) {
              const refused = unsupported(error);
              if (alg === 'ECDSA' && refused && counts.valid + counts.invalid === 0) {
                const offered = accel.devices.some((d) =>
                  d.capabilities.some((c) => c.op === 'ecdsa-verify' && c.curves?.includes('P-256') === true),
                );
                if (offered) throw new Error(`refused, yet ecdsa-verify P-256 is still offered: ${error}`);
                return `this kernel refuses it: ${String((error as Error).message).slice(0, 220)}; ecdsa-verify P-256 no longer offered`;
              }
              if (refused && t.result !== 'valid') {
                counts.unsupported++;
                continue;
              }
              if (t.result === 'valid')
                throw new Error(`tcId ${t.tcId}: valid signature not checked: ${error}`);
              verdict = false;
            }
            if (t.result === 'valid' && !verdict) throw new Error(`tcId ${t.tcId}: valid signature rejected`);
            if (t.result === 'invalid' && verdict)
              throw new Error(`tcId ${t.tcId}: invalid signature accepted`);
            counts[t.result as 'valid' | 'invalid' | 'acceptable']++;
          }
        }
        return `${counts.valid} valid accepted, ${counts.invalid} invalid rejected, ${counts.acceptable} acceptable, ${counts.unsupported} invalid ones the kernel would not check (unsupported); 0 failures`;
      });
    }
    await check('oaep decrypt', async () => {
      const counts = { valid: 0, invalid: 0, acceptable: 0 };
      for (const g of groups<OaepGroup>('rsa_oaep_2048_sha256_mgf1sha256_test.json')) {
        // Non-extractable: the key goes into the kernel keyring (section 8), raw private op there.
        const key = await subtle.importKey(
          'pkcs8',
          Buffer.from(g.privateKeyPkcs8, 'hex'),
          { name: 'RSA-OAEP', hash: SHA[g.sha]! },
          false,
          ['decrypt'],
        );
        for (const t of g.tests) {
          let plain: Buffer | undefined;
          try {
            plain = Buffer.from(
              await subtle.decrypt(
                { name: 'RSA-OAEP', label: Buffer.from(t.label, 'hex') },
                key,
                Buffer.from(t.ct, 'hex'),
              ),
            );
          } catch {
            plain = undefined;
          }
          const right = plain?.equals(Buffer.from(t.msg, 'hex')) === true;
          if (t.result === 'valid' && !right)
            throw new Error(`tcId ${t.tcId}: valid ciphertext not decrypted`);
          if (t.result === 'invalid' && plain !== undefined)
            throw new Error(`tcId ${t.tcId}: invalid ciphertext decrypted`);
          counts[t.result as 'valid' | 'invalid' | 'acceptable']++;
        }
      }
      return `${counts.valid} valid decrypted, ${counts.invalid} invalid refused, ${counts.acceptable} acceptable; 0 failures`;
    });
    const kernel = accel.queue.snapshot().devices.find((d) => d.driver === 'keyring');
    report.record(
      'keyring wycheproof ran on the keyring',
      (kernel?.completed ?? 0) > 0,
      `${kernel?.completed ?? 0} jobs on ${kernel?.id}`,
    );
  } finally {
    await accel.close();
  }
}

async function snapshotText(): Promise<string> {
  const chunks: string[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
  return chunks.join('');
}

type Accel = Awaited<ReturnType<typeof openAccelerator>>;

/**
 * Import `key` (PKCS#8, non-extractable) through the keyring accelerator; return the
 * CryptoKey and the needles — d, p, q (base64url) and d (hex), 64 characters of each
 * — as bytes, off the JS heap. In its own function so that none of the strings it
 * made stays reachable from a live frame.
 */
async function importForScan(accel: Accel, key: KeyObject) {
  const jwk = key.export({ format: 'jwk' });
  const needles = [jwk.d!, jwk.p!, jwk.q!, Buffer.from(jwk.d!, 'base64url').toString('hex')].map((f) =>
    Buffer.from(f.slice(4, 68), 'latin1'),
  );
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  const cryptoKey = await accel.subtle.importKey(
    'pkcs8',
    pkcs8,
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  pkcs8.fill(0);
  return { cryptoKey, needles };
}

/** Open an accelerator on `devices`, run `body`, close it whatever happened. */
async function withAccelerator<T>(devices: string[], body: (accel: Accel) => Promise<T>): Promise<T> {
  const accel = await openAccelerator({ devices });
  try {
    return await body(accel);
  } finally {
    await accel.close();
  }
}

/**
 * After a non-extractable import through the keyring, no string form of the
 * private key is on the JS heap (the snapshot is taken after a full GC). A JWK
 * the test still holds (the Wycheproof OAEP key, parsed from its file) is the
 * control the same scan must find.
 */
async function secrecy(report: Report, key: KeyObject): Promise<void> {
  // Only the keyring: a snapshot with the software device's worker pool alive is the known bug isolated
  // by snapshotThenClose, not what this case is about.
  await report.run('keyring key-handle secrecy (heap snapshot)', () =>
    withAccelerator(['keyring:@u'], async (accel) => {
      const { cryptoKey, needles } = await importForScan(accel, key);
      const held = (
        JSON.parse(readFileSync(join(VECTORS, 'rsa_oaep_2048_sha256_mgf1sha256_test.json'), 'utf8')) as {
          testGroups: { privateKeyJwk: webcrypto.JsonWebKey }[];
        }
      ).testGroups[0]!.privateKeyJwk;
      const controlNeedles = [held.d!, held.p!, held.q!].map((f) => Buffer.from(f.slice(4, 68), 'latin1'));
      const text = await snapshotText();
      const missed = controlNeedles.filter((n) => !text.includes(n.toString('latin1'))).length;
      if (missed > 0 || held.d === undefined)
        throw new Error('the scan does not find a JWK the process holds: it would prove nothing');
      const names = ['d (base64url)', 'p (base64url)', 'q (base64url)', 'd (hex)'];
      const found = names.filter((_, i) => text.includes(needles[i]!.toString('latin1')));
      const signature = Buffer.from(
        await accel.subtle.sign('RSASSA-PKCS1-v1_5', cryptoKey, Buffer.from('held')),
      );
      if (!nodeVerify('sha256', Buffer.from('held'), key, signature))
        throw new Error('the held key signs wrong');
      if (found.length > 0) {
        // Which string held it: the snapshot's string as far as its quote marks ("0x…" is a bigint parse's input).
        const where = found.map((f) => {
          const at = text.indexOf(needles[names.indexOf(f)]!.toString('latin1'));
          const start = text.lastIndexOf('"', at);
          return `${f} in a ${text.indexOf('"', at) - start - 1}-character string starting ${JSON.stringify(text.slice(start, start + 8))}`;
        });
        throw new Error(`still on the heap: ${where.join('; ')} of the imported private key`);
      }
      return `snapshot ${(text.length / 1e6).toFixed(1)} MB: the control JWK found (3/3); the imported key's d, p, q (base64url) and d (hex) absent (0/4); the held key signs (node verifies)`;
    }),
  );
}

/**
 * The known bug, isolated in a child process (a close that never settles would
 * keep this process alive): the setting it was seen in — an accelerator on the
 * keyring and the software device, a non-extractable RSA key imported, a heap
 * snapshot at once (the software device's pool workers may still be starting
 * under TCG), then close(). The child prints how long the close took; one still
 * running after 30 s is killed and reported as a hang with its active resources.
 * Recorded either way: it is node's behaviour that is under observation here.
 */
async function snapshotThenClose(report: Report): Promise<void> {
  const index = fileURLToPath(new URL('../../../index.js', import.meta.url));
  // The child reads its key from the vectors itself: a script holding the key's PKCS#8 in hex would be a string of
  // this process, alive while it runs beside the secrecy scan (which found d in it).
  const vectors = join(VECTORS, 'rsa_oaep_2048_sha256_mgf1sha256_test.json');
  const script = `
    import { readFileSync } from 'node:fs';
    import { getHeapSnapshot } from 'node:v8';
    const { openAccelerator } = await import(${JSON.stringify(index)});
    const t0 = performance.now();
    const accel = await openAccelerator({ devices: ['keyring:@u', 'software'] });
    const pkcs8 = JSON.parse(readFileSync(${JSON.stringify(vectors)}, 'utf8')).testGroups[0].privateKeyPkcs8;
    await accel.subtle.importKey('pkcs8', Buffer.from(pkcs8, 'hex'), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    let size = 0;
    for await (const chunk of getHeapSnapshot()) size += chunk.length;
    const t1 = performance.now();
    console.log('SNAPSHOT-TAKEN ' + (size / 1e6).toFixed(1) + ' MB, ' + (t1 - t0).toFixed(0) + ' ms after open;');
    setInterval(() => console.log('still closing: ' + process.getActiveResourcesInfo().join(',')), 10000).unref();
    await accel.close();
    console.log('close() settled in ' + (performance.now() - t1).toFixed(0) + ' ms');`;
  await report.run('heap snapshot then close (keyring + software accelerator, child process)', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    // 30 s for close() from the snapshot on; 180 s in all (node, the import and the snapshot are slow under TCG).
    let timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    const take = (b: Buffer) => {
      const before = out.includes('SNAPSHOT-TAKEN');
      out += b.toString();
      if (!before && out.includes('SNAPSHOT-TAKEN')) {
        clearTimeout(timer);
        timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    const text = out.trim().replace(/\s+/g, ' ').slice(-300);
    if (signal === 'SIGKILL' && out.includes('SNAPSHOT-TAKEN'))
      return `HANG: close() had not settled 30 s after the snapshot (killed); ${text}`;
    if (signal === 'SIGKILL') throw new Error(`the child did not reach the snapshot within 180 s: ${text}`);
    if (code !== 0) throw new Error(`child exited ${code}: ${text}`);
    return text;
  });
}

/** A key loaded as an administrator would (`keyctl padd asymmetric NAME @u`), used but not read; then not usable. */
async function permissions(report: Report, key: KeyObject): Promise<void> {
  const keyctl = new Keyctl();
  const name = `pkaccel-e2e-${process.pid}`;
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  const serial = keyctl.addKey('asymmetric', name, pkcs8, -4);
  // Possessor and user: view + search (use) + setattr (to change this later). No read, write or link.
  keyctl.setPerm(serial, 0x29290000);
  try {
    await withAccelerator(['keyring:@u', 'software'], async (accel) => {
      const open = (accel as { keys?: { open?: Function } }).keys?.open;
      let privateKey: webcrypto.CryptoKey;
      await report.run('keyring open by name, usable not readable', async () => {
        if (typeof open !== 'function')
          throw new Error('accel.keys.open is missing (section 8 not in this build)');
        const pair = (await open.call(accel.keys, name, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, [
          'sign',
          'verify',
        ])) as webcrypto.CryptoKeyPair;
        privateKey = pair.privateKey;
        const sig = Buffer.from(
          await accel.subtle.sign('RSASSA-PKCS1-v1_5', pair.privateKey, Buffer.from('m')),
        );
        if (!nodeVerify('sha256', Buffer.from('m'), key, sig)) throw new Error('node rejects the signature');
        const exported = await accel.subtle.exportKey('jwk', pair.privateKey).then(
          () => 'exported',
          (e: Error) => e.name,
        );
        if (exported === 'exported') throw new Error('a held key was exported');
        return `key ${serial} perm ${keyctl.describe(serial).perm.toString(16)}: signed (node verifies), export refused (${exported})`;
      });
      await report.run('keyring key it may not use: a clear error', async () => {
        keyctl.setPerm(serial, 0x21210000); // view + setattr: no search
        const again = await open
          ?.call(accel.keys, name, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, ['sign'])
          .then(
            () => undefined,
            (e: Error) => e,
          );
        // core/api reports it as a DOMException (InvalidAccessError) whose message carries the kernel's EACCES.
        if (!(again instanceof Error) || !/EACCES|permission denied/.test(again.message))
          throw new Error(`opening it gave ${String(again)}`);
        const used = await accel.subtle.sign('RSASSA-PKCS1-v1_5', privateKey!, Buffer.from('m')).then(
          () => undefined,
          (e: Error) => e,
        );
        if (used === undefined) throw new Error('signing with a key without search permission succeeded');
        return `open: ${again.message.slice(0, 90)} | sign: ${String((used as Error).message).slice(0, 90)}`;
      });
    });
  } finally {
    try {
      keyctl.setPerm(serial, 0x3f3f0000);
    } catch {}
    try {
      keyctl.invalidate(serial);
    } catch {}
  }
}

/**
 * ECDSA private keys and the kernel: Linux 6.1's PKCS#8 parser takes RSA keys
 * only, so add_key of an EC PKCS#8 key is refused; the errno is what this records.
 * Should a kernel take it, the case signs with it and node must verify the result.
 */
async function ecdsaPrivate(report: Report): Promise<void> {
  await report.run('keyring ECDSA P-256 private key (add_key)', async () => {
    const keyctl = new Keyctl();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = ec.privateKey.export({ format: 'der', type: 'pkcs8' });
    let serial: number;
    try {
      serial = keyctl.addKey('asymmetric', `pkaccel-e2e-ec-${process.pid}`, pkcs8, -2);
    } catch (error) {
      const e = error as Error & { errno?: string; syscall?: string };
      if (e.errno === undefined) throw error;
      return `refused: ${e.errno} from ${e.syscall}: ${e.message.slice(0, 160)}`;
    }
    try {
      const d = digest('SHA-256', Buffer.from('m'));
      const sig = await keyctl.sign(serial, 'enc=x962 hash=sha256', d, 72);
      if (!nodeVerify('sha256', Buffer.from('m'), ec.publicKey, sig))
        throw new Error('the kernel took the key and signed, but node rejects the signature');
      return `the kernel took the EC key and signed (node verifies)`;
    } finally {
      keyctl.invalidate(serial);
    }
  });
}

/** A key of this process in its process keyring (use-only by the kernel's rules above), for direct keyctl calls. */
async function withKernelKey<T>(
  key: KeyObject,
  what: string,
  body: (keyctl: Keyctl, serial: number) => Promise<T>,
) {
  const keyctl = new Keyctl();
  const serial = keyctl.addKey(
    'asymmetric',
    `pkaccel-e2e-${what}-${process.pid}`,
    key.export({ format: 'der', type: 'pkcs8' }),
    -2,
  );
  keyctl.setPerm(serial, 0x3f3f0000);
  try {
    return await body(keyctl, serial);
  } finally {
    keyctl.invalidate(serial);
  }
}

/**
 * The broker row: `pkaccel serve` (this build's CLI, a child process) owns the
 * device through the in-process pci: driver over uio, with its job queue and
 * integrity gate; this process signs through `broker:` on a socket in a fresh
 * temporary directory. CPU per op adds the broker process's (shown apart).
 */
async function brokerRow(report: Report, fn: GuestPciFunction, key: KeyObject): Promise<void> {
  const cli = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
  const spec = `pci:${fn.address}?mode=uio`;
  let broker: ServedBroker | undefined;
  let device: Device | undefined;
  try {
    if (
      !(await report.run('broker: pkaccel serve on the device', async () => {
        broker = await serveBroker(cli, spec);
        return `pid ${broker.pid}, ${spec}: ${broker.log().trim().replace(/\s+/g, ' ').slice(0, 200)}`;
      }))
    )
      return;
    const served = broker!;
    if (
      await report.run('broker open (client)', async () => {
        device = await defaultRegistry.open(`broker:${served.socket}`);
        return `${device.info.model}: ${device.capabilities.map((c) => c.op).join(',')}`;
      })
    ) {
      const before = uioInterrupts();
      await measureRow(report, 'broker', device!, key, 'SHA-256', { otherPid: served.pid });
      where.set(
        'broker',
        `pkaccel serve (pid ${served.pid}) → virtio-crypto via uio (${spec}): +${uioInterrupts() - before} uio interrupts; CPU columns add the broker's`,
      );
    }
  } finally {
    await device?.close();
    await broker?.stop();
  }
}

/** The keyring boot; `fn` is the virtio-crypto function (unbound). */
export async function keyringBoot(report: Report, fn: GuestPciFunction): Promise<void> {
  let mark = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    report.figure(`keyring phase ${name}`, (now - mark) / 1000, 's');
    mark = now;
  };
  // The one RSA-2048 key of every row: Wycheproof's PKCS#1 signing key (no key generation under TCG).
  const key = createPrivateKey({
    key: Buffer.from(
      groups<{ privateKeyPkcs8: string }>('rsa_pkcs1_2048_sig_gen_test.json')[0]!.privateKeyPkcs8,
      'hex',
    ),
    format: 'der',
    type: 'pkcs8',
  });
  let software: Device | undefined;
  if (
    await report.run('software open', async () => {
      software = await defaultRegistry.open('software');
      return software.info.model;
    })
  ) {
    await measureRow(report, 'software', software!, key, 'SHA-256');
    where.set('software', `node:crypto (OpenSSL) in this process: ${software!.info.model}`);
  }
  await software?.close();
  phase('software');

  let kernel: Device | undefined;
  await report.run('keyring open (kernel generic RSA)', async () => {
    kernel = await defaultRegistry.open('keyring:@u');
    const limits = (kernel as { limits?: string[] }).limits ?? [];
    if (limits.length > 0) throw new Error(limits.join('; '));
    return `${kernel.info.model}: ${kernel.capabilities.map((c) => c.op).join(',')}; pkcs1pad(rsa,sha256): ${cryptoDrivers('pkcs1pad(rsa,sha256)').join(' / ') || 'not instantiated yet'}`;
  });
  if (kernel !== undefined) {
    await measureRow(report, 'kernel-generic', kernel, key, 'SHA-256');
    phase('kernel-generic');
    await report.run('kernel-generic ran on', async () => {
      const text = `keyctl → pkcs1pad(rsa,sha256) → ${cryptoDrivers('pkcs1pad(rsa,sha256)').join(' / ')}; rsa: ${cryptoDrivers('rsa').join(' / ')}; virtio_crypto not loaded`;
      where.set('kernel-generic', text);
      return text;
    });
    await kernel.close();
  }
  // The snapshot-then-close child runs beside the cases below (none of them is a timed row): its node start and
  // heap snapshot are slow under TCG, and the guest has a second CPU.
  const snapshotCase = snapshotThenClose(report);
  if (kernel !== undefined) {
    await wycheproof(report);
    phase('wycheproof');
    await ecdsaPrivate(report);
    await secrecy(report, key);
    phase('secrecy');
    await permissions(report, key);
    phase('permissions');
  }
  await snapshotCase;
  phase('snapshot-close (the rest of it)');

  // The in-process user-space driver on the device (uio), then the broker on it, then hand it to the kernel.
  await report.run('bind uio', () => bindUio(fn));
  let pci: Device | undefined;
  if (
    await report.run('user-space open', async () => {
      pci = await defaultRegistry.open(`pci:${fn.address}?mode=uio`);
      return pci.info.model;
    })
  ) {
    const before = uioInterrupts();
    await measureRow(report, 'user-space', pci!, key, 'SHA-256');
    where.set(
      'user-space',
      `virtio-crypto via uio in this process (${pci!.info.model}): +${uioInterrupts() - before} uio interrupts`,
    );
  }
  await pci?.close();
  phase('user-space');
  await brokerRow(report, fn, key);
  phase('broker');

  await report.run('kernel virtio_crypto takes the device', async () => {
    writeFileSync(`/sys/bus/pci/devices/${fn.address}/driver/unbind`, fn.address);
    writeFileSync('/sys/bus/pci/drivers/uio_pci_generic/remove_id', '1af4 1054');
    for (const line of readFileSync('/modules.virtio', 'utf8').split('\n').filter(Boolean))
      execFileSync('insmod', [line], { stdio: 'ignore' });
    for (let i = 0; i < 100 && cryptoDrivers('rsa').every((d) => !d.includes('virtio')); i++)
      await new Promise((r) => setTimeout(r, 100));
    return `rsa: ${cryptoDrivers('rsa').join(' / ')}; pkcs1pad(rsa,sha1): ${cryptoDrivers('pkcs1pad(rsa,sha1)').join(' / ')}`;
  });
  let virtio: Device | undefined;
  await report.run('keyring open (kernel virtio_crypto)', async () => {
    virtio = await defaultRegistry.open('keyring:@u');
    return virtio.info.model;
  });
  if (virtio !== undefined) {
    const before = virtioInterrupts();
    const ran = await measureRow(report, 'kernel-virtio', virtio, key, 'SHA-256', { refusalIsResult: true });
    const after = virtioInterrupts();
    const refused = [...((virtio as { refused?: Map<string, string> }).refused ?? new Map()).values()];
    const bound = cryptoDrivers('pkcs1pad(rsa,sha256)').join(' / ');
    const onDevice = after - before > 0;
    where.set(
      'kernel-virtio',
      `${ran ? '' : `refused (${refused.join('; ').slice(0, 100)}); `}keyctl → pkcs1pad(rsa,sha256) → ${bound}; ` +
        `virtio-crypto interrupts +${after - before}: ${onDevice ? 'the device took part' : 'the kernel did NOT use the device (its virtio-crypto-rsa failed the self-test: QEMU/nettle refuses RAW RSA)'}`,
    );
    report.record(
      'kernel-virtio: where the work ran',
      true,
      `${where.get('kernel-virtio')}; virtio entries: ${virtioCryptoEntries().join(' / ')}`,
    );
    await report.run('kernel-virtio enc=pkcs1 without hash (pkcs1pad(rsa): virtio-pkcs1-rsa)', () =>
      // keyctl with enc=pkcs1 and no hash= builds pkcs1pad(rsa), which virtio_crypto registers itself (prio 150):
      // the input is DigestInfo ‖ digest, the signature a standard PKCS#1 v1.5 one. Does the device sign it?
      withKernelKey(key, 'nohash', async (keyctl, serial) => {
        const message = Buffer.from('no hash');
        const d = digest('SHA-256', message);
        const info = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), d]);
        const before = virtioInterrupts();
        const signature = await keyctl.sign(serial, 'enc=pkcs1', info, 256).then(
          (s) => Buffer.from(s),
          (e: Error) => e,
        );
        const where = `pkcs1pad(rsa) → ${cryptoDrivers('pkcs1pad(rsa)').join(' / ')}; virtio-crypto interrupts +${virtioInterrupts() - before}`;
        if (signature instanceof Error) return `refused: ${signature.message.slice(0, 160)}; ${where}`;
        if (!nodeVerify('sha256', message, key, signature)) throw new Error(`a wrong signature; ${where}`);
        return `signed, node verifies; ${where}`;
      }),
    );
    await report.run('kernel-virtio-enc: RSAES-PKCS1-v1_5 on the device, rows and interrupts', () =>
      // The one keyctl path the kernel gives the device here: pkcs1pad(rsa) without a hash is virtio_crypto's own
      // (virtio-pkcs1-rsa, padding done by the device). RSAES-PKCS1-v1_5 is no pkaccel primitive (padding oracles):
      // these rows only prove the kernel's keyctl work reached the device, and measure it.
      withKernelKey(key, 'enc', async (keyctl, serial) => {
        const plain = Buffer.from('kernel to device');
        const before = virtioInterrupts();
        const ct = Buffer.from(await keyctl.encrypt(serial, 'enc=pkcs1', plain, 256));
        // Opened with the private key (raw: node 20 refuses PKCS#1 v1.5 decryption), it must be 00 02 PS 00 message.
        const em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ct);
        const zero = em.indexOf(0, 2);
        if (em[0] !== 0 || em[1] !== 2 || zero < 10 || !em.subarray(zero + 1).equals(plain))
          throw new Error(
            'the kernel\u2019s ciphertext does not open to an RSAES-PKCS1-v1_5 block of the message',
          );
        const back = Buffer.from(await keyctl.decrypt(serial, 'enc=pkcs1', ct, 256));
        if (!back.subarray(0, plain.length).equals(plain))
          throw new Error('the kernel decrypted something else');
        // Each job runs the call; a failed call fails the row (drive throws). The request is not looked at.
        const calls = {
          encrypt: () => keyctl.encrypt(serial, 'enc=pkcs1', plain, 256),
          decrypt: () => keyctl.decrypt(serial, 'enc=pkcs1', ct, 256),
        };
        const parts: string[] = [];
        for (const [op, call] of Object.entries(calls)) {
          const qp = callQueuePair(call, 64);
          parts.push(
            ...(await measureOp(report, 'kernel-virtio-enc', op, qp, {
              op: 'rsa-public',
            } as PrimitiveRequest)),
          );
        }
        const ops = rows.filter((r) => r.label === 'kernel-virtio-enc').reduce((n, r) => n + r.ops, 2);
        const irq = virtioInterrupts() - before;
        where.set(
          'kernel-virtio-enc',
          `keyctl enc=pkcs1 (no hash) → pkcs1pad(rsa) → ${cryptoDrivers('pkcs1pad(rsa)').join(' / ')}: ${ops} operations, +${irq} virtio-crypto interrupts (the device did the work)`,
        );
        if (irq < ops) throw new Error(`${ops} operations but only ${irq} virtio-crypto interrupts`);
        return `ciphertext opens (node, raw) to 00 02 PS 00 message and decrypts back; ${parts.join(', ')}; ${ops} operations, +${irq} interrupts`;
      }),
    );
    await virtio.close();
  }
  console.log(`E2E-TABLE-BEGIN\n${table()}\nE2E-TABLE-END`);
}
