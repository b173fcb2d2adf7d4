/**
 * The keyring boot of the QEMU end-to-end test (issue 16): one RSA-2048 key, and
 * PKCS#1 v1.5 sign and verify measured on every path the guest has —
 *   software        the software device (node:crypto) in the guest
 *   kernel-generic  the keyring device: keyctl on the kernel's generic RSA
 *   user-space      the virtio-crypto device through the in-process pci: driver (uio)
 *   kernel-virtio   the keyring device after the kernel's virtio_crypto driver took the device
 * — at 1 and 16 in flight (ops/s, p50/p99, CPU per op of this process), then
 * Wycheproof PKCS#1 verify, PSS verify and OAEP decrypt through an accelerator
 * whose only device is the keyring, the key-handle secrecy scan (heap snapshot)
 * and the permission cases. What the kernel's virtio path refuses is recorded,
 * not failed: QEMU's builtin backend (nettle) refuses RAW RSA, and the kernel's
 * pkcs1pad template sends RAW requests to a plain `rsa` driver.
 */

import { execFileSync } from 'node:child_process';
import {
  constants,
  createHash,
  createPrivateKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  privateDecrypt,
  type webcrypto,
} from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSnapshot } from 'node:v8';
import { Keyctl } from 'pcie-mmio/system';
import {
  type Completion,
  type Device,
  defaultRegistry,
  type HashName,
  openAccelerator,
  type PrimitiveRequest,
  type QueuePair,
} from '../../../index.js';
import { privateMaterial } from './cases.js';
import type { Report } from './report.js';
import { bindUio, type GuestPciFunction } from './sysfs.js';

const VECTORS = process.env.PKACCEL_VECTORS ?? '/vectors';
const SECONDS = Number(process.env.PKACCEL_E2E_KEYRING_SECONDS ?? 0.6);

function hashOf(name: HashName): string {
  return name.replace('-', '').toLowerCase();
}

function digest(hash: HashName, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(hashOf(hash)).update(data).digest());
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

interface Row {
  label: string;
  op: 'sign' | 'verify';
  inFlight: number;
  ops: number;
  opsPerSecond: number;
  p50: number;
  p99: number;
  userUs: number;
  systemUs: number;
}

const rows: Row[] = [];

function ok(c: Completion): unknown {
  if (!c.ok) throw c.error;
  return c.value;
}

/** Keep `inFlight` jobs on the queue pair for `seconds`; per-job latency, ops/s, CPU per op. */
async function drive(qp: QueuePair, request: PrimitiveRequest, inFlight: number, seconds: number) {
  const started = new Map<number, number>();
  const latencies: number[] = [];
  let tag = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  const take = (c: Completion) => {
    ok(c);
    latencies.push(performance.now() - started.get(c.tag)!);
    started.delete(c.tag);
  };
  while (performance.now() < end || latencies.length === 0) {
    const room = Math.min(inFlight, qp.depth) - qp.inFlight;
    const batch = Array.from({ length: Math.max(0, room) }, () => ({ tag: tag++ % 2 ** 31, request }));
    for (const j of batch) started.set(j.tag, performance.now());
    qp.submit(batch);
    await qp.waitForCompletions(AbortSignal.timeout(60_000));
    qp.harvest(take);
  }
  while (qp.inFlight > 0) {
    await qp.waitForCompletions(AbortSignal.timeout(60_000));
    qp.harvest(take);
  }
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    opsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    userUs: used.user / latencies.length,
    systemUs: used.system / latencies.length,
  };
}

