/**
 * `npm run bench -- pkcs11` (issue 17, measurements): what serving keys over
 * p11-kit's protocol costs stock consumers, against baselines of the same run.
 *
 * 1. C_Sign round trips through p11-kit-client.so at low load (one signature at
 *    a time): a small Python driver (Debian's python3-pykcs11, C_SignInit +
 *    C_Sign into one signature buffer sized up front and made once — the two
 *    calls libp11 makes per signature; and one C_GetSessionInfo, a round trip
 *    with no crypto)
 *    vs the broker's native `broker:` client signing with the same named key on
 *    the same card, one at a time, with its own integrity gate (what an
 *    application gets) and without it (the transport and the broker alone, the
 *    baseline of "added p50": the PKCS#11 path's gate runs in the broker, as the
 *    native path's broker-side gate does), in interleaved rounds (5; 2 with --quick)
 *    whose medians are shown. Goal: added p50 ≤ 100 µs. Then 4 at once: 4 driver
 *    processes (4 connections) vs 4 in flight through one native client.
 * 2. TLS handshakes/s served by Node's https (full handshakes: no session reuse,
 *    TLS 1.3, a closed loop of `CLIENTS` connections from this process) with the
 *    key in pkaccel (privateKeyEngine through libp11 → p11-kit → broker → card)
 *    vs the same key as a PEM in Node, RSA-2048 and RSA-4096, one Node process
 *    and a `cluster` of 2 and 4. Per handshake: the Node event loops' busy µs,
 *    the TLS server processes' CPU µs, their difference (a loop blocked in the
 *    synchronous engine call, waiting for the broker, on a loaded machine also
 *    waiting for a CPU), and the broker's CPU µs (the simulated card computes in
 *    the broker's process). Ratio: handshakes/s ÷ the PEM key's with as many
 *    Node processes.
 *
 * The card is `sim:ring` with its real engine: TLS clients check every
 * signature, and the timed/null engines answer fixed values (the gate rejects
 * them; a handshake cannot complete). For RSA-4096 a third place: the same key
 * behind a second broker whose card runs real engines on a schedule declared
 * far faster than the host's software signing (`sim:ring?engine=real&rate=2000`,
 * MODELED_CARD). That schedule is a ceiling, not a speed: the model's one
 * thread computes every signature with the host's OpenSSL, on the host's CPUs.
 * What the rows show is what an offload card changes: the signing leaves the
 * TLS server's CPU (server µs/handshake) for a thread beside it, bounded by that
 * thread's compute and by the CPUs left (on 2 CPUs the TLS process, the broker
 * and the load generator share them), and each handshake blocks its event loop
 * for one round trip (handshakes/s of one process vs a cluster).
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { measure } from '../cli/speed/measure.js';
import { GATE_OFF, type IntegrityOptions } from '../core/integrity/options.js';
import { openAccelerator } from '../index.js';
import { type KeySpec, type Pkcs11Broker, startPkcs11Broker } from '../test/pkcs11/support/broker.js';
import { handshake, type NodeHttpsServer, startNodeHttps } from '../test/pkcs11/support/node-https.js';
import { runOk, runTool } from '../test/pkcs11/support/process.js';
import { selfSignedArgs } from '../test/pkcs11/support/tls.js';
import { missingTools, P11_KIT_CLIENT } from '../test/pkcs11/support/tools.js';
import type { Bench, BenchContext, BenchRow } from './lib/types.js';

const CLIENTS = 8;
/** Debian's python3-pykcs11 is installed for Debian's python (a pyenv python3 first on PATH would not see it). */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** The C_Sign driver: PyKCS11's low-level calls, so each signature is exactly C_SignInit + C_Sign. */
const PYTHON_DRIVER = `
import json, sys, time
import PyKCS11
from PyKCS11 import LowLevel as LL
module, label, kind, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
lib = PyKCS11.PyKCS11Lib()
lib.load(module)
session = lib.openSession(lib.getSlotList(tokenPresent=True)[0], PyKCS11.CKF_SERIAL_SESSION)
if len(sys.argv) > 5: session.login(sys.argv[5])
key = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_LABEL, label)])[0]
if kind == 'ec':
    mech, data, size = PyKCS11.Mechanism(PyKCS11.CKM_ECDSA), bytes(range(32)), 64
else:
    # DigestInfo(SHA-256) || hash: what TLS 1.2 signs with CKM_RSA_PKCS
    prefix = bytes.fromhex('3031300d060960864801650304020105000420')
    mech, data, size = PyKCS11.Mechanism(PyKCS11.CKM_RSA_PKCS), prefix + bytes(range(32)), int(kind)
raw, mech_native, data_native = session.lib, mech.to_native(), PyKCS11.ckbytelist(data)
# One output buffer for every signature, as a C caller passes the same array: making a ckbytelist
# of 256 elements in Python costs tens of µs (more than a p11-kit round trip), none of it PKCS#11's.
out = PyKCS11.ckbytelist([0] * size)
def sign():
    rv = raw.C_SignInit(session.session, mech_native, key)
    if rv != 0: raise PyKCS11.PyKCS11Error(rv)
    rv = raw.C_Sign(session.session, data_native, out)
    if rv != 0: raise PyKCS11.PyKCS11Error(rv)
    if len(out) != size: raise RuntimeError(f"a signature of {len(out)} bytes, not {size}")
for _ in range(20): sign()
lat = []
start = time.perf_counter()
while time.perf_counter() - start < seconds:
    t0 = time.perf_counter_ns()
    sign()
    lat.append((time.perf_counter_ns() - t0) / 1000)
elapsed = time.perf_counter() - start
lat.sort()
rpc = []
info = LL.CK_SESSION_INFO()
for _ in range(500):
    t0 = time.perf_counter_ns()
    rv = raw.C_GetSessionInfo(session.session, info)
    rpc.append((time.perf_counter_ns() - t0) / 1000)
    if rv != 0: raise PyKCS11.PyKCS11Error(rv)
rpc.sort()
print(json.dumps({"ops": len(lat), "seconds": elapsed, "p50Us": lat[len(lat) // 2], "p99Us": lat[min(len(lat) - 1, int(len(lat) * 0.99))], "rpcP50Us": rpc[len(rpc) // 2]}))
`;

