/**
 * The fault matrix (issue 11): every simulator fault kind × the operations an
 * application runs × the simulated cards, alone and with the software provider
 * beside them, at several rates and seeds. Every result is checked with
 * node:crypto; the table counts jobs, correct results, errors by class and wrong
 * results (which must be 0 with the default integrity policy).
 */
import {
  constants,
  createECDH,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
  type webcrypto,
} from 'node:crypto';
import type { QueueOptions } from '../../core/queue/options.js';
import { type Accelerator, type OpenAcceleratorOptions, openAccelerator } from '../../index.js';
import { rsaMaterial } from '../support/keys.js';

export const FAULTS = [
  'error',
  'drop',
  'duplicate',
  'delay',
  'corrupt',
  'hang',
  'remove',
  'garbage',
] as const;
export const OPS = [
  'rsa-pkcs1-sign',
  'rsa-pss-sign',
  'rsa-oaep-decrypt',
  'ecdsa-sign',
  'ecdsa-verify',
  'ecdh',
  'raw-private',
] as const;
export type Fault = (typeof FAULTS)[number];
export type Op = (typeof OPS)[number];

/** Keys made once: node KeyObjects to check with, JWKs to import into the accelerator. */
export function makeKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaJwk = rsa.privateKey.export({ format: 'jwk' }) as webcrypto.JsonWebKey;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecJwk = ec.privateKey.export({ format: 'jwk' }) as webcrypto.JsonWebKey;
  const peer = createECDH('prime256v1');
  peer.generateKeys();
  const material = rsaMaterial(rsa.privateKey);
  return { rsa, rsaJwk, ec, ecJwk, peer, material };
}
export type Keys = ReturnType<typeof makeKeys>;

/** What came back, per job. */
export type Outcome = 'correct' | 'wrong' | 'unsettled' | string; // string: the error's class name

export interface CellResult {
  readonly card: string;
  readonly beside: boolean;
  readonly fault: Fault;
  readonly rate: number;
  readonly seed: number;
  readonly outcomes: Record<Op, Outcome[]>;
  /** Queue counters: settlements the queue counted minus jobs it accepted (0 = each settled once). */
  readonly settleImbalance: number;
  readonly integrityFaults: number;
  /** The first few error messages, for the report. */
  readonly messages: readonly string[];
}

function peerJwk(keys: Keys): webcrypto.JsonWebKey {
  const raw = keys.peer.getPublicKey();
  return {
    kty: 'EC',
    crv: 'P-256',
    x: Buffer.from(raw.subarray(1, 33)).toString('base64url'),
    y: Buffer.from(raw.subarray(33, 65)).toString('base64url'),
  };
}