/** One path's row: sign and verify with the key, at 1 and 16 in flight. */
async function measureRow(
  report: Report,
  label: string,
  device: Device,
  key: KeyObject,
  hash: HashName,
  refusalIsResult = false,
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
    if (!first.ok && refusalIsResult && first.error.code === 'unsupported') {
      refused = true;
      return `refused by the kernel: ${first.error.message}`;
    }
    for (const op of ['sign', 'verify'] as const) {
      const first = ok(await runOne(qp, requests[op]));
      if (op === 'sign' && !nodeVerify(hashOf(hash), message, key, first as Uint8Array))
        throw new Error('node:crypto rejects the signature');
      if (op === 'verify' && first !== true) throw new Error('a good signature was not verified');
      for (const inFlight of [1, 16]) {
        const r = await drive(qp, requests[op], inFlight, SECONDS);
        rows.push({ label, op, inFlight, ...r });
        report.figure(`${label} ${op} x${inFlight}`, r.opsPerSecond, 'ops/s');
        parts.push(`${op}x${inFlight} ${r.opsPerSecond.toFixed(1)}/s`);
      }
    }
    return parts.join(', ');
  });
  return passed && !refused;
}

async function runOne(qp: QueuePair, request: PrimitiveRequest): Promise<Completion> {
  if (qp.submit([{ tag: 1, request }]) !== 1) throw new Error('queue pair refused the job');
  let out: Completion | undefined;
  while (out === undefined) {
    await qp.waitForCompletions(AbortSignal.timeout(60_000));
    qp.harvest((c) => {
      out = c;
    });
  }
  return out;
}

/** The /proc/crypto entries of `name` as "driver (selftest)". */
function cryptoDrivers(name: string): string[] {
  const out: string[] = [];
  for (const block of readFileSync('/proc/crypto', 'utf8').split('\n\n')) {
    const field = (f: string) => new RegExp(`^${f}\\s*:\\s*(.*)$`, 'm').exec(block)?.[1];
    if (field('name') === name)
      out.push(`${field('driver')} prio ${field('priority')} (${field('selftest')})`);
  }
  return out;
}

/** Every /proc/crypto entry whose driver is virtio-crypto's, as "name → driver (selftest)". */
function virtioCryptoEntries(): string[] {
  const out: string[] = [];
  for (const block of readFileSync('/proc/crypto', 'utf8').split('\n\n')) {
    const field = (f: string) => new RegExp(`^${f}\\s*:\\s*(.*)$`, 'm').exec(block)?.[1];
    if (field('driver')?.includes('virtio'))
      out.push(`${field('name')} → ${field('driver')} (${field('selftest')})`);
  }
  return out;
}

/** Interrupts counted for virtio-crypto's queues (/proc/interrupts), summed over CPUs. */
function virtioInterrupts(): number {
  let total = 0;
  for (const line of readFileSync('/proc/interrupts', 'utf8').split('\n')) {
    if (!/virtio\d+-(dataq|controlq|config|virtqueues)/.test(line)) continue;
    for (const f of line.trim().split(/\s+/).slice(1)) {
      if (!/^\d+$/.test(f)) break;
      total += Number(f);
    }
  }
  return total;
}