/** CPU seconds (user + system, all threads) of `pid` and its child processes (cluster workers), from /proc. */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name: state ppid … utime(12th) stime(13th).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(entry) === pid || Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100; // USER_HZ
}

const round = (x: number) => Math.round(x * 10) / 10;

interface SignFigures {
  readonly opsPerSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** p11 only: one C_GetSessionInfo round trip (no crypto), p50. */
  readonly rpcP50Us?: number;
}

const SIGNERS = [
  ['ec', 'ec', { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }],
  ['rsa2048', '256', { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }],
] as const;

/** The broker's native client with a named key open (`gate`: the client's own integrity checks). */
interface NativeSigner {
  /** `clients` signatures in flight for `seconds`. */
  run(seconds: number, clients?: number): Promise<SignFigures>;
  close(): Promise<void>;
}

async function nativeSigner(
  broker: Pkcs11Broker,
  signer: (typeof SIGNERS)[number],
  gate: boolean,
): Promise<NativeSigner> {
  const [label, , algorithm] = signer;
  const accel = await openAccelerator({
    devices: [`broker:${broker.brokerSocket}`],
    // A fixed stall limit: a learned one can judge a loaded machine's slow first answers a stall.
    queue: {
      stallTimeoutMs: 60_000,
      ...(gate ? {} : { integrity: { [GATE_OFF]: true } as IntegrityOptions }),
    },
  });
  const { privateKey } = await accel.keys.open(label, algorithm, ['sign']);
  const data = new Uint8Array(64);
  const run = async (seconds: number, clients = 1): Promise<SignFigures> => {
    const m = await measure(() => accel.subtle.sign(algorithm, privateKey, data), {
      seconds,
      concurrency: clients,
    });
    if (m.firstError !== undefined) throw new Error(`broker: sign ${label}: ${m.firstError}`);
    return { opsPerSecond: m.opsPerSecond, p50Us: m.latencyMs.p50 * 1000, p99Us: m.latencyMs.p99 * 1000 };
  };
  await run(0.2); // warm: the client's queue learns the broker's rate, the card has the key
  return { run, close: () => accel.close() };
}