async function importAll(accel: Accelerator, keys: Keys) {
  const s = accel.subtle;
  const { d: _d, ...ecPublic } = keys.ecJwk as Record<string, string>;
  const pkcs1 = await s.importKey('jwk', keys.rsaJwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const pss = await s.importKey('jwk', keys.rsaJwk, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign']);
  const oaep = await s.importKey(
    'jwk',
    { ...keys.rsaJwk, alg: undefined },
    { name: 'RSA-OAEP', hash: 'SHA-256' },
    false,
    ['decrypt'],
  );
  const ecdsa = await s.importKey('jwk', keys.ecJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const ecdsaPublic = await s.importKey('jwk', ecPublic, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'verify',
  ]);
  const ecdh = await s.importKey('jwk', keys.ecJwk, { name: 'ECDH', namedCurve: 'P-256' }, false, [
    'deriveBits',
  ]);
  const peer = await s.importKey('jwk', peerJwk(keys), { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  return { pkcs1, pss, oaep, ecdsa, ecdsaPublic, ecdh, peer };
}

type Imported = Awaited<ReturnType<typeof importAll>>;

/** One job of `op`: run it, check its result with node:crypto. */
async function runOne(accel: Accelerator, keys: Keys, k: Imported, op: Op, i: number): Promise<Outcome> {
  const s = accel.subtle;
  const msg = new Uint8Array([i, i >> 8, 0x5a, ...randomBytes(8)]);
  switch (op) {
    case 'rsa-pkcs1-sign': {
      const sig = new Uint8Array(await s.sign({ name: 'RSASSA-PKCS1-v1_5' }, k.pkcs1, msg));
      return verify('sha256', msg, keys.rsa.publicKey, sig) ? 'correct' : 'wrong';
    }
    case 'rsa-pss-sign': {
      const sig = new Uint8Array(await s.sign({ name: 'RSA-PSS', saltLength: 32 }, k.pss, msg));
      const ok = verify(
        'sha256',
        msg,
        { key: keys.rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        sig,
      );
      return ok ? 'correct' : 'wrong';
    }
    case 'rsa-oaep-decrypt': {
      const ct = publicEncrypt(
        { key: keys.rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        msg,
      );
      const pt = new Uint8Array(await s.decrypt({ name: 'RSA-OAEP' }, k.oaep, ct));
      return Buffer.from(pt).equals(Buffer.from(msg)) ? 'correct' : 'wrong';
    }
    case 'ecdsa-sign': {
      const sig = new Uint8Array(await s.sign({ name: 'ECDSA', hash: 'SHA-256' }, k.ecdsa, msg));
      return verify('sha256', msg, { key: keys.ec.publicKey, dsaEncoding: 'ieee-p1363' }, sig)
        ? 'correct'
        : 'wrong';
    }
    case 'ecdsa-verify': {
      // Half valid signatures, half random (forged) ones.
      let sig: Uint8Array;
      if (i % 2 === 0) {
        sig = new Uint8Array(sign('sha256', msg, { key: keys.ec.privateKey, dsaEncoding: 'ieee-p1363' }));
      } else {
        sig = new Uint8Array(randomBytes(64));
        sig[0]! &= 0x7f;
        sig[32]! &= 0x7f;
      }
      const expected = verify('sha256', msg, { key: keys.ec.publicKey, dsaEncoding: 'ieee-p1363' }, sig);
      const verdict = await s.verify({ name: 'ECDSA', hash: 'SHA-256' }, k.ecdsaPublic, sig, msg);
      return verdict === expected ? 'correct' : 'wrong';
    }
    case 'ecdh': {
      const bits = new Uint8Array(await s.deriveBits({ name: 'ECDH', public: k.peer }, k.ecdh, 256));
      const expected = keys.peer.computeSecret(
        Buffer.concat([
          Buffer.of(4),
          Buffer.from(keys.ecJwk.x!, 'base64url'),
          Buffer.from(keys.ecJwk.y!, 'base64url'),
        ]),
      );
      return Buffer.from(bits).equals(expected) ? 'correct' : 'wrong';
    }
    case 'raw-private': {
      const input = new Uint8Array(256);
      input.set(randomBytes(255), 1);
      const out = await accel.queue.submit({ op: 'rsa-private', key: keys.material, input });
      const expected = privateDecrypt({ key: keys.rsa.privateKey, padding: constants.RSA_NO_PADDING }, input);
      return Buffer.from(out).equals(expected) ? 'correct' : 'wrong';
    }
  }
}

export interface CellSpec {
  readonly card: 'ring' | 'window';
  readonly beside: boolean;
  readonly fault: Fault;
  readonly rate: number;
  readonly seed: number;
  readonly jobs: number;
  /** Queue options; default options when the healthy software device is beside the card. */
  readonly queue?: QueueOptions;
  /** A job that has not settled after this long counts as unsettled. */
  readonly guardMs: number;
  /** How the cell's accelerator is opened (default openAccelerator; test/broker puts a broker in front of the card). */
  readonly open?: (options: OpenAcceleratorOptions) => Promise<Accelerator>;
}

export async function runCell(keys: Keys, spec: CellSpec): Promise<CellResult> {
  const devices = [`sim:${spec.card}?faults=${spec.fault}:${spec.rate}&seed=${spec.seed}&delayms=20`];
  if (spec.beside) devices.push('software');
  const accel = await (spec.open ?? openAccelerator)({
    devices,
    ...(spec.queue === undefined ? {} : { queue: spec.queue }),
  });
  let integrityFaults = 0;
  const sub = accel.events$.subscribe((e) => {
    if (e.type === 'integrity-fault') integrityFaults++;
  });
  const messages: string[] = [];
  const outcomes = Object.fromEntries(OPS.map((op) => [op, [] as Outcome[]])) as Record<Op, Outcome[]>;
  try {
    const k = await importAll(accel, keys);
    const jobs: Promise<void>[] = [];
    for (const op of OPS) {
      for (let i = 0; i < spec.jobs; i++) {
        let timer: NodeJS.Timeout | undefined;
        const guard = new Promise<Outcome>((resolve) => {
          timer = setTimeout(() => resolve('unsettled'), spec.guardMs);
        });
        const job = runOne(accel, keys, k, op, i).catch((error: unknown) => {
          if (messages.length < 20)
            messages.push(
              `${op}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
            );
          return error instanceof Error ? error.name : 'non-error';
        });
        jobs.push(
          Promise.race([job, guard]).then((outcome) => {
            clearTimeout(timer);
            outcomes[op].push(outcome);
          }),
        );
      }
    }
    await Promise.all(jobs);
  } finally {
    sub.unsubscribe();
  }
  const totals = accel.queue.snapshot();
  await accel.close();
  const settled = totals.completed + totals.failed + totals.timedOut + totals.aborted;
  return {
    card: spec.card,
    beside: spec.beside,
    fault: spec.fault,
    rate: spec.rate,
    seed: spec.seed,
    outcomes,
    settleImbalance: settled - totals.submitted,
    integrityFaults,
    messages,
  };
}

/** The table: fault × op × setup, summed over rates and seeds. */
export function formatTable(cells: readonly CellResult[]): string {
  const rows = new Map<
    string,
    { jobs: number; correct: number; wrong: number; unsettled: number; errors: Map<string, number> }
  >();
  for (const cell of cells) {
    const setup = `${cell.card}${cell.beside ? '+software' : ''}`;
    for (const op of OPS) {
      const key = `${cell.fault}\t${op}\t${setup}`;
      let row = rows.get(key);
      if (row === undefined) {
        row = { jobs: 0, correct: 0, wrong: 0, unsettled: 0, errors: new Map() };
        rows.set(key, row);
      }
      for (const o of cell.outcomes[op]) {
        row.jobs++;
        if (o === 'correct') row.correct++;
        else if (o === 'wrong') row.wrong++;
        else if (o === 'unsettled') row.unsettled++;
        else row.errors.set(o, (row.errors.get(o) ?? 0) + 1);
      }
    }
  }
  const lines = ['fault      op                setup            jobs correct wrong unsettled errors'];
  for (const [key, row] of rows) {
    const [fault, op, setup] = key.split('\t');
    const errors = [...row.errors].map(([name, n]) => `${name.replace(/Error$/, '')}:${n}`).join(' ');
    lines.push(
      `${fault!.padEnd(10)} ${op!.padEnd(17)} ${setup!.padEnd(16)} ${String(row.jobs).padStart(4)} ${String(row.correct).padStart(7)} ${String(row.wrong).padStart(5)} ${String(row.unsettled).padStart(9)} ${errors}`,
    );
  }
  return lines.join('\n');
}