function table(): string {
  const head = 'path            op      in flight   ops/s     p50 ms    p99 ms   user µs/op  sys µs/op';
  const lines = rows.map(
    (r) =>
      `${r.label.padEnd(16)}${r.op.padEnd(8)}${String(r.inFlight).padStart(9)}${r.opsPerSecond.toFixed(1).padStart(10)}` +
      `${r.p50.toFixed(2).padStart(10)}${r.p99.toFixed(2).padStart(10)}${r.userUs.toFixed(0).padStart(12)}${r.systemUs.toFixed(0).padStart(11)}`,
  );
  return [head, ...lines].join('\n');
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

/** Wycheproof through an accelerator whose only device is the keyring: every case it supports, 0 failures. */
async function wycheproof(report: Report): Promise<void> {
  const accel = await openAccelerator({ devices: ['keyring:@u'] });
  const subtle = accel.subtle;
  const check = async (name: string, body: () => Promise<string>) =>
    report.run(`keyring wycheproof ${name}`, body);
  try {
    for (const [name, file, alg] of [
      ['pkcs1 verify', 'rsa_signature_2048_sha256_test.json', 'RSASSA-PKCS1-v1_5'],
      ['pss verify', 'rsa_pss_2048_sha256_mgf1_32_test.json', 'RSA-PSS'],
    ] as const) {
      await check(name, async () => {
        const counts = { valid: 0, invalid: 0, acceptable: 0, unsupported: 0 };
        for (const g of groups<SigGroup>(file)) {
          const key = await subtle.importKey(
            'spki',
            Buffer.from(g.publicKeyDer, 'hex'),
            { name: alg, hash: SHA[g.sha]! },
            false,
            ['verify'],
          );
          const params = alg === 'RSA-PSS' ? { name: alg, saltLength: g.sLen ?? 32 } : { name: alg };
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
              if ((error as { code?: string }).code === 'unsupported') {
                counts.unsupported++;
                continue;
              }
              verdict = false;
            }
            if (t.result === 'valid' && !verdict) throw new Error(`tcId ${t.tcId}: valid signature rejected`);
            if (t.result === 'invalid' && verdict)
              throw new Error(`tcId ${t.tcId}: invalid signature accepted`);
            counts[t.result as 'valid' | 'invalid' | 'acceptable']++;
          }
        }
        return `${counts.valid} valid accepted, ${counts.invalid} invalid rejected, ${counts.acceptable} acceptable, ${counts.unsupported} unsupported; 0 failures`;
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

/**
 * After a non-extractable import through the keyring, no string form of the
 * private key is on the JS heap (the snapshot is taken after a full GC). A JWK
 * the test still holds (the Wycheproof OAEP key, parsed from its file) is the
 * control the same scan must find.
 */
async function secrecy(report: Report, key: KeyObject): Promise<void> {
  await report.run('keyring key-handle secrecy (heap snapshot)', async () => {
    // Only the keyring: an accelerator with the software device did not close after a heap snapshot (seen on
    // node 20: accel.close() never settled), which is not what this case is about.
    const accel = await openAccelerator({ devices: ['keyring:@u'] });
    try {
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
      if (found.length > 0)
        throw new Error(`still on the heap: ${found.join(', ')} of the imported private key`);
      return `snapshot ${(text.length / 1e6).toFixed(1)} MB: the control JWK found (3/3); the imported key's d, p, q (base64url) and d (hex) absent (0/4); the held key signs (node verifies)`;
    } finally {
      await accel.close();
    }
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
  const accel = await openAccelerator({ devices: ['keyring:@u', 'software'] });
  try {
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
  } finally {
    await accel.close();
    try {
      keyctl.setPerm(serial, 0x3f3f0000);
    } catch {}
    try {
      keyctl.invalidate(serial);
    } catch {}
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
  )
    await measureRow(report, 'software', software!, key, 'SHA-256');
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
    await report.run(
      'kernel-generic ran on',
      async () =>
        `rsa: ${cryptoDrivers('rsa').join(' / ')}; pkcs1pad(rsa,sha256): ${cryptoDrivers('pkcs1pad(rsa,sha256)').join(' / ')}`,
    );
    await kernel.close();
    await wycheproof(report);
    phase('wycheproof');
    await secrecy(report, key);
    phase('secrecy');
    await permissions(report, key);
    phase('permissions');
  }

  // The in-process user-space driver on the device (uio), then hand the device to the kernel.
  await report.run('bind uio', () => bindUio(fn));
  let pci: Device | undefined;
  if (
    await report.run('user-space open', async () => {
      pci = await defaultRegistry.open(`pci:${fn.address}?mode=uio`);
      return pci.info.model;
    })
  )
    await measureRow(report, 'user-space', pci!, key, 'SHA-256');
  await pci?.close();
  phase('user-space');

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
    const ran = await measureRow(report, 'kernel-virtio', virtio, key, 'SHA-256', true);
    const after = virtioInterrupts();
    const refused = [...((virtio as { refused?: Map<string, string> }).refused ?? new Map()).values()];
    report.record(
      'kernel-virtio: where the work ran',
      true,
      `${ran ? 'ran' : `refused (${refused.join('; ').slice(0, 100)})`}; pkcs1pad(rsa,sha256) → ${cryptoDrivers('pkcs1pad(rsa,sha256)').join(' / ')}; ` +
        `virtio-crypto interrupts +${after - before}; virtio entries: ${virtioCryptoEntries().join(' / ')}`,
    );
    await report.run('kernel-virtio enc=pkcs1 without hash (pkcs1pad(rsa): virtio-pkcs1-rsa)', async () => {
      // keyctl with enc=pkcs1 and no hash= builds pkcs1pad(rsa), which virtio_crypto registers itself (prio 150):
      // the input is DigestInfo ‖ digest, the signature a standard PKCS#1 v1.5 one. Does the device sign it?
      const keyctl = new Keyctl();
      const serial = keyctl.addKey(
        'asymmetric',
        `pkaccel-e2e-nohash-${process.pid}`,
        key.export({ format: 'der', type: 'pkcs8' }),
        -2,
      );
      keyctl.setPerm(serial, 0x3f3f0000);
      const message = Buffer.from('no hash');
      const d = digest('SHA-256', message);
      const info = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), d]);
      const before = virtioInterrupts();
      try {
        const signature = await keyctl.sign(serial, 'enc=pkcs1', info, 256).then(
          (s) => Buffer.from(s),
          (e: Error) => e,
        );
        const after = virtioInterrupts();
        const where = `pkcs1pad(rsa) → ${cryptoDrivers('pkcs1pad(rsa)').join(' / ')}; virtio-crypto interrupts +${after - before}`;
        if (signature instanceof Error) return `refused: ${signature.message.slice(0, 120)}; ${where}`;
        if (!nodeVerify('sha256', message, key, signature)) throw new Error(`a wrong signature; ${where}`);
        return `signed, node verifies; ${where}`;
      } finally {
        keyctl.invalidate(serial);
      }
    });
    await report.run('kernel-virtio enc=pkcs1 encrypt/decrypt (RSAES-PKCS1-v1_5 on the device)', async () => {
      // The one keyctl path the kernel gives the device here: pkcs1pad(rsa) without a hash is virtio_crypto's own
      // (virtio-pkcs1-rsa, padding done by the device). RSAES-PKCS1-v1_5 is no pkaccel primitive (padding oracles):
      // this case only proves the kernel's keyctl work reached the device, and counts it.
      const keyctl = new Keyctl();
      const serial = keyctl.addKey(
        'asymmetric',
        `pkaccel-e2e-enc-${process.pid}`,
        key.export({ format: 'der', type: 'pkcs8' }),
        -2,
      );
      keyctl.setPerm(serial, 0x3f3f0000);
      try {
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
        let n = 0;
        const start = performance.now();
        while (performance.now() - start < SECONDS * 1000) {
          await keyctl.encrypt(serial, 'enc=pkcs1', plain, 256);
          n++;
        }
        const rate = n / ((performance.now() - start) / 1000);
        const interrupts = virtioInterrupts() - before;
        report.figure('kernel-virtio pkcs1-encrypt x1', rate, 'ops/s');
        if (interrupts < n)
          throw new Error(`${n + 2} operations but only ${interrupts} virtio-crypto interrupts`);
        return `the kernel's ciphertext opens (node, raw) to 00 02 PS 00 message, the kernel decrypts it back; ${rate.toFixed(1)} encrypt/s; ${n + 2} operations, +${interrupts} virtio-crypto interrupts; pkcs1pad(rsa) → ${cryptoDrivers('pkcs1pad(rsa)').join(' / ')}`;
      } finally {
        keyctl.invalidate(serial);
      }
    });
    await virtio.close();
  }
  console.log(`E2E-TABLE-BEGIN\n${table()}\nE2E-TABLE-END`);
}