/** One signature at a time through p11-kit-client.so (the Python driver above). */
async function p11Sign(
  broker: Pkcs11Broker,
  signer: (typeof SIGNERS)[number],
  seconds: number,
): Promise<SignFigures> {
  const [label, kind] = signer;
  const out = await runOk(PYTHON, ['-c', PYTHON_DRIVER, P11_KIT_CLIENT, label, kind, String(seconds)], {
    env: broker.env,
    timeoutMs: 120_000,
  });
  const r = JSON.parse(out.stdout.trim().split('\n').pop()!) as {
    ops: number;
    seconds: number;
    p50Us: number;
    p99Us: number;
    rpcP50Us: number;
  };
  return { opsPerSecond: r.ops / r.seconds, p50Us: r.p50Us, p99Us: r.p99Us, rpcP50Us: r.rpcP50Us };
}

/**
 * A measurement that failed becomes a row saying why (the broker's last lines
 * with it), and the card gets a moment to recover before the next one: on a
 * loaded machine the broker's queue can judge its card stalled and reset it.
 */
async function errorRow(name: string, error: unknown, broker: Pkcs11Broker): Promise<BenchRow> {
  const why = error instanceof Error ? error.message : String(error);
  console.error(`  ${name}: ${why}\n  broker log:\n  ${broker.service.log.slice(-10).join('\n  ')}`);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  return { name, error: why.slice(0, 200), load1: round(loadavg()[0]!) };
}

/** The middle value (the upper one of an even count). */
function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** Figures of several measurements: the median of each. */
function medianOf(all: readonly SignFigures[]): SignFigures {
  const rpc = all.flatMap((f) => (f.rpcP50Us === undefined ? [] : [f.rpcP50Us]));
  return {
    opsPerSecond: median(all.map((f) => f.opsPerSecond)),
    p50Us: median(all.map((f) => f.p50Us)),
    p99Us: median(all.map((f) => f.p99Us)),
    ...(rpc.length === 0 ? {} : { rpcP50Us: median(rpc) }),
  };
}

async function csignRows(ctx: BenchContext, broker: Pkcs11Broker, seconds: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const python = await runTool(PYTHON, ['-c', 'import PyKCS11']);
  const rounds = seconds >= 2 ? 5 : 2;
  const row = (name: string, f: SignFigures, added?: number): BenchRow => ({
    name,
    'ops/s': f.opsPerSecond,
    'p50 µs': f.p50Us,
    'p99 µs': f.p99Us,
    'added p50 µs': added ?? null,
    '1 RPC p50 µs': f.rpcP50Us ?? null,
    load1: round(loadavg()[0]!),
  });
  for (const signer of SIGNERS) {
    const label = signer[0];
    try {
      ctx.log(`C_Sign ${label}: broker: client`);
      const gatedSigner = await nativeSigner(broker, signer, true);
      rows.push(
        row(`sign ${label}, broker: client (its own gate on), 1 in flight`, await gatedSigner.run(seconds)),
      );
      await gatedSigner.close();
      if (python.code !== 0) {
        rows.push({ name: `sign ${label}, p11-kit-client.so`, skipped: 'apt-get install python3-pykcs11' });
        continue;
      }
      const native = await nativeSigner(broker, signer, false);
      // Interleaved rounds (native, then PKCS#11): the loaded machine's drift hits both alike. Each
      // figure is the median over the rounds; "added p50" the median of the rounds' differences.
      const bare: SignFigures[] = [];
      const p11: SignFigures[] = [];
      for (let i = 0; i < rounds; i++) {
        ctx.log(`C_Sign ${label}: round ${i + 1} of ${rounds}, broker: client then p11-kit-client.so`);
        bare.push(await native.run(seconds / rounds));
        p11.push(await p11Sign(broker, signer, seconds / rounds));
      }
      const added = median(p11.map((f, i) => f.p50Us - bare[i]!.p50Us));
      rows.push(
        row(`sign ${label}, broker: client (client gate off), 1 in flight, ${rounds} rounds`, medianOf(bare)),
      );
      rows.push(
        row(
          `sign ${label}, p11-kit-client.so (C_SignInit + C_Sign), 1 in flight, ${rounds} rounds`,
          medianOf(p11),
          added,
        ),
      );
      // Connections run concurrently through the broker's queue: 4 driver processes vs 4 in flight natively.
      ctx.log(`C_Sign ${label}: 4 at once`);
      const bare4 = await native.run(seconds, 4);
      await native.close();
      rows.push(row(`sign ${label}, broker: client (client gate off), 4 in flight`, bare4));
      const four = await Promise.all([0, 1, 2, 3].map(() => p11Sign(broker, signer, seconds)));
      const together = { ...medianOf(four), opsPerSecond: four.reduce((a, f) => a + f.opsPerSecond, 0) };
      rows.push(
        row(
          `sign ${label}, p11-kit-client.so, 4 processes at once (ops/s summed, percentiles: median of 4)`,
          together,
          together.p50Us - bare4.p50Us,
        ),
      );
    } catch (error) {
      rows.push(await errorRow(`sign ${label}`, error, broker));
    }
  }
  return rows;
}

/**
 * The card of the modeled rows: real engines (TLS clients check every signature) on a schedule
 * declared far faster than the host's software signing (simulator/engines.ts). The schedule is a
 * ceiling: the model's one thread computes each signature with the host's OpenSSL (RSA-4096: one
 * core's ~100–200/s), so the card is as fast as that thread, beside the TLS process.
 */
const MODELED_RATE = 2000;
const MODELED_CARD = `sim:ring?engine=real&rate=${MODELED_RATE}`;

/** Where a handshake's key is: a PEM in Node, or the engine → broker → card (sim:ring, or the modeled card). */
interface KeyPlace {
  readonly where: string;
  readonly broker?: Pkcs11Broker;
}

async function tlsRows(
  ctx: BenchContext,
  broker: Pkcs11Broker,
  modeled: Pkcs11Broker,
  seconds: number,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const label of ['rsa2048', 'rsa4096']) {
    const key = broker.keys[label]!;
    const pem = join(broker.dir, `${label}.pem`);
    writeFileSync(pem, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const cert = join(broker.dir, `${label}-cert.pem`);
    await runOk('openssl', selfSignedArgs(['-key', pem], '/CN=localhost', cert));
    const ca = readFileSync(cert);
    const places: KeyPlace[] = [
      { where: 'PEM in Node' },
      { where: 'engine → broker', broker },
      // The same key on the card modeled faster than the host (RSA-4096: where signing dominates).
      ...(label === 'rsa4096'
        ? [{ where: `engine → broker, card modeled at ${MODELED_RATE}/s`, broker: modeled }]
        : []),
    ];
    for (const workers of [1, 2, 4]) {
      let pemRate = 0;
      for (const { where, broker: signer } of places) {
        const env =
          signer === undefined
            ? { PATH: process.env.PATH, KEY_PEM: pem, CERT: cert }
            : { ...signer.env, KEY_URI: signer.keys[label]!.uri, CERT: cert };
        ctx.log(`TLS ${label} ${where}, ${workers} process(es)`);
        const name = `TLS 1.3 ${label}, ${where}, ${workers} Node process${workers > 1 ? 'es (cluster)' : ''}`;
        let server: NodeHttpsServer | undefined;
        try {
          server = await startNodeHttps(broker.dir, env, workers);
          const port = server.port;
          await measure(() => handshake(port, ca), { seconds: 0.3, concurrency: CLIENTS });
          const busy0 = await server.busy();
          const serverCpu0 = cpuSeconds(server.child.pid!);
          const brokerCpu0 = cpuSeconds((signer ?? broker).service.child.pid!);
          const m = await measure(() => handshake(port, ca), { seconds, concurrency: CLIENTS });
          if (m.firstError !== undefined) throw new Error(`TLS ${label} ${where}: ${m.firstError}`);
          const serverCpu = cpuSeconds(server.child.pid!) - serverCpu0;
          const brokerCpu = cpuSeconds((signer ?? broker).service.child.pid!) - brokerCpu0;
          const busy1 = await server.busy();
          // Handshakes the clients completed in the window (the server's own count misses those a
          // client closes before its TLS 1.3 Finished arrives; the signature was made all the same).
          const served = m.ops;
          const busyUs = ((busy1 - busy0) * 1000) / served;
          const cpuUs = (serverCpu * 1e6) / served;
          if (signer === undefined) pemRate = m.opsPerSecond;
          rows.push({
            name,
            'handshakes/s': m.opsPerSecond,
            'p50 ms': m.latencyMs.p50,
            'p99 ms': m.latencyMs.p99,
            'loop busy µs/hs': busyUs,
            'server CPU µs/hs': cpuUs,
            'loop waiting µs/hs': Math.max(0, busyUs - cpuUs),
            'broker CPU µs/hs': (brokerCpu * 1e6) / served,
            'ratio to PEM': m.opsPerSecond / pemRate,
            load1: round(loadavg()[0]!),
          });
        } catch (error) {
          rows.push(await errorRow(name, error, signer ?? broker));
        } finally {
          if (server !== undefined) await server.stop();
        }
      }
    }
  }
  return rows;
}

const KEYS: readonly KeySpec[] = [
  { name: 'ec', type: 'ec', curve: 'P-256' },
  { name: 'rsa2048', type: 'rsa', bits: 2048 },
  { name: 'rsa4096', type: 'rsa', bits: 4096 },
];

/**
 * PKACCEL_BENCH_PKCS11_PARTS=sign or =tls runs only the C_Sign rows or only the TLS rows (the
 * C_Sign goal alone takes a minute; the TLS rows several). Default: both.
 */
function parts(env: NodeJS.ProcessEnv = process.env): { sign: boolean; tls: boolean } {
  const wanted = env.PKACCEL_BENCH_PKCS11_PARTS?.split(',').map((p) => p.trim()) ?? ['sign', 'tls'];
  const unknown = wanted.filter((p) => p !== 'sign' && p !== 'tls');
  if (unknown.length > 0)
    throw new Error(`PKACCEL_BENCH_PKCS11_PARTS: unknown part ${unknown.join(', ')} (sign, tls)`);
  return { sign: wanted.includes('sign'), tls: wanted.includes('tls') };
}

const bench: Bench = async (ctx) => {
  const skipped = missingTools('bench pkcs11', ['p11-kit-client.so', 'libp11 engine', 'openssl']);
  if (skipped !== undefined) return [{ name: 'pkcs11', skipped }];
  const run = parts();
  const seconds = ctx.quick ? 1 : 4;
  // The card alone: every signature is the simulated card's (the software device is not opened).
  const broker = await startPkcs11Broker({ devices: 'sim:ring', keys: KEYS });
  let modeled: Pkcs11Broker | undefined;
  try {
    // A second broker over the modeled card with the same RSA-4096 key (idle until its rows).
    modeled = await startPkcs11Broker({ devices: MODELED_CARD, reuseKeys: [broker.keys.rsa4096!] });
    ctx.log(`broker ${broker.pkcs11Socket} (sim:ring), load average ${loadavg().map(round).join(' ')}`);
    return [
      ...(run.sign ? await csignRows(ctx, broker, seconds) : []),
      ...(run.tls ? await tlsRows(ctx, broker, modeled, seconds) : []),
    ];
  } finally {
    await modeled?.close();
    await broker.close();
  }
};

export default bench;
